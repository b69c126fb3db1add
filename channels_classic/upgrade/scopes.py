"""Which uses of a name refer to one binding: enough of Python's scoping rules to rename one.

``import channels`` binds the name ``channels``; porting it to ``import channels_classic``
means renaming the uses that refer to that import, and no others: a function parameter or a
local variable called ``channels`` (a common name for a list of channel names) must stay.
The rules are Python's: a name bound anywhere in a function is local to all of it unless
declared ``global`` or ``nonlocal``; class bodies are skipped when a nested function looks a
name up; comprehensions are scopes of their own, except that their first iterable and an
assignment expression's target belong to the enclosing scope.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(eq=False)
class Scope:
    """A module, function, class or comprehension body, and the names bound in it."""

    kind: str
    parent: Scope | None
    bound: set[str] = field(default_factory=set)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)

    def bind(self, name: str) -> None:
        if name not in self.global_names and name not in self.nonlocal_names:
            self.bound.add(name)

    def resolve(self, name: str) -> Scope:
        """The scope whose binding of ``name`` a use in this scope refers to."""
        scope: Scope = self
        while True:
            if scope.parent is None or name in scope.global_names:
                return scope.module()
            local = name in scope.bound and (scope.kind != "class" or scope is self)
            if local and name not in scope.nonlocal_names:
                return scope
            scope = scope.parent

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope


class _ScopeBuilder(ast.NodeVisitor):
    """Walks a module once: builds its scopes and notes the scope of every ``Name`` node
    (and every ``global``/``nonlocal`` statement) for ``name``, and of its imports."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.scope = Scope("module", None)
        self.uses: list[tuple[ast.Name | ast.Global | ast.Nonlocal, Scope]] = []
        self.imports: list[tuple[ast.alias, Scope]] = []

    def _in_scope(self, kind: str, nodes: Iterable[ast.AST]) -> Scope:
        outer, self.scope = self.scope, Scope(kind, self.scope)
        for node in nodes:
            self.visit(node)
        inner, self.scope = self.scope, outer
        return inner

    def _visit_all(self, nodes: Iterable[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            self.scope.bind(node.id)
        if node.id == self.name:
            self.uses.append((node, self.scope))

    def _declare(self, node: ast.Global | ast.Nonlocal, names: set[str]) -> None:
        names.update(node.names)
        self.scope.bound.difference_update(node.names)
        if self.name in node.names:
            self.uses.append((node, self.scope))

    def visit_Global(self, node: ast.Global) -> None:
        self._declare(node, self.scope.global_names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self._declare(node, self.scope.nonlocal_names)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            self.scope.bind(bound)
            if alias.asname is None and bound == self.name:
                self.imports.append((alias, self.scope))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.scope.bind(alias.asname or alias.name)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        arguments = node.args
        self._visit_all(arguments.defaults)
        self._visit_all(arguments.kw_defaults)
        every_argument = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        every_argument += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        body: list[ast.AST] = []
        if isinstance(node, ast.Lambda):
            body.append(node.body)
        else:
            self.scope.bind(node.name)
            self._visit_all(node.decorator_list)
            self._visit_all([a.annotation for a in every_argument])
            self._visit_all([node.returns])
            body.extend(node.body)
        function = self._in_scope("function", [])
        for argument in every_argument:
            function.bind(argument.arg)
        outer, self.scope = self.scope, function
        self._visit_all(body)
        self.scope = outer

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _visit_function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.bind(node.name)
        self._visit_all(node.decorator_list)
        self._visit_all(node.bases)
        self._visit_all(node.keywords)
        self._in_scope("class", node.body)

    def _visit_comprehension(self, node: ast.expr) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self.visit(generators[0].iter)
        parts: list[ast.AST] = []
        for number, generator in enumerate(generators):
            parts += [generator.target, *([generator.iter] if number else []), *generator.ifs]
        if isinstance(node, ast.DictComp):
            parts += [node.key, node.value]
        else:
            parts.append(node.elt)  # type: ignore[attr-defined]
        self._in_scope("comprehension", parts)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        target = self.scope
        while target.kind == "comprehension" and target.parent is not None:
            target = target.parent
        target.bind(node.target.id)
        if node.target.id == self.name:
            self.uses.append((node.target, target))

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.scope.bind(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self.scope.bind(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.scope.bind(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.scope.bind(node.rest)
        self.generic_visit(node)


def imported_module_uses(
    tree: ast.Module, name: str
) -> tuple[list[ast.alias], list[ast.Name | ast.Global | ast.Nonlocal]]:
    """The ``import name[.sub]`` aliases (without ``as``) of ``tree``, and every use of the
    name that refers to one of them (``name.attr`` loads, rebinding, ``global name``)."""
    builder = _ScopeBuilder(name)
    builder.visit(tree)
    import_scopes = {id(scope) for _, scope in builder.imports}
    uses = [node for node, scope in builder.uses if id(scope.resolve(name)) in import_scopes]
    return [alias for alias, _ in builder.imports], uses

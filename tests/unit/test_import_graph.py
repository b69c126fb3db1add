"""channels_classic's modules import one another without a circle: a module can be read,
tested and changed without pulling in the ones that import it.

Imports for type checking only (under ``if TYPE_CHECKING``) do not count. Imports inside
functions count too, so that no circle hides in a function; the only ones allowed are the
1.x paths that re-export, on first use, a name whose implementation builds on the module
that re-exports it (``ALLOWED``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import channels_classic

PACKAGE = Path(channels_classic.__file__).parent
#: Circles allowed, each a 1.x path re-exporting by ``__getattr__`` what builds on it.
ALLOWED = [
    {"channels_classic.sessions", "channels_classic.ordering"},  # sessions.enforce_ordering
    # generic.websockets.WebsocketDemultiplexer
    {"channels_classic.generic.websockets", "channels_classic.generic.multiplexing"},
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def type_checking_nodes(tree: ast.AST) -> set[int]:
    """The ids of the nodes under ``if TYPE_CHECKING:`` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def imports(module: str, *, inside_functions: bool) -> Iterator[str]:
    """The channels_classic modules ``module`` imports (at its top level, or anywhere)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    skipped = type_checking_nodes(tree)
    nodes = ast.walk(tree) if inside_functions else iter(tree.body)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in nodes:
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    yield f"{target}.{alias.name}"
                elif target in MODULES:
                    yield target


def circles(*, inside_functions: bool) -> list[set[str]]:
    """The strongly connected groups of two or more modules (Tarjan's algorithm)."""
    graph = {
        module: set(imports(module, inside_functions=inside_functions)) - {module}
        for module in MODULES
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(group)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_module_level_import_circle():
    """No module of channels_classic imports, at its top level, one that imports it back."""
    assert circles(inside_functions=False) == []


def test_no_circle_hides_in_a_function_but_the_1x_reexports():
    """Imports inside functions make no circle either, but for the 1.x paths that re-export
    names built on themselves."""
    assert sorted(map(sorted, circles(inside_functions=True))) == sorted(map(sorted, ALLOWED))


def test_the_checker_sees_circles():
    """The checker itself finds a circle where there is one (sessions and ordering, with
    function imports counted)."""
    assert {"channels_classic.sessions", "channels_classic.ordering"} in circles(
        inside_functions=True
    )

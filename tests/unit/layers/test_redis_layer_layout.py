"""The Redis layer's package keeps its shape: the layer on top, its pieces under it, the wire
part under them, and redis-py behind one adapter.

Unlike the import-graph test of the whole library, imports made only for type checking
count here: the pieces get a settings object, so none needs the layer's type either.
"""

from __future__ import annotations

import ast
from pathlib import Path

from channels_classic.layers import redis as redis_layer

PACKAGE = Path(redis_layer.__file__).parent
NAME = "channels_classic.layers.redis"
#: The only module of the package that may import redis-py or hiredis.
ADAPTER = f"{NAME}.wire.redis_py"


def module_name(path: Path) -> str:
    parts = [NAME, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported(module: str) -> set[str]:
    """Every module ``module`` imports, anywhere in it (functions, TYPE_CHECKING blocks),
    as absolute names: the package's own modules, or the top-level names of others."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - max(node.level - 1, 0)]
            target = ".".join([*base, node.module or ""]) if node.level else node.module or ""
            target = target.rstrip(".")
            for alias in node.names:
                found.add(
                    f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target
                )
    return found


def internal_graph() -> dict[str, set[str]]:
    return {module: imported(module) & set(MODULES) - {module} for module in MODULES}


def test_no_import_circle_inside_the_package():
    """No module of the Redis layer imports, in any way, one that imports it back."""
    graph = internal_graph()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for step in graph[start]:
            if step == goal or (step not in seen and reaches(step, goal, seen | {step})):
                return True
        return False

    assert [module for module in graph if reaches(module, module, set())] == []


def test_only_the_adapter_uses_redis_py():
    """redis-py and hiredis are imported by the adapter module and by nothing else here."""
    users = {
        module
        for module in MODULES
        if any(name.split(".")[0] in ("redis", "hiredis") for name in imported(module))
    }
    assert users == {ADAPTER}


def test_the_layer_object_is_imported_by_the_package_alone():
    """The pieces get settings, not the layer: only the package's __init__ imports it."""
    graph = internal_graph()
    assert {module for module, imports in graph.items() if f"{NAME}.layer" in imports} == {NAME}


def test_the_wire_part_knows_nothing_of_the_layer_above_it():
    """Modules under wire/ import only one another (and the library's exceptions)."""
    for module, imports in internal_graph().items():
        if module.startswith(f"{NAME}.wire"):
            assert {name for name in imports if not name.startswith(f"{NAME}.wire")} == set(), (
                module
            )


def test_the_checker_sees_imports_of_every_kind():
    """The import reader finds relative, TYPE_CHECKING and absolute imports (the listener's
    of the wire pipe, the adapter's of redis-py): the checks above are not vacuous."""
    assert f"{NAME}.wire.pipe" in imported(f"{NAME}.listener")
    assert "redis.sentinel" in imported(ADAPTER)
    assert f"{NAME}.layer" in imported(NAME)

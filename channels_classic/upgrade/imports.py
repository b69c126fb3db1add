"""``channels`` imports become ``channels_classic`` imports, in every form Python has.

The runtime keeps every 1.x module at the same path under ``channels_classic``, so the
rename is uniform: ``from channels.generic.websockets import X`` becomes ``from
channels_classic.generic.websockets import X``, ``import channels.routing as r`` keeps its
alias, and after ``import channels`` (which binds the name ``channels``) the uses of that
name are renamed too, those of the import only (see ``scopes``).

Channels 4 imports stay: a project that adds Channels 4 consumers beside its classic routes
(the way on to Channels 4) imports ``channels.layers``, ``channels.routing.URLRouter`` and
the like from the real ``channels`` package, and running the command again must not move
them. An import that takes names of both kinds from one module is reported, to be split.
"""

from __future__ import annotations

import ast
import re

from .scopes import imported_module_uses
from .source import Changes, Edit, PythonSource

OLD_PACKAGE = "channels"
NEW_PACKAGE = "channels_classic"

#: ``from`` and the package name after it (continuation lines allowed, as Python allows).
_FROM_PACKAGE = re.compile(r"from(?:[ \t\f]|\\\r?\n|\\\r)+(channels)\b")
_NAME = re.compile(rf"\b{OLD_PACKAGE}\b")

#: Modules that only Channels 4 has (1.x never had them).
CHANNELS4_MODULES = (
    "channels.consumer",
    "channels.db",
    "channels.generic.http",
    "channels.generic.websocket",
    "channels.layers",
    "channels.middleware",
    "channels.security.websocket",
    "channels.testing",
)
#: Names that only Channels 4 has, in the modules both have.
CHANNELS4_NAMES = {
    "channels.routing": {
        "ProtocolTypeRouter",
        "URLRouter",
        "ChannelNameRouter",
        "get_default_application",
    },
    "channels.auth": {
        "AuthMiddleware",
        "AuthMiddlewareStack",
        "UserLazyObject",
        "get_user",
        "login",
        "logout",
    },
    "channels.sessions": {
        "CookieMiddleware",
        "InstanceSessionWrapper",
        "SessionMiddleware",
        "SessionMiddlewareStack",
    },
    "channels.exceptions": {"AcceptConnection", "StopConsumer"},
}


def is_old_module(module: str | None) -> bool:
    """True for ``channels`` and its submodules (not ``channels_redis`` or ``channels_classic``)."""
    return module is not None and (module == OLD_PACKAGE or module.startswith(OLD_PACKAGE + "."))


def is_channels4_module(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in CHANNELS4_MODULES)


def _rename_at(source: PythonSource, start: int, changes: Changes, line: int) -> None:
    if source.text.startswith(OLD_PACKAGE, start):
        changes.edits.append(Edit(start, start + len(OLD_PACKAGE), NEW_PACKAGE))
    else:
        changes.problem(line, f"cannot find {OLD_PACKAGE!r} here: rename it by hand")


def _port_from_import(source: PythonSource, node: ast.ImportFrom, changes: Changes) -> None:
    module = node.module or ""
    if is_channels4_module(module):
        return
    names = {alias.name for alias in node.names}
    channels4 = names & CHANNELS4_NAMES.get(module, set())
    if channels4 == names:
        return
    if channels4:
        changes.problem(
            node.lineno,
            f"this import takes Channels 4 names ({', '.join(sorted(channels4))}) and 1.x "
            f"names from {module}: import the 1.x ones from {NEW_PACKAGE}"
            f"{module[len(OLD_PACKAGE) :]} on a line of their own",
        )
        return
    start, end = source.span(node)
    found = _FROM_PACKAGE.match(source.text, start, end)
    if found is None:
        changes.problem(node.lineno, f"cannot find {OLD_PACKAGE!r} here: rename it by hand")
    else:
        _rename_at(source, found.start(1), changes, node.lineno)


def port_imports(source: PythonSource, changes: Changes) -> None:
    """Edits every 1.x ``channels`` import of the file, and the uses of an imported
    ``channels``."""
    for node in ast.walk(source.tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and is_old_module(node.module):
            _port_from_import(source, node, changes)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                classic = is_old_module(alias.name) and not is_channels4_module(alias.name)
                if classic and alias.asname is not None:
                    _rename_at(source, source.span(alias)[0], changes, alias.lineno)
    aliases, uses = imported_module_uses(source.tree, OLD_PACKAGE)
    channels4 = [alias for alias in aliases if is_channels4_module(alias.name)]
    if channels4 and len(channels4) < len(aliases):
        changes.problem(
            channels4[0].lineno,
            f"'import {channels4[0].name}' (Channels 4) and 'import channels' of 1.x modules "
            f"bind the same name: write 'import {channels4[0].name} as ...' and run this again",
        )
    if channels4:
        return
    for alias in aliases:
        _rename_at(source, source.span(alias)[0], changes, alias.lineno)
    for use in uses:
        if isinstance(use, ast.Name):
            _rename_at(source, source.span(use)[0], changes, use.lineno)
        else:
            start, end = source.span(use)
            for found in _NAME.finditer(source.text, start, end):
                _rename_at(source, found.start(), changes, use.lineno)

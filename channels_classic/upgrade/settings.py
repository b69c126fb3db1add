"""Settings that need porting: app names, dotted paths, logger names, and layer checks.

A settings module is one that assigns ``INSTALLED_APPS`` or ``CHANNEL_LAYERS`` at its top
level (or adds to them, as split settings do); test code that overrides those two settings
(``override_settings(INSTALLED_APPS=...)``) is treated the same way for those values. In them:

- ``"channels"`` among the apps becomes ``"channels_classic"``;
- a dotted path into ``channels`` (``"channels.delay"``, ``"channels.apps.ChannelsConfig"``)
  becomes the same path into ``channels_classic``;
- a ``"django.channels"`` logger in ``LOGGING`` becomes ``"channels_classic"``, the logger
  the runtime's modules log under;
- ``BACKEND`` values are left alone: the runtime maps the 1.x names itself. Backends and
  options it refuses are reported, with the runtime's own reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ..layers.config import REFUSED_BACKENDS, REFUSED_KEYS
from .imports import NEW_PACKAGE, OLD_PACKAGE, is_channels4_module
from .source import Changes, PythonSource

#: Settings whose values this module ports.
PORTED_SETTINGS = ("INSTALLED_APPS", "CHANNEL_LAYERS")
#: Settings names that hold app lists (``THIRD_PARTY_APPS`` in split settings).
_APPS_NAME = re.compile(r"[A-Z0-9_]*APPS")
#: A dotted path into the 1.x package.
DOTTED_PATH = re.compile(rf"{OLD_PACKAGE}(\.[A-Za-z_][A-Za-z0-9_]*)+")
#: The logger 1.x's worker and commands logged under.
OLD_LOGGER = "django.channels"
_APP_LIST_METHODS = {"append", "insert", "extend", "remove", "index"}


def _assigned_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    else:
        return []
    return [target.id for target in targets if isinstance(target, ast.Name)]


def is_settings_module(tree: ast.Module) -> bool:
    """True when the module sets INSTALLED_APPS or CHANNEL_LAYERS at its top level."""
    return any(name in PORTED_SETTINGS for node in tree.body for name in _assigned_names(node))


def _app_values(tree: ast.Module, settings_module: bool) -> Iterator[ast.expr]:
    """The expressions that hold app names: in a settings module, what is assigned to
    ``*APPS`` names or passed to their list methods; anywhere, ``INSTALLED_APPS=`` values."""
    for node in ast.walk(tree):
        if settings_module and isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            names = _assigned_names(node)
            if node.value is not None and any(_APPS_NAME.fullmatch(name) for name in names):
                yield node.value
        elif isinstance(node, ast.Call):
            function = node.func
            if (
                settings_module
                and isinstance(function, ast.Attribute)
                and function.attr in _APP_LIST_METHODS
                and isinstance(function.value, ast.Name)
                and _APPS_NAME.fullmatch(function.value.id)
            ):
                yield from node.args
            for keyword in node.keywords:
                if keyword.arg == "INSTALLED_APPS":
                    yield keyword.value


def _setting_values(tree: ast.Module, settings_module: bool) -> Iterator[ast.AST]:
    """What this module ports: all of a settings module, else the values of
    ``INSTALLED_APPS=`` and ``CHANNEL_LAYERS=`` keyword arguments."""
    if settings_module:
        yield tree
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in PORTED_SETTINGS:
                    yield keyword.value


def _dicts_under(roots: list[ast.AST]) -> Iterator[ast.Dict]:
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, ast.Dict):
                yield node


def _constant_items(node: ast.Dict) -> Iterator[tuple[str, ast.expr | None, ast.expr]]:
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            yield key.value, key, value


def _rename_string(
    source: PythonSource, node: ast.Constant, new: str, what: str, changes: Changes
) -> None:
    edit = source.string_edit(node, new)
    if edit is None:
        changes.problem(node.lineno, f"{what} {node.value!r}: write it as {new!r} by hand")
        return
    changes.edits.append(edit)
    changes.note(node.lineno, f"{what} {node.value!r} -> {new!r}")


def _check_layers(dicts: list[ast.Dict], changes: Changes) -> None:
    """Reports the ``BACKEND`` values and ``CONFIG`` keys the runtime refuses."""
    for layer in dicts:
        items = {key: value for key, _, value in _constant_items(layer)}
        backend = items.get("BACKEND")
        if not (isinstance(backend, ast.Constant) and isinstance(backend.value, str)):
            continue
        if backend.value in REFUSED_BACKENDS:
            changes.problem(
                backend.lineno,
                f"BACKEND {backend.value!r} cannot be used: {REFUSED_BACKENDS[backend.value]}",
            )
        for options_key in ("CONFIG", "TEST_CONFIG"):
            options = items.get(options_key)
            if isinstance(options, ast.Dict):
                for key, key_node, _ in _constant_items(options):
                    if key in REFUSED_KEYS and key_node is not None:
                        changes.problem(
                            key_node.lineno,
                            f"{options_key} key {key!r} is not supported: {REFUSED_KEYS[key]}",
                        )


def port_settings(source: PythonSource, changes: Changes) -> None:
    """Edits the settings values of the file and reports what the runtime would refuse."""
    settings_module = is_settings_module(source.tree)
    roots = list(_setting_values(source.tree, settings_module))
    dicts = list(_dicts_under(roots))
    backends = {
        id(value) for layer in dicts for key, _, value in _constant_items(layer) if key == "BACKEND"
    }
    app_names = {
        id(node): node.value
        for value in _app_values(source.tree, settings_module)
        for node in ast.walk(value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    # Once the runtime is among the apps, a "channels" beside it is Channels 4's, on purpose.
    ported = NEW_PACKAGE in app_names.values()
    for root in roots:
        for node in ast.walk(root):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            if node.value == OLD_PACKAGE and id(node) in app_names and not ported:
                _rename_string(source, node, NEW_PACKAGE, "app", changes)
            elif (
                DOTTED_PATH.fullmatch(node.value)
                and id(node) not in backends
                and not is_channels4_module(node.value)
            ):
                new = NEW_PACKAGE + node.value[len(OLD_PACKAGE) :]
                _rename_string(source, node, new, "dotted path", changes)
    for layer in dicts:
        for key, _, value in _constant_items(layer):
            if key == "loggers" and isinstance(value, ast.Dict):
                for name, name_node, _ in _constant_items(value):
                    if name == OLD_LOGGER and isinstance(name_node, ast.Constant):
                        _rename_string(source, name_node, NEW_PACKAGE, "logger", changes)
    _check_layers(dicts, changes)

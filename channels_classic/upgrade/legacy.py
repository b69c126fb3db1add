"""What the command finds but cannot port: 1.x-era code with no equivalent here.

Each finding says what to do instead. These are the ASGI 1 packages around Channels 1.x
(the in-memory layer and base layer of asgiref 1, asgi_redis, asgi_ipc, asgi_rabbitmq),
the layer statistics and Twisted receive extensions, and strings naming ``channels.X``
outside settings, which may be dotted paths (``mock.patch``, ``import_string``) that only
the user can tell apart from text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ..layers.config import IN_MEMORY_LAYER, REDIS_LAYER, REFUSED_BACKENDS
from .imports import NEW_PACKAGE, OLD_PACKAGE, is_channels4_module
from .settings import DOTTED_PATH, PORTED_SETTINGS, is_settings_module
from .source import Changes, PythonSource

#: A dotted name, as a string naming a module or an attribute is.
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")

#: Modules of the 1.x era that are gone, and what to use instead.
GONE_MODULES = {
    "asgiref.inmemory": (
        f"asgiref 1's in-memory layer is gone: name it as a BACKEND (it maps to "
        f"{IN_MEMORY_LAYER}) or import that class; tests use channels_classic.test's "
        "ChannelTestCase, which sets one up per test"
    ),
    "asgiref.base_layer": (
        "ASGI 1 layers are gone: a layer of your own implements the channels 4 layer API "
        "(subclass channels.layers.BaseChannelLayer)"
    ),
    "asgiref.conformance": (
        "the ASGI 1 conformance suite is gone: test a layer through the channels 4 layer API"
    ),
    "asgi_redis": (
        "asgi_redis cannot be installed beside Django 5: use "
        f"{REDIS_LAYER} (a BACKEND naming asgi_redis maps to it, options translated)"
    ),
    "asgi_ipc": REFUSED_BACKENDS["asgi_ipc.IPCChannelLayer"],
    "asgi_rabbitmq": REFUSED_BACKENDS["asgi_rabbitmq.RabbitmqChannelLayer"],
}

#: ASGI 1 layer extensions that channels 4 layers do not have.
GONE_LAYER_METHODS = {
    "channel_statistics": "the statistics extension is gone: read Redis (ZCARD) or metrics",
    "global_statistics": "the statistics extension is gone: read Redis (ZCARD) or metrics",
    "receive_twisted": (
        "the Twisted extension is gone: call receive() from a thread, or await the channels 4 "
        "layer (channel_layer.channel_layer.receive(name)) on an event loop"
    ),
}


def _gone_module(name: str) -> str | None:
    for module in GONE_MODULES:
        if name == module or name.startswith(module + "."):
            return module
    return None


def _imported_modules(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def _setting_strings(tree: ast.Module) -> set[int]:
    """The nodes this command treats as settings: all of a settings module, the values of
    ``INSTALLED_APPS=`` and ``CHANNEL_LAYERS=`` arguments, and every ``BACKEND`` value."""
    if is_settings_module(tree):
        return {id(node) for node in ast.walk(tree)}
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in PORTED_SETTINGS:
                    found.update(id(child) for child in ast.walk(keyword.value))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "BACKEND":
                    found.add(id(value))
    return found


def report_legacy(source: PythonSource, changes: Changes) -> None:
    """Adds a problem for every 1.x-era thing in the file that has no port."""
    tree = source.tree
    for line, module in _imported_modules(tree):
        gone = _gone_module(module)
        if gone is not None:
            changes.problem(line, f"import of {module}: {GONE_MODULES[gone]}")
    settings = _setting_strings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in GONE_LAYER_METHODS:
            changes.problem(node.lineno, f".{node.attr}: {GONE_LAYER_METHODS[node.attr]}")
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if id(node) in settings or not _DOTTED.fullmatch(node.value):
            continue
        gone = _gone_module(node.value)
        if DOTTED_PATH.fullmatch(node.value) and not is_channels4_module(node.value):
            new = NEW_PACKAGE + node.value[len(OLD_PACKAGE) :]
            changes.problem(
                node.lineno,
                f"the string {node.value!r} names a 1.x path: if it is a dotted path "
                f"(mock.patch, import_string), make it {new!r}",
            )
        elif gone is not None:
            changes.problem(
                node.lineno,
                f"the string {node.value!r} names a 1.x module outside a BACKEND setting: "
                f"{GONE_MODULES[gone]}",
            )

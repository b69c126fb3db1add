"""The project's asgi.py: after its import is ported, it freezes the start-up heap.

A 1.x asgi.py builds the layer at import time (``channel_layer = get_channel_layer()``) and
daphne serves that object. Django, the routing and daphne's Twisted are loaded by then and
kept until the process exits; freezing them (``channels_classic.heap``) keeps every full
garbage collection from walking them again, a pause of tens of milliseconds otherwise. The
command adds that call after the assignment, once.
"""

from __future__ import annotations

import ast
import re

from .source import Changes, Edit, PythonSource

FREEZE = "freeze_startup_heap"
_ASGI_MODULES = ("channels.asgi", "channels_classic.asgi")
_LINE_END = re.compile(r"\r\n|\r|\n")


def _imports_layer_factory(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.ImportFrom)
        and node.module in _ASGI_MODULES
        and any(alias.name == "get_channel_layer" for alias in node.names)
    )


def _builds_layer(node: ast.stmt) -> bool:
    if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
        return False
    function = node.value.func
    name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
    return name == "get_channel_layer"


def _after_line(source: PythonSource, node: ast.stmt) -> tuple[int, str]:
    """The offset just past the line that ends ``node``, and that line's line ending."""
    end = source.span(node)[1]
    line_end = _LINE_END.search(source.text, end)
    if line_end is None:
        return len(source.text), ""
    return line_end.end(), line_end.group()


def port_asgi_module(source: PythonSource, changes: Changes) -> None:
    """In a module that imports get_channel_layer from the 1.x asgi module and builds the
    layer at its top level, adds the heap freeze after that (unless it is there already)."""
    body = source.tree.body
    factory_import = next((node for node in body if _imports_layer_factory(node)), None)
    assignment = next((node for node in body if _builds_layer(node)), None)
    if factory_import is None or assignment is None:
        return
    if any(isinstance(node, ast.Name) and node.id == FREEZE for node in ast.walk(source.tree)):
        return
    import_end, newline = _after_line(source, factory_import)
    assignment_end, assignment_newline = _after_line(source, assignment)
    newline = newline or assignment_newline or "\n"
    changes.edits.append(
        Edit(import_end, import_end, f"from channels_classic.heap import {FREEZE}{newline}")
    )
    changes.edits.append(
        Edit(
            assignment_end,
            assignment_end,
            ("" if assignment_newline else newline)
            + f"# Start-up objects stay until exit: keep garbage collections off them.{newline}"
            + f"{FREEZE}(){newline}",
        )
    )
    changes.note(
        assignment.lineno,
        f"the interface server freezes its start-up heap once the layer is built ({FREEZE})",
    )

"""An ``http.request`` message as Django's request machinery sees it.

``read_body`` joins the request body: ``body``, plus the chunks on ``body_channel`` when the
interface server split a large one. ``wsgi_environ`` turns the message and that body into a
WSGI environ, from which ``handler.AsgiRequest`` is an ordinary Django ``WSGIRequest``:
query strings, cookies, forms and uploads are parsed by Django itself.
"""

from __future__ import annotations

import asyncio
import io
import sys
from typing import Any

from .defaults import BODY_RECEIVE_TIMEOUT
from .exceptions import RequestAborted, RequestTimeout
from .layers.capabilities import Capabilities
from .layers.receiving import receive_batch
from .layers.sync import runner
from .message import Message, header_pairs

#: The most body chunks one receive takes.
BODY_CHUNKS_PER_RECEIVE = 32


def read_body(message: Message, timeout: float = BODY_RECEIVE_TIMEOUT) -> bytes:
    """The whole request body: ``body`` plus the chunks on ``body_channel`` (in ``order``).

    Raises RequestTimeout when the chunks are not all there within ``timeout`` seconds,
    RequestAborted when the client gave up.
    """
    body = message.get("body", b"")
    body_channel = message.get("body_channel")
    if not body_channel:
        return body
    layer = message.channel_layer
    assert layer is not None
    try:
        chunks = runner.run(_receive_chunks, layer.capabilities, body_channel, timeout)
    except TimeoutError:
        raise RequestTimeout(
            f"request body on {body_channel} incomplete after {timeout} s"
        ) from None
    return body + b"".join(chunks)


async def _receive_chunks(backend: Capabilities, body_channel: str, timeout: float) -> list[bytes]:
    """The chunks of ``body_channel`` in ``order``; TimeoutError after ``timeout``."""
    parts: dict[int, bytes] = {}
    last: int | None = None
    async with asyncio.timeout(timeout):
        while last is None or len(parts) < last:
            for _, chunk in await receive_batch(backend, [body_channel], BODY_CHUNKS_PER_RECEIVE):
                if chunk.get("closed"):
                    raise RequestAborted(f"the client abandoned the request body on {body_channel}")
                order = chunk.get("order", len(parts) + 1)
                parts[order] = chunk.get("content", b"")
                if not chunk.get("more_content", False):
                    last = order
    return [parts[order] for order in sorted(parts)]


def _wsgi_string(text: str) -> str:
    """A str as WSGI wants it: its UTF-8 bytes read as latin-1."""
    return text.encode("utf-8").decode("latin-1")


def wsgi_environ(message: Message, body: bytes) -> dict[str, Any]:
    """The WSGI environ of an ``http.request`` message. Its ``headers`` may be
    byte pairs or a 1.x dict (``header_pairs``); ``path`` may be bytes, as 1.x tests sent it."""
    path = message["path"]
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    root_path = message.get("root_path", "") or ""
    path_info = path[len(root_path) :] if root_path and path.startswith(root_path) else path
    query_string = message.get("query_string", b"")
    if isinstance(query_string, str):
        query_string = query_string.encode("utf-8")
    server = message.get("server") or ["unknown", "0"]
    client = message.get("client") or ["", 0]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": message["method"].upper(),
        "SCRIPT_NAME": _wsgi_string(root_path),
        "PATH_INFO": _wsgi_string(path_info),
        "QUERY_STRING": query_string.decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_HOST": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "SERVER_PROTOCOL": f"HTTP/{message.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": message.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in header_pairs(message.get("headers")):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = name
        else:
            key = f"HTTP_{name}"
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    if body and "CONTENT_LENGTH" not in environ:
        # A chunked upload (or a message made by hand) has no Content-Length; Django reads
        # no more of the input than it says.
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ

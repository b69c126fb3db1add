"""HTTP in the worker: ``http.request`` messages through Django's own views (SPEC HD1–HD15).

A worker thread is synchronous, and WSGI is Django's synchronous entry point, so a request
message becomes a WSGI environ and goes through ``WSGIHandler``: middleware, sessions, auth,
CSRF, messages and the admin work as on any Django site. The response goes back to the reply
channel as ``http.response`` messages: one for a small body, 512 KiB chunks for a large one,
and for a streaming response a message per part as it is produced.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import FileResponse, HttpResponse

from .exceptions import ChannelFull, RequestAborted, RequestTimeout, ResponseLater
from .message import Message

logger = logging.getLogger(__name__)

#: Response bodies travel in messages of at most this size (SPEC HD8).
RESPONSE_CHUNK_SIZE = 512 * 1024
#: A request body arriving in chunks must be complete within this many seconds (HD6).
BODY_RECEIVE_TIMEOUT = 60.0
#: A response message to a full reply channel is retried this long, then dropped (HD14).
REPLY_RETRY_FOR = 30.0
REPLY_RETRY_EVERY = 0.05


class ChannelsRequest(WSGIRequest):
    """A Django request that knows the message it came from (``message``,
    ``reply_channel``) and offers ``ResponseLater`` to views (SPEC HD1, E2)."""

    ResponseLater = ResponseLater

    @property
    def message(self) -> Message:
        return self.environ["channels.message"]

    @property
    def reply_channel(self) -> Any:
        return self.message.reply_channel


class _LaterResponse(HttpResponse):
    """Stands for "no response from this view": another consumer will answer."""


class ChannelsWSGIHandler(WSGIHandler):
    """Django's WSGI handler, with ``ResponseLater`` from a view meaning "send nothing"."""

    request_class = ChannelsRequest

    def process_exception_by_middleware(self, exception: Exception, request: Any) -> Any:
        if isinstance(exception, ResponseLater):
            return _LaterResponse()
        return super().process_exception_by_middleware(exception, request)


def read_body(message: Message, timeout: float = BODY_RECEIVE_TIMEOUT) -> bytes:
    """The whole request body: ``body`` plus the chunks on ``body_channel`` (in ``order``).

    Raises RequestTimeout when the chunks take longer than ``timeout``, RequestAborted when
    the client gave up.
    """
    body = message.get("body", b"")
    body_channel = message.get("body_channel")
    if not body_channel:
        return body
    layer = message.channel_layer
    assert layer is not None
    parts: dict[int, bytes] = {}
    last: int | None = None
    deadline = time.monotonic() + timeout
    while last is None or len(parts) < last:
        if time.monotonic() > deadline:
            raise RequestTimeout(f"request body on {body_channel} incomplete after {timeout} s")
        channel, chunk = layer.receive([body_channel], block=True)
        if chunk is None:
            continue
        if chunk.get("closed"):
            raise RequestAborted(f"the client abandoned the request body on {body_channel}")
        order = chunk.get("order", len(parts) + 1)
        parts[order] = chunk.get("content", b"")
        if not chunk.get("more_content", False):
            last = order
    return body + b"".join(parts[order] for order in sorted(parts))


def _wsgi_string(text: str) -> str:
    """A str as WSGI wants it: its UTF-8 bytes read as latin-1."""
    return text.encode("utf-8").decode("latin-1")


def wsgi_environ(message: Message, body: bytes) -> dict[str, Any]:
    """The WSGI environ of an ``http.request`` message (SPEC HD2)."""
    path = message["path"]
    root_path = message.get("root_path", "")
    path_info = path[len(root_path) :] if root_path and path.startswith(root_path) else path
    server = message.get("server") or ["unknown", "0"]
    client = message.get("client") or ["", 0]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": message["method"].upper(),
        "SCRIPT_NAME": _wsgi_string(root_path),
        "PATH_INFO": _wsgi_string(path_info),
        "QUERY_STRING": message.get("query_string", b"").decode("latin-1"),
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
        "channels.message": message,
    }
    for raw_name, raw_value in message.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = name
        else:
            key = f"HTTP_{name}"
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ


def response_messages(
    status: str, headers: list[tuple[str, str]], response: Iterable[bytes], streaming: bool
) -> Iterator[dict[str, Any]]:
    """The ``http.response`` messages of a WSGI response, in order (SPEC HD8–HD9)."""
    first: dict[str, Any] = {
        "status": int(status.split(" ", 1)[0]),
        "headers": [[name.encode("latin-1"), value.encode("latin-1")] for name, value in headers],
    }
    if streaming:
        yield {**first, "content": b"", "more_content": True}
        for part in response:
            for start in range(0, len(part), RESPONSE_CHUNK_SIZE):
                yield {"content": part[start : start + RESPONSE_CHUNK_SIZE], "more_content": True}
        yield {"content": b"", "more_content": False}
        return
    body = b"".join(response)
    pieces = [body[i : i + RESPONSE_CHUNK_SIZE] for i in range(0, len(body), RESPONSE_CHUNK_SIZE)]
    pieces = pieces or [b""]
    for index, piece in enumerate(pieces):
        message = {"content": piece, "more_content": index < len(pieces) - 1}
        yield {**first, **message} if index == 0 else message


def send_reply(message: Message, reply: dict[str, Any]) -> None:
    """Sends a response message now, retrying while the reply channel is full."""
    assert message.reply_channel is not None
    deadline = time.monotonic() + REPLY_RETRY_FOR
    while True:
        try:
            message.reply_channel.send(reply, immediately=True)
            return
        except ChannelFull:
            if time.monotonic() > deadline:
                logger.error(
                    "handler: reply channel %s stayed full for %.0f s; response dropped",
                    message.reply_channel.name,
                    REPLY_RETRY_FOR,
                )
                return
            time.sleep(REPLY_RETRY_EVERY)


class ViewConsumer:
    """The default ``http.request`` consumer: answers through Django's views (SPEC HD12).

    One Django handler per process (middleware loads once, on the first request).
    ``serve_static`` also serves STATIC_URL from the staticfiles finders (development).
    """

    def __init__(self, serve_static: bool = False) -> None:
        self.serve_static = serve_static
        self._handler: Any = None

    @property
    def handler(self) -> Any:
        if self._handler is None:
            handler = ChannelsWSGIHandler()
            self._handler = StaticFilesHandler(handler) if self.serve_static else handler
        return self._handler

    def __call__(self, message: Message) -> None:
        try:
            body = read_body(message)
        except RequestTimeout as error:
            logger.warning("handler: %s", error)
            send_reply(
                message, {"status": 408, "content": b"408 Request Timeout (upload too slow)"}
            )
            return
        except RequestAborted:
            return
        started: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started.update(status=status, headers=headers)
            return lambda data: None

        response = self.handler(wsgi_environ(message, body), start_response)
        try:
            if isinstance(response, _LaterResponse):
                return
            if isinstance(response, FileResponse):
                response.block_size = RESPONSE_CHUNK_SIZE
            streaming = bool(getattr(response, "streaming", False))
            for reply in response_messages(
                started["status"], started["headers"], response, streaming
            ):
                send_reply(message, reply)
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()


def view_consumer(*, insecure: bool = False, static: bool = True) -> ViewConsumer:
    """The default HTTP consumer for runworker and runserver: it serves static files too
    when staticfiles is installed and DEBUG (or ``insecure``) is on, unless ``static`` is
    False (SPEC MC2, MC5)."""
    from django.apps import apps
    from django.conf import settings

    serve_static = (
        static and apps.is_installed("django.contrib.staticfiles") and (settings.DEBUG or insecure)
    )
    return ViewConsumer(serve_static=serve_static)

"""HTTP in the worker: ``http.request`` messages through Django's own views (SPEC HD1–HD15).

A worker thread is synchronous, and WSGI is Django's synchronous entry point, so a request
message becomes a WSGI environ and goes through ``WSGIHandler``: middleware, sessions, auth,
CSRF, messages and the admin work as on any Django site. The response goes back to the reply
channel as ``http.response`` messages: one for a small body, BODY_CHUNK_SIZE chunks for a
large one, and for a streaming response a message per part as it is produced.

A streaming response always ends: if its iterator raises, the error is logged and the
response ends there (the client sees it end early); if the interface reports the client
gone, or the reply channel stays full past the retry time, the worker stops iterating and
frees its thread. A part that takes for ever to produce still holds the thread meanwhile.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import FileResponse, HttpResponse

from .defaults import (
    BODY_CHUNK_SIZE,
    BODY_RECEIVE_TIMEOUT,
    REPLY_RETRY_EVERY,
    REPLY_RETRY_FOR,
    STREAM_DISCONNECT_CHECK_INTERVAL,
)
from .exceptions import ChannelFull, RequestAborted, RequestTimeout, ResponseLater
from .interface.messages import http_disconnect_channel
from .layers.receiving import receive_batch
from .layers.sync import runner
from .message import Message

logger = logging.getLogger(__name__)

#: The environ key set when a view raised ResponseLater: nothing is sent, whatever response
#: middleware made of the placeholder response (SPEC HD13).
RESPONSE_LATER = "channels.response_later"
#: The most body chunks one receive takes.
BODY_CHUNKS_PER_RECEIVE = 32
#: The message that ends a streaming response.
END_OF_RESPONSE: dict[str, Any] = {"content": b"", "more_content": False}


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


class ChannelsWSGIHandler(WSGIHandler):
    """Django's WSGI handler, with ``ResponseLater`` from a view meaning "send nothing": it
    marks the request's environ, and response middleware sees a placeholder response."""

    request_class = ChannelsRequest

    def process_exception_by_middleware(self, exception: Exception, request: Any) -> Any:
        if isinstance(exception, ResponseLater):
            request.environ[RESPONSE_LATER] = True
            return HttpResponse()
        return super().process_exception_by_middleware(exception, request)


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
        chunks = runner.run(_receive_chunks, layer.channel_layer, body_channel, timeout)
    except TimeoutError:
        raise RequestTimeout(
            f"request body on {body_channel} incomplete after {timeout} s"
        ) from None
    return body + b"".join(chunks)


async def _receive_chunks(backend: Any, body_channel: str, timeout: float) -> list[bytes]:
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
            for start in range(0, len(part), BODY_CHUNK_SIZE):
                yield {"content": part[start : start + BODY_CHUNK_SIZE], "more_content": True}
        yield dict(END_OF_RESPONSE)
        return
    body = b"".join(response)
    pieces = [body[i : i + BODY_CHUNK_SIZE] for i in range(0, len(body), BODY_CHUNK_SIZE)]
    pieces = pieces or [b""]
    for index, piece in enumerate(pieces):
        message = {"content": piece, "more_content": index < len(pieces) - 1}
        yield {**first, **message} if index == 0 else message


def send_reply(
    message: Message,
    reply: dict[str, Any],
    *,
    retry_for: float = REPLY_RETRY_FOR,
    retry_every: float = REPLY_RETRY_EVERY,
) -> bool:
    """Sends a response message now, retrying every ``retry_every`` seconds while the reply
    channel is full; after ``retry_for`` seconds it is dropped. Returns whether it was sent."""
    assert message.reply_channel is not None
    deadline = time.monotonic() + retry_for
    while True:
        try:
            message.reply_channel.send(reply, immediately=True)
            return True
        except ChannelFull:
            if time.monotonic() > deadline:
                logger.error(
                    "handler: reply channel %s stayed full for %.1f s; response message "
                    "dropped. Is the client reading?",
                    message.reply_channel.name,
                    retry_for,
                )
                return False
            time.sleep(retry_every)


class _DepartureWatch:
    """Tells a worker streaming a response whether the interface reported its client gone,
    asking the layer (the request's own disconnect channel) at most every ``interval``."""

    def __init__(self, message: Message, interval: float) -> None:
        assert message.channel_layer is not None and message.reply_channel is not None
        self._layer = message.channel_layer
        self._channel = http_disconnect_channel(message.reply_channel.name)
        self._interval = interval
        self._next_check = 0.0

    def client_left(self) -> bool:
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + self._interval
        return self._layer.receive([self._channel])[1] is not None


class ViewConsumer:
    """The default ``http.request`` consumer: answers through Django's views (SPEC HD12).

    One Django handler per process (middleware loads once, on the first request).
    ``serve_static`` also serves STATIC_URL from the staticfiles finders (development).
    A body arriving in chunks must be complete within ``body_receive_timeout`` seconds
    (else 408); a streaming response checks every ``disconnect_check_interval`` seconds
    whether its client left.
    """

    def __init__(
        self,
        serve_static: bool = False,
        *,
        body_receive_timeout: float = BODY_RECEIVE_TIMEOUT,
        disconnect_check_interval: float = STREAM_DISCONNECT_CHECK_INTERVAL,
    ) -> None:
        self.serve_static = serve_static
        self.body_receive_timeout = body_receive_timeout
        self.disconnect_check_interval = disconnect_check_interval
        self._handler: Any = None

    @property
    def handler(self) -> Any:
        if self._handler is None:
            handler = ChannelsWSGIHandler()
            self._handler = StaticFilesHandler(handler) if self.serve_static else handler
        return self._handler

    def __call__(self, message: Message) -> None:
        try:
            body = read_body(message, self.body_receive_timeout)
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

        environ = wsgi_environ(message, body)
        response = self.handler(environ, start_response)
        try:
            if environ.get(RESPONSE_LATER):
                return
            if isinstance(response, FileResponse):
                response.block_size = BODY_CHUNK_SIZE
            streaming = bool(getattr(response, "streaming", False))
            replies = response_messages(started["status"], started["headers"], response, streaming)
            watch = _DepartureWatch(message, self.disconnect_check_interval) if streaming else None
            self._send_all(message, replies, watch)
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()

    def _send_all(
        self, message: Message, replies: Iterator[dict[str, Any]], watch: _DepartureWatch | None
    ) -> None:
        """Sends each response message as it is made. A failing streaming iterator ends the
        response early; a client gone (or not reading) stops the iteration."""
        sent = 0
        while True:
            try:
                reply = next(replies, None)
            except Exception:
                logger.exception(
                    "handler: the streaming response to %s %s failed after %d message(s); "
                    "ended it early",
                    message["method"],
                    message["path"],
                    sent,
                )
                send_reply(message, dict(END_OF_RESPONSE))
                return
            if reply is None:
                return
            if watch is not None and watch.client_left():
                logger.info(
                    "handler: the client of %s %s left; stopped streaming after %d message(s)",
                    message["method"],
                    message["path"],
                    sent,
                )
                return
            if not send_reply(message, reply):
                return
            sent += 1


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

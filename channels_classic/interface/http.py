"""One HTTP request, bridged to the layer (the messages: ``docs/messages.md``, "HTTP").

The request becomes one ``http.request`` message; a body larger than one message continues
on a body channel, whose chunks go out before the request so that a worker never waits for
a body that failed to arrive. The worker's response messages come back on the reply channel
and are written out, streamed with chunked encoding while ``more_content`` is true.

Two limits keep a client from waiting for ever: a response that has not started within the
HTTP timeout gets a 503; once started it may stream for as long as it likes (long polls and
server-sent events are what reply channels are for), but a response whose worker sends
nothing for the idle timeout (the worker died mid-stream) is ended there. daphne gives an
ASGI application no way to abort a started response, so the client sees it end early rather
than fail.

If the client leaves before the response ended, ``http.disconnect`` goes out (only then),
on the shared channel and on the request's own disconnect channel, which a worker streaming
the response polls to stop.

A request the layer cannot take gets 503 at once, saying why: the layer is unavailable, or
``http.request`` is full. While the server shuts down, new requests get 503 and those in
flight have until the shutdown timeout to be answered (``cut_off``).
"""

from __future__ import annotations

import asyncio
import enum
import html
import logging
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ..defaults import BODY_CHUNK_SIZE
from ..exceptions import InvalidReply, is_unavailable
from ..names import http_disconnect_channel
from . import backpressure, messages
from .codes import LAYER_UNAVAILABLE, SERVER_BUSY, SHUTTING_DOWN
from .replies import http_events

if TYPE_CHECKING:
    from .app import InterfaceApp
    from .inbox import Inbox

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]

#: The ASGI event that ends a started response.
END_OF_BODY: dict[str, Any] = {"type": "http.response.body", "body": b"", "more_body": False}


class HttpState(enum.Enum):
    """Where one exchange is. RECEIVING (the request body) → WAITING (the request is on the
    layer, no response yet) → RESPONDING (the response started) → FINISHED; error pages go
    from RECEIVING or WAITING straight through RESPONDING to FINISHED."""

    RECEIVING = "receiving the request body"
    WAITING = "waiting for a response"
    RESPONDING = "responding"
    FINISHED = "finished"


async def send_error_page(send: Send, status: int, explanation: str) -> None:
    """A small HTML error page: '<status> <phrase>' and what happened."""
    phrase = HTTPStatus(status).phrase
    title = f"{status} {phrase}"
    body = (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>{html.escape(explanation)}</p><footer>djchan</footer></body></html>"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _cut_chunks(pending: bytearray, chunks: list[bytes]) -> None:
    """Moves the whole BODY_CHUNK_SIZE chunks at the front of ``pending`` to ``chunks``."""
    whole = len(pending) - len(pending) % BODY_CHUNK_SIZE
    if not whole:
        return
    with memoryview(pending) as view:
        chunks.extend(
            bytes(view[start : start + BODY_CHUNK_SIZE])
            for start in range(0, whole, BODY_CHUNK_SIZE)
        )
    del pending[:whole]


class HttpConnection:
    """One request/response exchange; ``state`` says how far it got."""

    def __init__(self, app: InterfaceApp, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.app = app
        self.scope = scope
        self.path: str = scope["path"]
        self._receive = receive
        self._send = send
        self.reply_channel = ""
        self.state = HttpState.RECEIVING

    async def run(self) -> None:
        chunks = await self._read_body()
        if chunks is None:
            return
        if self.app.draining:
            await send_error_page(self._emit, 503, SHUTTING_DOWN)
            return
        health = self.app.services().health
        if not health.up:
            await send_error_page(self._emit, 503, LAYER_UNAVAILABLE)
            return
        dispatcher = self.app.dispatcher()
        self.reply_channel, inbox = await dispatcher.open()
        try:
            if await self._send_request(chunks):
                await self._respond(inbox)
        finally:
            dispatcher.close(self.reply_channel)

    async def fail(self) -> None:
        """After an unexpected error: a 500 page if no response started yet, else the end of
        the response (a second status line would be an error of its own)."""
        if self.state in (HttpState.RECEIVING, HttpState.WAITING):
            await send_error_page(self._emit, 500, "The interface server failed on this request.")
        elif self.state is HttpState.RESPONDING:
            await self._emit(END_OF_BODY)

    async def cut_off(self) -> None:
        """The server shuts down and this exchange ran out of time: a request still waiting
        gets 503, a response still streaming is ended."""
        if self.state is HttpState.WAITING:
            logger.warning(
                "interface: %s %s answered 503: shutting down", self.scope["method"], self.path
            )
            await send_error_page(self._emit, 503, SHUTTING_DOWN)
        elif self.state is HttpState.RESPONDING:
            await self._emit(END_OF_BODY)

    async def _emit(self, event: dict[str, Any]) -> None:
        """Sends an ASGI response event, keeping ``state`` in step."""
        if event["type"] == "http.response.start":
            self.state = HttpState.RESPONDING
        elif not event.get("more_body", False):
            self.state = HttpState.FINISHED
        await self._send(event)

    async def _read_body(self) -> list[bytes] | None:
        """The request body in chunks of BODY_CHUNK_SIZE (the last one shorter, possibly
        empty), or None if the client left or the body was too large (413)."""
        limit = self.app.options.max_request_body_size
        chunks: list[bytes] = []
        pending = bytearray()
        size = 0
        while True:
            event = await self._receive()
            if event["type"] == "http.disconnect":
                return None
            part = event.get("body", b"")
            size += len(part)
            if size > limit:
                await send_error_page(
                    self._emit,
                    413,
                    f"The request body is larger than this server accepts ({limit} bytes).",
                )
                return None
            pending += part
            _cut_chunks(pending, chunks)
            if not event.get("more_body", False):
                if pending or not chunks:
                    chunks.append(bytes(pending))
                return chunks

    async def _send_request(self, chunks: list[bytes]) -> bool:
        """Puts the body chunks after the first, then the request, on the layer; False after
        a 503. A body channel holds all the chunks before anyone reads it: a body of more
        chunks than its capacity is refused (raise ``channel_capacity`` for
        ``http.request.body.*``)."""
        backend = self.app.backend
        head, rest = chunks[0], chunks[1:]
        body_channel = f"http.request.body.{uuid.uuid4().hex}" if rest else None
        request = messages.http_request(self.scope, self.reply_channel, head, body_channel)
        try:
            for order, chunk in enumerate(rest, start=1):
                assert body_channel is not None  # made since there are chunks after the first
                more = order < len(rest)
                await backend.send(body_channel, dict(messages.http_body_chunk(chunk, more, order)))
            await backend.send("http.request", dict(request))
        except Exception as error:  # a full channel, Redis down, or another layer's error
            backpressure.refused("http.request", error)
            unavailable = is_unavailable(error)
            if unavailable:
                self.app.services().health.failed(error)
            await send_error_page(
                self._emit, 503, LAYER_UNAVAILABLE if unavailable else SERVER_BUSY
            )
            return False
        self.state = HttpState.WAITING
        return True

    async def _respond(self, inbox: Inbox) -> None:
        options = self.app.options
        client = asyncio.ensure_future(self._receive())
        try:
            while self.state is not HttpState.FINISHED:
                waiting = self.state is HttpState.WAITING
                limit = options.http_timeout if waiting else options.http_idle_timeout
                reply = asyncio.ensure_future(inbox.get())
                done, _ = await asyncio.wait(
                    {reply, client}, timeout=limit, return_when=asyncio.FIRST_COMPLETED
                )
                reply.cancel()
                if client in done:
                    await self._client_left()
                    return
                if not done:
                    await self._timed_out(waiting, limit)
                    return
                await self._write(reply.result())
        finally:
            client.cancel()

    async def _timed_out(self, waiting: bool, limit: float) -> None:
        method = self.scope["method"]
        if waiting:
            logger.warning(
                "interface: no response to %s %s within %.1f s; answered 503. Is a worker running?",
                method,
                self.path,
                limit,
            )
            await send_error_page(
                self._emit, 503, "Worker server failed to respond within time limit."
            )
        else:
            logger.warning(
                "interface: the response to %s %s got no message from its worker for %.1f s; "
                "ended it early (raise CHANNELS_HTTP_IDLE_TIMEOUT for quieter streams)",
                method,
                self.path,
                limit,
            )
            await self._emit(END_OF_BODY)

    async def _write(self, reply: dict[str, Any]) -> None:
        """Writes one response message; an invalid one gets a 500 page, or ends a started
        response."""
        started = self.state is HttpState.RESPONDING
        try:
            events = http_events(reply, started=started)
        except InvalidReply as error:
            logger.error(
                "interface: bad response on %s for %s: %s (message: %.200r)",
                self.reply_channel,
                self.path,
                error,
                reply,
            )
            if started:
                await self._emit(END_OF_BODY)
            else:
                await send_error_page(self._emit, 500, "The worker sent an invalid response.")
            return
        for event in events:
            await self._emit(event)

    async def _client_left(self) -> None:
        message = dict(messages.http_disconnect(self.reply_channel, self.path))
        channels = ("http.disconnect", http_disconnect_channel(self.reply_channel))
        for channel in channels:
            try:
                await self.app.backend.send(channel, message)
            except Exception as error:  # a full channel, Redis down, or another layer's error
                backpressure.refused("http.disconnect", error)

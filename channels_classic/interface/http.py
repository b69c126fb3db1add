"""One HTTP request, bridged to the layer (SPEC H1–H12).

The request becomes one ``http.request`` message (a large body continues on a body channel);
the worker's response messages come back on the reply channel and are written out, streamed
with chunked encoding while ``more_content`` is true. A response that has not started within
the HTTP timeout gets a 503; once started it may stream for as long as it likes (Q23). If the
client leaves before the response ended, ``http.disconnect`` goes out (only then: Q5).
"""

from __future__ import annotations

import asyncio
import html
import logging
import uuid
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidReply
from . import backpressure, messages
from .replies import http_events

if TYPE_CHECKING:
    from . import InterfaceApp

logger = logging.getLogger(__name__)

#: Bodies up to this size travel in the http.request message; larger ones in chunks of it.
BODY_CHUNK_SIZE = 512 * 1024


async def send_error_page(send: Any, status: int, explanation: str) -> None:
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


class HttpConnection:
    """One request/response exchange."""

    def __init__(self, app: InterfaceApp, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.app = app
        self.scope = scope
        self.path: str = scope["path"]
        self._receive = receive
        self._send = send
        self.reply_channel = ""

    async def run(self) -> None:
        body = await self._read_body()
        if body is None:
            return
        dispatcher = self.app.dispatcher()
        self.reply_channel, inbox = await dispatcher.open()
        try:
            if await self._send_request(body):
                await self._respond(inbox)
        finally:
            dispatcher.close(self.reply_channel)

    async def _read_body(self) -> bytes | None:
        """The whole request body, or None if the client left or it was too large (413)."""
        limit = self.app.options.max_request_body_size
        parts: list[bytes] = []
        size = 0
        while True:
            event = await self._receive()
            if event["type"] == "http.disconnect":
                return None
            part = event.get("body", b"")
            size += len(part)
            if size > limit:
                await send_error_page(
                    self._send,
                    413,
                    f"The request body is larger than this server accepts ({limit} bytes).",
                )
                return None
            parts.append(part)
            if not event.get("more_body", False):
                return b"".join(parts)

    async def _send_request(self, body: bytes) -> bool:
        """Puts the request (and its body chunks) on the layer; False after a 503."""
        backend = self.app.backend
        head, rest = body[:BODY_CHUNK_SIZE], body[BODY_CHUNK_SIZE:]
        body_channel = f"http.request.body.{uuid.uuid4().hex}" if rest else None
        request = messages.http_request(self.scope, self.reply_channel, head, body_channel)
        try:
            await backend.send("http.request", dict(request))
            if body_channel is not None:
                chunks = [
                    rest[i : i + BODY_CHUNK_SIZE] for i in range(0, len(rest), BODY_CHUNK_SIZE)
                ]
                for order, chunk in enumerate(chunks, start=1):
                    more = order < len(chunks)
                    await backend.send(
                        body_channel, dict(messages.http_body_chunk(chunk, more, order))
                    )
        except Exception as error:  # a full channel, Redis down, or another layer's error
            backpressure.refused("http.request", error)
            await send_error_page(
                self._send, 503, "The server is too busy to take this request; try again."
            )
            return False
        return True

    async def _respond(self, inbox: asyncio.Queue[dict[str, Any]]) -> None:
        timeout = self.app.options.http_timeout
        deadline = asyncio.get_running_loop().time() + timeout
        client = asyncio.ensure_future(self._receive())
        started = False
        try:
            while True:
                reply = asyncio.ensure_future(inbox.get())
                try:
                    async with asyncio.timeout_at(None if started else deadline):
                        await asyncio.wait({reply, client}, return_when=asyncio.FIRST_COMPLETED)
                except TimeoutError:
                    logger.warning(
                        "interface: no response to %s %s within %.1f s; answered 503. Is a "
                        "worker running?",
                        self.scope["method"],
                        self.path,
                        timeout,
                    )
                    await send_error_page(
                        self._send, 503, "Worker server failed to respond within time limit."
                    )
                    return
                finally:
                    reply.cancel()
                if client.done():
                    await self._client_left()
                    return
                if not await self._write(reply.result(), started):
                    return
                started = True
        finally:
            client.cancel()

    async def _write(self, reply: dict[str, Any], started: bool) -> bool:
        """Writes one response message; False once the response is over."""
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
                await self._send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send_error_page(self._send, 500, "The worker sent an invalid response.")
            return False
        for event in events:
            await self._send(event)
        return bool(events[-1]["more_body"])

    async def _client_left(self) -> None:
        message = messages.http_disconnect(self.reply_channel, self.path)
        try:
            await self.app.backend.send("http.disconnect", dict(message))
        except Exception as error:  # a full channel, Redis down, or another layer's error
            backpressure.refused("http.disconnect", error)

"""One WebSocket connection, bridged to the layer (SPEC WS1–WS19).

The connection sends ``websocket.connect`` (order 0) and holds the handshake until its
reply channel says accept, reject or data, or the accept timeout (if one is set) passes: then
it is refused with 403. The interface server, not daphne, owns that timeout (see
``daphne_compat``). Once open, client
frames become ``websocket.receive`` messages (order 1, 2, ...) while replies are written to
the socket; when the socket closes, ``websocket.disconnect`` (order n + 1) goes out. A bad
reply is logged and dropped; a layer that will not take a message is handled by the
backpressure table; nothing here can take the server down.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidReply
from . import backpressure, messages
from .backpressure import Outcome
from .codes import (
    CONNECTION_QUEUE_FULL,
    HTTP_503_SERVICE_UNAVAILABLE,
    WS_1000_NORMAL_CLOSURE,
    WS_1006_ABNORMAL_CLOSURE,
    WS_1011_INTERNAL_ERROR,
    WS_1013_TRY_AGAIN_LATER,
)
from .daphne_compat import DENIAL_RESPONSE
from .replies import websocket_events

if TYPE_CHECKING:
    from . import InterfaceApp
    from .inbox import Inbox

logger = logging.getLogger(__name__)

Send = Any
Receive = Any


class State(enum.Enum):
    CONNECTING = "connecting"
    OPEN = "open"
    CLOSED = "closed"


class WebsocketConnection:
    """The state of one socket and the two directions that move its messages."""

    def __init__(
        self, app: InterfaceApp, scope: dict[str, Any], receive: Receive, send: Send
    ) -> None:
        self.app = app
        self.scope = scope
        self.path: str = scope["path"]
        self._receive = receive
        self._send = send
        self.state = State.CONNECTING
        self.order = 0
        self.muted = False
        self.reply_channel = ""
        # True once websocket.connect is on the layer: from then on consumers hear of the end.
        self.announced = False

    async def run(self) -> None:
        event = await self._receive()
        if event["type"] != "websocket.connect":
            return
        dispatcher = self.app.dispatcher()
        self.reply_channel, inbox = await dispatcher.open()
        try:
            if not await self._offer("websocket.connect", self._connect_message()):
                return
            self.announced = True
            if await self._handshake(inbox):
                await self._converse(inbox)
        finally:
            dispatcher.close(self.reply_channel)

    def _connect_message(self) -> dict[str, Any]:
        return dict(messages.websocket_connect(self.scope, self.reply_channel))

    def _subprotocol(self) -> str | None:
        """The first subprotocol the client offers that the server agrees to (SPEC WS14)."""
        agreed = self.app.options.ws_protocols
        return next((p for p in self.scope.get("subprotocols") or () if p in agreed), None)

    # Layer side

    async def _offer(self, channel: str, message: dict[str, Any]) -> bool:
        """Sends ``message`` onto ``channel``; False if the layer refused (then the
        backpressure table's outcome has been carried out)."""
        if self.muted:
            return False
        try:
            await self.app.backend.send(channel, message)
            return True
        except Exception as error:  # a full channel, Redis down, or another layer's error
            outcome = backpressure.refused(channel, error)
        if outcome is Outcome.CLOSE_TRY_AGAIN_LATER:
            self.muted = True
            await self._close(WS_1013_TRY_AGAIN_LATER)
        elif outcome is Outcome.REFUSE_HANDSHAKE:
            self.muted = True
            await self._refuse_busy()
        return False

    # Socket side

    async def _handshake(self, inbox: Inbox) -> bool:
        """Waits for the connect consumer's answer; True once the socket is open.

        The client may leave meanwhile: that ends the wait at once with its close code.
        """
        timeout = self.app.options.websocket_accept_timeout
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        client = asyncio.ensure_future(self._receive())
        try:
            while self.state is State.CONNECTING:
                reply = asyncio.ensure_future(inbox.get())
                try:
                    async with asyncio.timeout_at(deadline):
                        await asyncio.wait({reply, client}, return_when=asyncio.FIRST_COMPLETED)
                except TimeoutError:
                    logger.warning(
                        "interface: no answer to websocket.connect for %s within %.1f s; "
                        "refused. Is a worker running with a websocket.connect route?",
                        self.path,
                        timeout,
                    )
                    await self._reject()
                    return False
                finally:
                    reply.cancel()
                if client.done():
                    event = client.result()
                    self.state = State.CLOSED
                    await self._disconnected(event.get("code", WS_1006_ABNORMAL_CLOSURE))
                    return False
                await self._apply(reply.result())
        finally:
            client.cancel()
        if self.state is State.CLOSED:
            await self._finish_after_close()
            return False
        return True

    async def _converse(self, inbox: Inbox) -> None:
        """Moves frames both ways until the socket closes."""
        replies = asyncio.ensure_future(self._write_replies(inbox))
        try:
            await self._read_frames()
        finally:
            replies.cancel()

    async def _write_replies(self, inbox: Inbox) -> None:
        try:
            while self.state is State.OPEN:
                await self._apply(await inbox.get())
        except Exception:
            logger.exception("interface: writing to WebSocket %s failed", self.path)
            await self.abort()

    async def abort(self) -> None:
        """Closes the socket with 1011 after an internal error (if it is still open)."""
        if self.state is State.CONNECTING:
            await self._reject()
        elif self.state is State.OPEN:
            await self._close(WS_1011_INTERNAL_ERROR)

    async def _read_frames(self) -> None:
        while True:
            event = await self._receive()
            if event["type"] == "websocket.disconnect":
                self.state = State.CLOSED
                await self._disconnected(event.get("code", WS_1006_ABNORMAL_CLOSURE))
                return
            if event["type"] == "websocket.receive" and self.state is State.OPEN:
                self.order += 1
                message = messages.websocket_receive(
                    self.reply_channel, self.path, self.order, event
                )
                await self._offer("websocket.receive", dict(message))

    async def _apply(self, reply: dict[str, Any]) -> None:
        """Carries out one reply message; a malformed one is logged and dropped."""
        try:
            events = websocket_events(
                reply,
                connecting=self.state is State.CONNECTING,
                subprotocol=self._subprotocol(),
            )
        except InvalidReply as error:
            logger.error(
                "interface: bad reply on %s for %s dropped: %s (message: %.200r)",
                self.reply_channel,
                self.path,
                error,
                reply,
            )
            return
        for event in events:
            if self.state is State.CLOSED:
                return
            await self._send(event)
            if event["type"] == "websocket.accept":
                self.state = State.OPEN
            elif event["type"] == "websocket.close":
                self.state = State.CLOSED

    async def _close(self, code: int) -> None:
        if self.state is not State.CLOSED:
            self.state = State.CLOSED
            await self._send({"type": "websocket.close", "code": code})

    async def _reject(self) -> None:
        """Refuses the handshake (HTTP 403) and tells the consumers the socket is gone."""
        await self._close(WS_1000_NORMAL_CLOSURE)
        await self._finish_after_close()

    async def _refuse_busy(self) -> None:
        """Refuses the handshake with 503 'Connection queue at capacity' (SPEC WS17) where the
        server can answer a handshake with an HTTP response (ASGI's denial response, which
        daphne_compat gives daphne); with 403 elsewhere."""
        if DENIAL_RESPONSE not in (self.scope.get("extensions") or {}):
            await self._close(WS_1000_NORMAL_CLOSURE)
            return
        self.state = State.CLOSED
        body = CONNECTION_QUEUE_FULL.encode()
        await self._send(
            {
                "type": "websocket.http.response.start",
                "status": HTTP_503_SERVICE_UNAVAILABLE,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await self._send({"type": "websocket.http.response.body", "body": body})

    async def _finish_after_close(self) -> None:
        await self._disconnected(WS_1006_ABNORMAL_CLOSURE)

    async def _disconnected(self, code: int) -> None:
        """Sends websocket.disconnect (once connect went out: nobody heard of it otherwise)."""
        if not self.announced:
            return
        self.order += 1
        message = messages.websocket_disconnect(self.reply_channel, self.path, code, self.order)
        await self._offer("websocket.disconnect", dict(message))

"""One WebSocket connection, bridged to the layer.

The connection sends ``websocket.connect`` (order 0) and holds the handshake until its
reply channel says accept, reject or data, or the accept timeout (if one is set) passes: then
it is refused with 403. The interface server, not daphne, owns that timeout (see
``daphne_compat``). Once open, client frames become ``websocket.receive`` messages (order
1, 2, ...) while replies are written to the socket; when the socket closes,
``websocket.disconnect`` (order n + 1) goes out, once, whoever closed it.

Two limits keep one client from hurting the others (``docs/production.md``): its frames go
through an ``Ingress``, which pauses reading it while it has too many waiting for a worker
and holds them through a full channel or an outage; and its replies wait in an inbox of
bounded size while it does not read them, past which it is closed with 1008. A bad reply
is logged and dropped; nothing here can take the server down.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from typing import TYPE_CHECKING, Any

from .. import metrics
from ..close_codes import (
    WS_1000_NORMAL_CLOSURE,
    WS_1006_ABNORMAL_CLOSURE,
    WS_1008_POLICY_VIOLATION,
    WS_1011_INTERNAL_ERROR,
    WS_1013_TRY_AGAIN_LATER,
)
from ..exceptions import ChannelFull, InvalidReply, is_unavailable
from . import backpressure, messages
from .codes import (
    CONNECTION_QUEUE_FULL,
    HTTP_503_SERVICE_UNAVAILABLE,
    LAYER_UNAVAILABLE,
    SHUTTING_DOWN,
)
from .daphne_compat import DENIAL_RESPONSE
from .ingress import Ingress
from .replies import websocket_events
from .transport import FLOW_CONTROL

if TYPE_CHECKING:
    from .app import InterfaceApp
    from .inbox import Inbox
    from .transport import TransportFlow

logger = logging.getLogger(__name__)

Send = Any
Receive = Any


class State(enum.Enum):
    CONNECTING = "connecting"
    OPEN = "open"
    CLOSED = "closed"


class WebsocketConnection:
    """The state of one socket and the two directions that move its messages."""

    __slots__ = (
        "app",
        "scope",
        "path",
        "_receive",
        "_send",
        "state",
        "order",
        "reply_channel",
        "announced",
        "told_gone",
        "_flow",
        "_health",
        "ingress",
    )

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
        self.reply_channel = ""
        # True once websocket.connect is on the layer: from then on consumers hear of the
        # end; and True once they have (websocket.disconnect goes out once).
        self.announced = False
        self.told_gone = False
        extensions = scope.get("extensions") or {}
        self._flow: TransportFlow | None = extensions.get(FLOW_CONTROL)
        services = app.services()
        options = app.options
        self._health = services.health
        self.ingress = Ingress(
            app.backend,
            app.layer.capabilities.once,
            services.health,
            services.watch,
            self._flow,
            max_outstanding=options.websocket_max_outstanding,
            hold_timeout=options.websocket_hold_timeout,
        )

    async def run(self) -> None:
        event = await self._receive()
        if event["type"] != "websocket.connect":
            return
        if self.app.draining:
            await self._deny(SHUTTING_DOWN)
            return
        dispatcher = self.app.dispatcher()
        self.reply_channel, inbox = await dispatcher.open(
            self.app.options.websocket_max_output, self._output_overflowed
        )
        try:
            if not await self._announce():
                return
            if await self._handshake(inbox):
                await self._converse(inbox)
        finally:
            dispatcher.close(self.reply_channel)
            self.ingress.abandoned = True
            if self.state is State.OPEN:  # ended without a close (the server stopping)
                self._closed()

    def _connect_message(self) -> dict[str, Any]:
        return dict(messages.websocket_connect(self.scope, self.reply_channel))

    def _subprotocol(self) -> str | None:
        """The first subprotocol the client offers that the server agrees to."""
        agreed = self.app.options.ws_protocols
        return next((p for p in self.scope.get("subprotocols") or () if p in agreed), None)

    # Layer side

    async def _announce(self) -> bool:
        """Sends websocket.connect; if the layer will not take it (full, unavailable), the
        handshake is answered 503 with the reason."""
        if not self._health.up:
            await self._deny(LAYER_UNAVAILABLE)
            return False
        try:
            await self.app.backend.send("websocket.connect", self._connect_message())
        except Exception as error:  # a full channel, Redis down, or another layer's error
            backpressure.refused("websocket.connect", error)
            if is_unavailable(error):
                self._health.failed(error)
            full = isinstance(error, ChannelFull)
            await self._deny(CONNECTION_QUEUE_FULL if full else LAYER_UNAVAILABLE)
            return False
        self.announced = True
        return True

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
                    await self._tell_gone(event.get("code", WS_1006_ABNORMAL_CLOSURE))
                    return False
                await self._apply(reply.result())
        finally:
            client.cancel()
        if self.state is State.CLOSED:
            await self._tell_gone(WS_1006_ABNORMAL_CLOSURE)
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
        """Writes replies as they come; while the client does not read (the connection's
        write buffer is full) they wait in the inbox."""
        flow = self._flow
        try:
            while self.state is State.OPEN:
                await self._apply(await inbox.get())
                if flow is not None and flow.write_blocked:
                    await flow.drained()
        except Exception:
            logger.exception("interface: writing to WebSocket %s failed", self.path)
            await self.abort()

    def _output_overflowed(self, size: int) -> None:
        """The inbox passed its limit: the client does not read. Its replies are dropped
        and it is closed with 1008."""
        logger.warning(
            "interface: WebSocket %s closed with 1008: %d bytes of replies waited for a client "
            "that does not read them (CHANNELS_WEBSOCKET_MAX_OUTPUT is %d)",
            self.path,
            size,
            self.app.options.websocket_max_output,
        )
        self.ingress.abandoned = True
        asyncio.ensure_future(self._close(WS_1008_POLICY_VIOLATION))

    async def abort(self) -> None:
        """Closes the socket with 1011 after an internal error (if it is still open)."""
        if self.state is State.CONNECTING:
            await self._reject()
        elif self.state is State.OPEN:
            await self._close(WS_1011_INTERNAL_ERROR)

    async def _read_frames(self) -> None:
        flow = self._flow
        while True:
            event = await self._receive()
            if flow is not None:
                flow.frame_taken()
            if event["type"] == "websocket.disconnect":
                self._closed()
                await self._tell_gone(event.get("code", WS_1006_ABNORMAL_CLOSURE))
                return
            if event["type"] == "websocket.receive" and self.state is State.OPEN:
                metrics.recorder.frame_in()
                self.order += 1
                message = messages.websocket_receive(
                    self.reply_channel, self.path, self.order, event
                )
                if not await self._put("websocket.receive", dict(message), frame=True):
                    if self.state is State.OPEN and not self.ingress.abandoned:
                        await self._close(WS_1013_TRY_AGAIN_LATER)

    async def _put(self, channel: str, message: dict[str, Any], *, frame: bool) -> bool:
        """``Ingress.put`` of a client frame (counted against the socket's bound) or of the
        socket's disconnect (sent even once it is closed); a message the layer cannot take
        at all is logged and dropped."""
        try:
            return await self.ingress.put(channel, message, tracked=frame, final=not frame)
        except Exception as error:
            logger.error(
                "interface: a message for %s from %s was dropped: %s: %s",
                channel,
                self.path,
                type(error).__name__,
                error,
            )
            return True

    async def close_and_tell(self, code: int, deadline: float) -> None:
        """The server ends this socket (shutting down, or the layer lost its data): it is
        closed with ``code`` (refused, if still connecting), what it holds is dropped, and
        its consumers get websocket.disconnect with ``code`` by ``deadline``."""
        self.ingress.abandoned = True
        if self.state is State.CONNECTING:
            await self._deny(SHUTTING_DOWN)
        else:
            await self._close(code)
        try:
            async with asyncio.timeout_at(deadline):
                await self._tell_gone(code)
        except TimeoutError:
            logger.warning(
                "interface: websocket.disconnect for %s could not be sent in time", self.path
            )

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
            kind = event["type"]
            if kind == "websocket.send":
                metrics.recorder.frame_out()
            elif kind == "websocket.accept":
                self.state = State.OPEN
                metrics.recorder.socket_opened()
            elif kind == "websocket.close":
                self._closed()

    async def _close(self, code: int) -> None:
        if self.state is not State.CLOSED:
            self._closed()
            await self._send({"type": "websocket.close", "code": code})

    def _closed(self) -> None:
        """The socket is closed now (counted once, if it was open)."""
        if self.state is State.OPEN:
            metrics.recorder.socket_closed()
        self.state = State.CLOSED

    async def _reject(self) -> None:
        """Refuses the handshake (HTTP 403) and tells the consumers the socket is gone."""
        await self._close(WS_1000_NORMAL_CLOSURE)
        await self._tell_gone(WS_1006_ABNORMAL_CLOSURE)

    async def _deny(self, reason: str) -> None:
        """Refuses the handshake with 503 and ``reason`` where the server can answer a
        handshake with an HTTP response (ASGI's denial response, which daphne_compat gives
        daphne); with 403 elsewhere."""
        if self.state is not State.CONNECTING:
            return
        self.state = State.CLOSED
        if DENIAL_RESPONSE not in (self.scope.get("extensions") or {}):
            await self._send({"type": "websocket.close", "code": WS_1000_NORMAL_CLOSURE})
            return
        body = reason.encode()
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

    async def _tell_gone(self, code: int) -> None:
        """Sends websocket.disconnect, once (and only after connect went out: nobody heard
        of the socket otherwise); held like a frame if the layer cannot take it yet."""
        if not self.announced or self.told_gone:
            return
        self.told_gone = True
        self.order += 1
        message = messages.websocket_disconnect(self.reply_channel, self.path, code, self.order)
        await self._put("websocket.disconnect", dict(message), frame=False)

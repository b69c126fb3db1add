"""The ASGI 3 application daphne serves, and what its connections share.

It runs no project code. Every WebSocket (and HTTP) event becomes a message on the layer,
and whatever arrives on a connection's reply channel goes back to its client. What it
promises a production deployment (fairness between sockets, bounded memory, outages,
shutdown) is written down in ``docs/production.md``.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..close_codes import WS_1001_GOING_AWAY, WS_1012_SERVICE_RESTART
from ..defaults import InterfaceOptions
from . import daphne_compat
from .dispatcher import ReplyDispatcher
from .health import LayerHealth
from .http import HttpConnection
from .ingress import ProgressWatch
from .websocket import WebsocketConnection

if TYPE_CHECKING:
    from ..layers.facade import ClassicLayer

logger = logging.getLogger(__name__)

#: The channel whose frames each socket may only have so many of waiting (see ``ingress``).
TRACKED_CHANNEL = "websocket.receive"


class LoopServices:
    """What the connections of one event loop share: the layer's health, the reply
    dispatcher, and the watch on how many frames each socket has waiting."""

    def __init__(self, app: InterfaceApp) -> None:
        capabilities = app.layer.capabilities
        self.health: LayerHealth = LayerHealth(
            capabilities.health, app.close_sockets_after_data_loss
        )
        self.dispatcher: ReplyDispatcher = ReplyDispatcher(
            capabilities, app.options.reply_channel_prefix, self.health
        )
        self.watch: ProgressWatch | None = (
            None
            if capabilities.progress is None
            else ProgressWatch(capabilities.progress, TRACKED_CHANNEL, self.health)
        )


class InterfaceApp:
    """ASGI 3 application bridging sockets to ``layer``."""

    def __init__(self, layer: ClassicLayer, options: InterfaceOptions) -> None:
        self.layer = layer
        self.backend = layer.channel_layer
        self.options = options
        #: True once the server is shutting down: new connections get 503.
        self.draining = False
        self._services: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopServices] = (
            weakref.WeakKeyDictionary()
        )
        self._running: dict[WebsocketConnection | HttpConnection, asyncio.Task[Any]] = {}
        daphne_compat.apply(options.websocket_max_message_size)
        daphne_compat.on_shutdown(self.shut_down)

    @classmethod
    def from_settings(cls, layer: ClassicLayer) -> InterfaceApp:
        return cls(layer, InterfaceOptions.from_settings())

    def services(self) -> LoopServices:
        """What the connections of the running event loop share."""
        loop = asyncio.get_running_loop()
        services = self._services.get(loop)
        if services is None:
            services = self._services[loop] = LoopServices(self)
        return services

    def dispatcher(self) -> ReplyDispatcher:
        """The reply-channel dispatcher of the running event loop."""
        return self.services().dispatcher

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "websocket":
            connection = WebsocketConnection(self, scope, receive, send)
            with self._tracking(connection):
                try:
                    await connection.run()
                except Exception:
                    logger.exception("interface: WebSocket %s failed", scope.get("path"))
                    await connection.abort()
        elif kind == "http":
            exchange = HttpConnection(self, scope, receive, send)
            with self._tracking(exchange):
                try:
                    await exchange.run()
                except Exception:
                    logger.exception(
                        "interface: HTTP %s failed (%s)", scope.get("path"), exchange.state.value
                    )
                    await exchange.fail()
        elif kind == "lifespan":
            await _lifespan(receive, send)
        else:
            raise ValueError(f"the interface server cannot serve ASGI scope type {kind!r}")

    @contextmanager
    def _tracking(self, connection: WebsocketConnection | HttpConnection) -> Iterator[None]:
        """Keeps ``connection`` (and its task) in the running set while it runs."""
        task = asyncio.current_task()
        assert task is not None
        self._running[connection] = task
        try:
            yield
        finally:
            del self._running[connection]

    # Shutting down, and a layer that lost its data

    async def shut_down(self) -> None:
        """On SIGTERM: every socket is closed with 1001 and its workers told at once;
        requests in flight have until ``shutdown_timeout`` to be answered, then get 503."""
        self.draining = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.shutdown_timeout
        sockets = [c for c in self._running if isinstance(c, WebsocketConnection)]
        exchanges = [c for c in self._running if isinstance(c, HttpConnection)]
        logger.info(
            "interface: shutting down: closing %d sockets, %d requests in flight",
            len(sockets),
            len(exchanges),
        )
        await asyncio.gather(
            *(socket.close_and_tell(WS_1001_GOING_AWAY, deadline) for socket in sockets)
        )
        pending = [self._running[exchange] for exchange in exchanges if exchange in self._running]
        if pending:
            await asyncio.wait(pending, timeout=max(deadline - loop.time(), 0))
        for exchange in exchanges:
            if exchange in self._running:
                await exchange.cut_off()
        for services in list(self._services.values()):
            services.health.close()

    async def close_sockets_after_data_loss(self) -> None:
        """The layer came back without its data: every socket's groups are gone, so each is
        closed with 1012 (its client reconnects and joins again) and its workers told."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.websocket_hold_timeout
        sockets = [c for c in self._running if isinstance(c, WebsocketConnection)]
        await asyncio.gather(
            *(socket.close_and_tell(WS_1012_SERVICE_RESTART, deadline) for socket in sockets)
        )


async def _lifespan(receive: Any, send: Any) -> None:
    """Answers the lifespan protocol (uvicorn speaks it; daphne does not): nothing to set up."""
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return

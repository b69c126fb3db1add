"""The interface server: the ASGI 3 application daphne serves (SPEC A1, X1–X3).

It runs no project code. Every WebSocket (and HTTP) event becomes a message on the layer,
and whatever arrives on a connection's reply channel goes back to its client.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING, Any

from ..defaults import InterfaceOptions
from . import daphne_compat
from .dispatcher import ReplyDispatcher
from .http import HttpConnection
from .websocket import WebsocketConnection

if TYPE_CHECKING:
    from ..layers.facade import ClassicLayer

logger = logging.getLogger(__name__)


class InterfaceApp:
    """ASGI 3 application bridging sockets to ``layer``."""

    def __init__(self, layer: ClassicLayer, options: InterfaceOptions) -> None:
        self.layer = layer
        self.backend = layer.channel_layer
        self.options = options
        self._dispatchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReplyDispatcher] = (
            weakref.WeakKeyDictionary()
        )
        daphne_compat.apply()

    @classmethod
    def from_settings(cls, layer: ClassicLayer) -> InterfaceApp:
        return cls(layer, InterfaceOptions.from_settings())

    def dispatcher(self) -> ReplyDispatcher:
        """The reply-channel dispatcher of the running event loop."""
        loop = asyncio.get_running_loop()
        dispatcher = self._dispatchers.get(loop)
        if dispatcher is None:
            dispatcher = self._dispatchers[loop] = ReplyDispatcher(
                self.backend, self.options.reply_channel_prefix
            )
        return dispatcher

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "websocket":
            connection = WebsocketConnection(self, scope, receive, send)
            try:
                await connection.run()
            except Exception:
                logger.exception("interface: WebSocket %s failed", scope.get("path"))
                await connection.abort()
        elif kind == "http":
            exchange = HttpConnection(self, scope, receive, send)
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


async def _lifespan(receive: Any, send: Any) -> None:
    """Answers the lifespan protocol (uvicorn speaks it; daphne does not): nothing to set up."""
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return

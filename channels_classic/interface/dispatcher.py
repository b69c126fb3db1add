"""Reply channels: one per connection, and the receive loop that feeds them.

With the project's layers the process channel (every reply channel of this process at once)
is received on once for the whole process, and each message goes to its connection's inbox;
messages for connections that are gone are dropped. The Redis layer hands the messages over
as it reads them (``deliver_all``): the connection writes its reply before the layer's
listener re-arms, with no receive loop in between. The in-memory layer is received from in
batches. With a layer that receives one channel per call (channels_redis), each connection
receives on its own.

A delivery stopped by an outage waits for the layer's health probe (``health``) and resumes
the moment the layer answers; other delivery errors are logged and retried after a back-off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ..exceptions import is_unavailable
from ..layers.capabilities import Capabilities, DeliversAll
from ..layers.receiving import Backoff, receive_forever
from ..names import non_local_name
from .health import LayerHealth
from .inbox import Inbox

logger = logging.getLogger(__name__)

#: The most reply messages one receive hands over.
REPLY_BATCH = 100


class ReplyDispatcher:
    """Makes reply channels for one process and event loop, and delivers their messages."""

    def __init__(self, backend: Capabilities, prefix: str, health: LayerHealth) -> None:
        self._backend = backend
        self._prefix = prefix
        self._health = health
        self._inboxes: dict[str, Inbox] = {}
        self._own_receivers: dict[str, asyncio.Task[None]] = {}
        self._pump: asyncio.Task[None] | None = None

    async def open(
        self, limit: int | None = None, on_overflow: Callable[[int], None] | None = None
    ) -> tuple[str, Inbox]:
        """A new reply channel and the inbox its messages will arrive in (``limit`` bytes at
        most: see ``Inbox``)."""
        name = await self._backend.layer.new_channel(self._prefix)
        inbox = Inbox(asyncio.get_running_loop(), limit, on_overflow)
        self._inboxes[name] = inbox
        if self._backend.delivery is not None or self._backend.batches is not None:
            if self._pump is None or self._pump.done():
                self._pump = asyncio.ensure_future(self._pump_for(non_local_name(name)))
        else:
            self._own_receivers[name] = asyncio.ensure_future(self._receive_for_one(name))
        return name, inbox

    def close(self, name: str) -> None:
        """Forgets ``name``: later messages for it are dropped."""
        self._inboxes.pop(name, None)
        receiver = self._own_receivers.pop(name, None)
        if receiver is not None:
            receiver.cancel()

    def _pump_for(self, process_channel: str) -> Coroutine[Any, Any, None]:
        """What feeds every inbox of this process: the layer's own delivery if it has one."""
        if self._backend.delivery is not None:
            return self._deliver_forever(self._backend.delivery, process_channel)
        return self._receive_for_all(process_channel)

    async def _deliver_forever(self, backend: DeliversAll, process_channel: str) -> None:
        backoff = Backoff()
        while True:
            try:
                await backend.deliver_all(process_channel, self._deliver)
            except Exception as error:
                if is_unavailable(error):
                    self._health.failed(error)
                    await self._health.wait_up(None)
                    continue
                delay = backoff.next()
                logger.error(
                    "interface: delivering replies failed (%s); retrying in %.1f s", error, delay
                )
                await asyncio.sleep(delay)

    async def _receive_for_all(self, process_channel: str) -> None:
        async for batch in receive_forever(
            self._backend, [process_channel], REPLY_BATCH, who="interface"
        ):
            for channel, message in batch:
                self._deliver(channel, message)

    def _deliver(self, channel: str, message: dict[str, Any]) -> None:
        inbox = self._inboxes.get(channel)
        if inbox is None:
            logger.debug("interface: reply for closed connection %s dropped", channel)
        else:
            inbox.put(message)

    async def _receive_for_one(self, name: str) -> None:
        async for batch in receive_forever(self._backend, [name], 1, who="interface"):
            for _, message in batch:
                inbox = self._inboxes.get(name)
                if inbox is not None:
                    inbox.put(message)

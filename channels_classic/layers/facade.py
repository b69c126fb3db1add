"""The object ``channels_classic.get_channel_layer()`` returns: the 1.x layer wrapper.

It is two things at once, so that ``daphne djchan.asgi:channel_layer`` keeps working on
daphne 4, which only serves ASGI 3 applications:

- the layer facade 1.x code imports: synchronous ``send``, ``send_group``, ``group_add``,
  ``group_discard``, ``new_channel``, ``flush``, ``receive``, the ``ChannelFull``
  attribute, and every other attribute of the backend;
- the ASGI 3 application daphne serves (``__call__``): the interface server that turns
  sockets into messages (see ``channels_classic.interface``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..exceptions import ChannelFull, MessageTooLarge
from ..names import classic_channel_name
from ..routing import Router
from .capabilities import Capabilities, ChannelLayer
from .receiving import receive_batch
from .sync import runner

if TYPE_CHECKING:
    from ..interface import InterfaceApp

#: How long a blocking ``receive(..., block=True)`` waits before returning (None, None).
BLOCKING_RECEIVE_TIMEOUT = 5.0
#: How long a non-blocking ``receive`` waits on a layer that cannot answer at once.
NON_BLOCKING_RECEIVE_TIMEOUT = 0.05


class ClassicLayer:
    """A channels 4 layer (``channel_layer``) wrapped for 1.x code and for daphne.

    ``capabilities`` says, once, what the backend can do beyond the channels 4 API; the
    worker, the interface server and the delay server read it there.
    """

    ChannelFull = ChannelFull
    MessageTooLarge = MessageTooLarge

    def __init__(
        self, channel_layer: ChannelLayer, alias: str = "default", routing: Any = None
    ) -> None:
        self.channel_layer = channel_layer
        self.capabilities = Capabilities.of(channel_layer)
        self.alias = alias
        self.routing = routing

    def __str__(self) -> str:
        backend = type(self.channel_layer)
        return f"{self.alias} ({backend.__module__}.{backend.__qualname__})"

    def __repr__(self) -> str:
        return f"<ClassicLayer {self}>"

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes this object lacks: forward them, as 1.x did.
        if name.startswith("__") or name == "channel_layer":
            raise AttributeError(name)
        return getattr(self.channel_layer, name)

    def local_only(self) -> bool:
        """True when the backend cannot span processes (runworker refuses it)."""
        return self.capabilities.local_only

    @cached_property
    def router(self) -> Router:
        """The routing of this alias, checked and ready to match messages."""
        return Router(self.routing)

    # The synchronous layer API

    def _call(
        self,
        blocking: Callable[..., None] | None,
        method: Callable[..., Coroutine[Any, Any, None]],
        *args: Any,
    ) -> None:
        """Calls the backend's blocking twin of ``method`` where it has one (the project's
        layers: straight to Redis from this thread), else ``method`` on the process's layer
        loop."""
        if blocking is not None:
            blocking(*args)
        else:
            runner.run(method, *args)

    def send(self, channel: str, message: dict[str, Any], *, once: Any = None) -> None:
        """Sends at once; raises ChannelFull when the channel is at capacity. (Here and in the
        other methods, a 1.x single-reader channel name becomes a valid one: ``names``.)
        ``once``: what the tries of one message share, made by the backend's ``once()``."""
        name = classic_channel_name(channel)
        sending = self.capabilities.once
        if once is not None and sending is not None:
            sending.send_sync(name, message, once=once)
            return
        twin = self.capabilities.blocking
        self._call(twin.send_sync if twin else None, self.channel_layer.send, name, message)

    def send_group(self, group: str, message: dict[str, Any], *, once: Any = None) -> None:
        """Sends to every member of ``group``; full members are skipped, never raised about.
        ``once`` as for ``send``."""
        sending = self.capabilities.once
        if once is not None and sending is not None:
            sending.group_send_sync(group, message, once=once)
            return
        twin = self.capabilities.blocking
        self._call(
            twin.group_send_sync if twin else None, self.channel_layer.group_send, group, message
        )

    def group_add(self, group: str, channel: str) -> None:
        twin = self.capabilities.blocking
        name = classic_channel_name(channel)
        self._call(twin.group_add_sync if twin else None, self.channel_layer.group_add, group, name)

    def group_discard(self, group: str, channel: str) -> None:
        twin = self.capabilities.blocking
        name = classic_channel_name(channel)
        self._call(
            twin.group_discard_sync if twin else None, self.channel_layer.group_discard, group, name
        )

    def new_channel(self, prefix: str = "specific") -> str:
        """A new process channel name (a 1.x pattern ending in '?' is accepted and trimmed)."""
        return runner.run(self.channel_layer.new_channel, prefix.rstrip("?!") or "specific")

    def flush(self) -> None:
        runner.run(self.channel_layer.flush)

    def receive(
        self, channels: Sequence[str], block: bool = False
    ) -> tuple[str, dict[str, Any]] | tuple[None, None]:
        """1.x receive: the first message on any of ``channels`` as (channel, message), or
        (None, None) if there is none now (``block=False``) or within 5 s (``block=True``).

        Without ``block``, the project's layers answer from what is already there; other
        layers are given about one round trip."""
        names = [classic_channel_name(channel) for channel in channels]
        received = runner.run(self._receive_one, names, block)
        return received if received else (None, None)

    receive_many = receive

    async def _receive_one(
        self, channels: list[str], block: bool
    ) -> tuple[str, dict[str, Any]] | None:
        ready = self.capabilities.ready
        if not block and ready is not None:
            received = await ready.receive_ready(channels, 1)
            return received[0] if received else None
        try:
            async with asyncio.timeout(
                BLOCKING_RECEIVE_TIMEOUT if block else NON_BLOCKING_RECEIVE_TIMEOUT
            ):
                ((channel, message),) = await receive_batch(self.capabilities, channels, 1)
        except TimeoutError:
            return None
        return channel, message

    # The ASGI 3 application

    @cached_property
    def interface(self) -> InterfaceApp:
        """The interface server, loaded when first served: it brings in daphne's Twisted,
        which a process that only sends (a worker, a script) has no use for."""
        from ..interface import InterfaceApp

        return InterfaceApp.from_settings(self)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.interface(scope, receive, send)

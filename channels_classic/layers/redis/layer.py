"""The Redis channel layer: the channels 4 layer API, built for many receiving processes.

Storage is channels_redis 4's (sorted sets scored by send time, the same message encoding,
the same group keys and shard hashing), so the two layers can share a Redis. What differs is
how it is used: a send is one script, one round trip, and concurrent sends share a
connection; receiving is done by one listener per shard and event loop (see ``receiver``),
which takes each message exactly once however many processes receive on a channel.

With several hosts, sends to a normal channel go to the shards in turn (as channels_redis
does: that is what spreads the load), so its messages keep their order per shard only. A
process channel's messages are sent to the shard picked by the hash of its name up to the
'!', a group's members are kept on the shard of the group name's hash, and receivers read
every shard: channels_redis 4.3 sends to a process channel on the shard of its full name's
hash, though its receivers (like this layer's senders) use the part up to the '!'.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
import weakref
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from ...exceptions import ProcessChannelOfAnotherLayer
from ...names import check_channel_name, non_local_name
from ..base import ClassicBaseLayer
from ..capabilities import Deliver, Received
from . import operations
from .codec import MessageCodec
from .loops import close_before_loop
from .once import Once, SendLanes
from .operations import SendClock, Ticket
from .receiver import Receiver
from .settings import Capacities, LayerSettings
from .shards import shards_of
from .wire.blocking import BlockingConnections
from .wire.cluster_pipe import pipe_to
from .wire.connection_settings import ConnectionSettings

logger = logging.getLogger(__name__)

#: The most messages one receive round trip takes from a channel.
RECEIVE_BATCH_SIZE = 100
#: How long a listener blocks in Redis before blocking again (an idle process sends one small
#: command this often; the read timeout is a little longer, to notice a vanished server).
BLOCK_TIMEOUT = 10.0
SCAN_BATCH = 1000
#: Lists of normal channels known to be valid to receive on (beyond this, forgotten at once).
KNOWN_RECEIVABLE = 256


class _LoopState:
    """The connections and receiver of one event loop (connections cannot cross loops)."""

    def __init__(self, settings: LayerSettings, shards: Sequence[ConnectionSettings]) -> None:
        self.pipes = [pipe_to(shard) for shard in shards]
        self.receiver = Receiver(settings, self.pipes)

    async def close(self) -> None:
        await self.receiver.close()
        await asyncio.gather(*(pipe.close() for pipe in self.pipes))


class RedisChannelLayer(ClassicBaseLayer):
    """Channel layer over one or more Redis servers.

    Arguments are those of channels_redis 4 (``hosts``, ``prefix``, ``expiry``,
    ``group_expiry``, ``capacity``, ``channel_capacity``, ``symmetric_encryption_keys``), plus
    ``receive_batch_size`` and ``block_timeout``. They are fixed once the layer is made: its
    pieces get them as ``settings``.
    """

    extensions = ["groups", "flush"]

    def __init__(
        self,
        hosts: Sequence[Any] | None = None,
        prefix: str = "asgi",
        expiry: float = 60,
        group_expiry: int = 86400,
        capacity: int = 100,
        channel_capacity: dict[Any, int] | None = None,
        symmetric_encryption_keys: Sequence[str | bytes] | None = None,
        receive_batch_size: int = RECEIVE_BATCH_SIZE,
        block_timeout: float = BLOCK_TIMEOUT,
    ) -> None:
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str, got {prefix!r}")
        for name, value in (
            ("expiry", expiry),
            ("group_expiry", group_expiry),
            ("block_timeout", block_timeout),
        ):
            _check_seconds(name, value)
        _check_count("capacity", capacity)
        _check_count("receive_batch_size", receive_batch_size)
        super().__init__(expiry=expiry, capacity=capacity)
        self.channel_capacity = self.compile_capacities(channel_capacity or {})
        self.prefix = prefix
        self.group_expiry = group_expiry
        placement = shards_of(hosts, prefix)
        #: Where each shard is and how to reach it (a shard's index is its place here).
        self.shards = placement.servers
        self.codec = MessageCodec(expiry, symmetric_encryption_keys)
        self.keys = placement.keys
        self._cluster = placement.cluster
        self.settings = LayerSettings(
            keys=self.keys,
            codec=self.codec,
            capacities=Capacities(capacity, self.channel_capacity),
            expiry=expiry,
            group_expiry=group_expiry,
            # Key lifetimes are set with PEXPIRE: to the millisecond, so that a fraction of a
            # second is honoured (a whole-second EXPIRE of 0 would delete the key at once).
            message_ttl_ms=_milliseconds(expiry),
            group_ttl_ms=_milliseconds(group_expiry),
            receive_batch_size=receive_batch_size,
            block_timeout=float(block_timeout),
            # Names made by new_channel() carry this, so only this layer object receives on
            # them.
            client_prefix=uuid.uuid4().hex,
        )
        self._clock = SendClock(len(self.shards))
        self._lanes = SendLanes(self.settings.client_prefix)
        self._blocking = BlockingConnections(self.shards)
        self._receivable: set[tuple[str, ...]] = set()
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        if self._cluster is not None:
            where = f"cluster={self._cluster} shards={len(self.shards)}"
        else:
            where = f"hosts=[{', '.join(shard.label for shard in self.shards)}]"
        return f"<{type(self).__name__} {where} prefix={self.prefix!r}>"

    @property
    def client_prefix(self) -> str:
        """What the names of this layer object's process channels carry (channels_redis's
        attribute of this name)."""
        return self.settings.client_prefix

    def get_capacity(self, channel: str) -> int:
        """How many messages ``channel`` may hold (channels 4's method, from the settings)."""
        return self.settings.capacities.of(channel)

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState(self.settings, self.shards)
            close_before_loop(loop, state.close)
        return state

    # Sending (see ``operations``: each operation is written once, run async or blocking)

    async def send(
        self, channel: str, message: dict[str, Any], *, once: Once | None = None
    ) -> None:
        """Sends ``message`` to ``channel``; raises ChannelFull when it is at capacity. Every
        try of one message may share a ``once()``: a retry then never delivers it twice."""
        plan = operations.send(self.settings, self._clock, channel, message, once, pipelined=True)
        await operations.drive(plan, self._state().pipes)

    def send_sync(self, channel: str, message: dict[str, Any], *, once: Once | None = None) -> None:
        """``send`` from synchronous code, on this thread's own connection."""
        plan = operations.send(self.settings, self._clock, channel, message, once, pipelined=False)
        operations.drive_blocking(plan, self._blocking)

    def once(self) -> AbstractContextManager[Once]:
        """What the tries of one message share (``with layer.once() as once:``, then
        ``once=once`` on each try), from any thread: a try whose connection broke before
        Redis answered can be made again without delivering the message twice, and one
        that never reached Redis is delivered. See ``once``."""
        return self._lanes.once()

    # What the interface server asks beyond the channels 4 API (``layers.capabilities``)

    async def send_tracked(
        self, channel: str, message: dict[str, Any], *, once: Once | None = None
    ) -> Ticket:
        """``send``, returning a ticket that ``progress`` can tell taken."""
        plan = operations.send(self.settings, self._clock, channel, message, once, pipelined=True)
        return await operations.drive(plan, self._state().pipes)

    async def progress(self, channel: str) -> Callable[[Ticket], bool]:
        """A test of whether the message of a ``send_tracked`` ticket has left ``channel``
        (taken by a receiver, or expired), true as of this call."""
        plan = operations.heads(self.settings, channel)
        heads = await operations.drive(plan, self._state().pipes)

        def taken(ticket: Ticket) -> bool:
            shard, score = ticket
            head = heads[shard]
            return head is None or head > score

        return taken

    async def ping(self) -> None:
        """Returns once every shard answers; raises ChannelLayerUnavailable otherwise."""
        await operations.drive(operations.ping(self.settings), self._state().pipes)

    async def mark(self, name: str, ttl: float) -> None:
        """Writes the marker ``name`` on every shard, for ``ttl`` seconds: a Redis that comes
        back without it has lost its data."""
        plan = operations.mark(self.settings, name, _milliseconds(ttl))
        await operations.drive(plan, self._state().pipes)

    async def is_marked(self, name: str) -> bool:
        """True while every shard holds the marker ``name``."""
        plan = operations.is_marked(self.settings, name)
        return await operations.drive(plan, self._state().pipes)

    async def count_waiting(self, channels: Sequence[str]) -> dict[str, int]:
        """How many unexpired messages wait in Redis on each of ``channels``, summed over
        the shards (one ZCOUNT per channel and shard, in one round trip). A process channel
        counts every message of its process: they share one key. Messages a receiver has
        already taken are not counted."""
        for channel in channels:
            check_channel_name(channel)
        plan = operations.count_waiting(self.settings, channels)
        return await operations.drive(plan, self._state().pipes)

    # Receiving

    async def receive(self, channel: str) -> dict[str, Any]:
        """Waits for the next message on ``channel`` and returns it."""
        ((_, message),) = await self.receive_batch([channel], 1)
        return message

    async def receive_batch(self, channels: Sequence[str], limit: int = 1) -> Received:
        """Waits for messages on any of ``channels``; returns 1 to ``limit`` (channel, message)
        pairs, oldest first per channel (per channel and shard, with several hosts).

        A name may be a normal channel, a process channel made by this layer's new_channel(),
        or such a name cut after its '!' (every process channel with that prefix); the pairs
        always carry full channel names.
        """
        self._check_receivable(channels)
        return await self._state().receiver.receive(channels, max(1, int(limit)))

    def _check_receivable(self, channels: Sequence[str]) -> None:
        if isinstance(channels, str) or not channels:
            raise TypeError(f"channels must be a non-empty list of names, got {channels!r}")
        names = tuple(channels)
        with contextlib.suppress(TypeError):  # an unhashable name: the checks below say so
            if names in self._receivable:
                return
        for channel in channels:
            check_channel_name(channel)
            own = self.client_prefix + "!"
            if "!" in channel and not non_local_name(channel).endswith(own):
                raise ProcessChannelOfAnotherLayer(
                    f"Cannot receive on {channel!r}: process channels can only be received "
                    "on by the layer object whose new_channel() made them"
                )
        # A worker receives on the same channels every time: they are checked once. (Process
        # channels come and go with their connections: they are not kept.)
        if not any("!" in name for name in names):
            if len(self._receivable) >= KNOWN_RECEIVABLE:
                self._receivable.clear()
            self._receivable.add(names)

    async def deliver_all(self, process: str, deliver: Deliver) -> None:
        """Calls ``deliver(channel, message)`` for every message of the process channels
        under ``process`` (a new_channel() name cut after its '!') as soon as it is read, on
        the running loop, until cancelled. Raises the error that stopped delivery (Redis
        unavailable, the layer closed); calling again resumes, losing nothing taken."""
        self._check_receivable([process])
        if not process.endswith("!"):
            raise ValueError(
                f"deliver_all() takes a process channel name cut after its '!', got {process!r}"
            )
        await self._state().receiver.deliver_all(process, deliver)

    async def release(self, channels: Sequence[str]) -> int:
        """Hands back to Redis, each in its place, every message this event loop's listeners
        took for the normal ``channels`` and no receive got (a receive called off may leave
        a pop in flight; this waits for it). Returns how many went back. For a process that
        stops receiving on ``channels``: a worker calls it when it stops."""
        state = self._states.get(asyncio.get_running_loop())
        if state is None:
            return 0
        return await state.receiver.release(channels)

    async def receive_ready(self, channels: Sequence[str], limit: int = 1) -> Received:
        """Like ``receive_batch`` but without waiting: 0 to ``limit`` messages already there."""
        self._check_receivable(channels)
        return await self._state().receiver.take_ready(channels, max(1, int(limit)))

    async def new_channel(self, prefix: str = "specific") -> str:
        """Returns a new process channel name that only this layer object receives on."""
        return check_channel_name(f"{prefix}.{self.client_prefix}!{uuid.uuid4().hex}")

    # Groups

    async def group_add(self, group: str, channel: str) -> None:
        """Adds ``channel`` to ``group``; it stays a member ``group_expiry`` s after this."""
        await operations.drive(
            operations.group_add(self.settings, group, channel), self._state().pipes
        )

    def group_add_sync(self, group: str, channel: str) -> None:
        operations.drive_blocking(
            operations.group_add(self.settings, group, channel), self._blocking
        )

    async def group_discard(self, group: str, channel: str) -> None:
        """Removes ``channel`` from ``group``; nothing happens if it was not a member."""
        await operations.drive(
            operations.group_discard(self.settings, group, channel), self._state().pipes
        )

    def group_discard_sync(self, group: str, channel: str) -> None:
        operations.drive_blocking(
            operations.group_discard(self.settings, group, channel), self._blocking
        )

    async def group_send(
        self, group: str, message: dict[str, Any], *, once: Once | None = None
    ) -> None:
        """Sends ``message`` to every member of ``group``; members at capacity are skipped
        (and counted in a warning), never raised about. ``once`` as for ``send``."""
        plan = operations.group_send(self.settings, self._clock, group, message, once)
        await operations.drive(plan, self._state().pipes)

    def group_send_sync(
        self, group: str, message: dict[str, Any], *, once: Once | None = None
    ) -> None:
        plan = operations.group_send(self.settings, self._clock, group, message, once)
        operations.drive_blocking(plan, self._blocking)

    # Housekeeping

    async def flush(self) -> None:
        """Deletes every message and group under this layer's prefix, on every shard (on a
        cluster: the keys of the layer's shards, on the nodes serving them)."""
        state = self._state()
        state.receiver.discard_buffered()
        for shard, pipe in enumerate(state.pipes):
            pattern = self.keys.scan_pattern(shard)
            cursor = b"0"
            while True:
                cursor, keys = await pipe.call(
                    "SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_BATCH
                )
                if keys:
                    await pipe.call("UNLINK", *keys)
                if cursor == b"0":
                    break

    async def close(self) -> None:
        """Closes this event loop's connections; the layer reconnects if used again."""
        state = self._states.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await state.close()

    async def close_pools(self) -> None:
        """``close()`` under channels_redis's name, which its users call in test teardown."""
        await self.close()

    def serialize(self, message: dict[str, Any]) -> bytes:
        """The stored form of ``message``, as channels_redis's method of this name gives it."""
        return self.codec.encode(message)

    def deserialize(self, message: bytes) -> dict[str, Any]:
        """The message dict of a stored form (channels_redis's method of this name)."""
        return self.codec.decode(message)


def _check_seconds(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(
            f"{name} must be a positive, finite number of seconds (fractions are honoured), "
            f"got {value!r}"
        )


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")


def _milliseconds(seconds: float) -> int:
    return math.ceil(seconds * 1000)

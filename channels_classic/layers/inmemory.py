"""A channel layer inside one process, for ``runserver`` and tests.

Unlike channels 4's in-memory layer it is thread-safe and works from any event loop: in
``runserver`` the interface runs in daphne's loop while consumers send from worker threads.
It also offers ``receive_batch`` like the Redis layer, so the worker uses both the same way.
Capacity defaults to 100 (1.x's 10 made runserver hit ChannelFull early).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from ..exceptions import ChannelFull
from ..names import check_channel_name, check_group_name
from .base import ClassicBaseLayer
from .capabilities import Received

logger = logging.getLogger(__name__)


class _Waiter:
    """A pending receive, woken on its own loop when messages are handed to it."""

    __slots__ = ("names", "limit", "received", "future", "loop")

    def __init__(self, names: Sequence[str], limit: int) -> None:
        self.names = names
        self.limit = limit
        self.received: Received = []
        self.loop = asyncio.get_running_loop()
        self.future: asyncio.Future[None] = self.loop.create_future()

    def accepts(self, channel: str) -> bool:
        return any(_names(name, channel) for name in self.names)


def _names(name: str, channel: str) -> bool:
    """True if ``name`` stands for ``channel``: it is, or it is its process's name ("x!")."""
    return channel == name or (name.endswith("!") and channel.startswith(name))


class InMemoryChannelLayer(ClassicBaseLayer):
    """Channel layer in process memory; messages and groups vanish with the process."""

    extensions = ["groups", "flush"]
    #: No other process sees these messages (runworker refuses the layer).
    local_only = True

    def __init__(
        self,
        expiry: float = 60,
        group_expiry: int = 86400,
        capacity: int = 100,
        channel_capacity: dict[Any, int] | None = None,
    ) -> None:
        super().__init__(expiry=expiry, capacity=capacity)
        self.channel_capacity = self.compile_capacities(channel_capacity or {})
        self.group_expiry = group_expiry
        self._lock = threading.Lock()
        self._channels: dict[str, deque[tuple[float, dict[str, Any]]]] = {}
        self._groups: dict[str, dict[str, float]] = {}
        self._waiters: list[_Waiter] = []

    # Sending

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Queues a copy of ``message``; ChannelFull when ``channel`` is at capacity."""
        self.send_sync(channel, message)

    def send_sync(self, channel: str, message: dict[str, Any]) -> None:
        """``send`` for synchronous code (it never waits, so it needs no event loop)."""
        check_channel_name(channel)
        if not isinstance(message, dict):
            raise TypeError(f"Message for {channel!r} must be a dict, got {type(message).__name__}")
        with self._lock:
            if not self._put(channel, message):
                raise ChannelFull(
                    f"Channel {channel!r} is full ({self.get_capacity(channel)} messages "
                    "waiting): nothing is receiving on it fast enough"
                )

    def _put(self, channel: str, message: dict[str, Any]) -> bool:
        """Queues (or hands over) a copy; False when full. Call with the lock held."""
        queue = self._channels.setdefault(channel, deque())
        self._expire(queue)
        if len(queue) >= self.get_capacity(channel):
            return False
        queue.append((time.time() + self.expiry, copy.deepcopy(message)))
        self._hand_over(channel, queue)
        return True

    @staticmethod
    def _expire(queue: deque[tuple[float, dict[str, Any]]]) -> None:
        now = time.time()
        while queue and queue[0][0] < now:
            queue.popleft()

    def _hand_over(self, channel: str, queue: deque[tuple[float, dict[str, Any]]]) -> None:
        """Gives queued messages to waiters that accept them. Call with the lock held."""
        for waiter in list(self._waiters):
            if not queue:
                break
            if not waiter.accepts(channel) or waiter.future.done():
                continue
            first = not waiter.received
            while queue and len(waiter.received) < waiter.limit:
                waiter.received.append((channel, queue.popleft()[1]))
            if len(waiter.received) >= waiter.limit:
                self._waiters.remove(waiter)
            if first:
                if _running_loop() is waiter.loop:
                    waiter.loop.call_soon(_wake, waiter.future)
                else:
                    waiter.loop.call_soon_threadsafe(_wake, waiter.future)
        if not queue:
            del self._channels[channel]

    # Receiving

    async def receive(self, channel: str) -> dict[str, Any]:
        """Waits for the next message on ``channel`` and returns it."""
        ((_, message),) = await self.receive_batch([channel], 1)
        return message

    async def receive_batch(self, channels: Sequence[str], limit: int = 1) -> Received:
        """Waits for messages on any of ``channels`` (a name ending in '!' matches every
        process channel under it); returns 1 to ``limit`` (channel, message) pairs."""
        waiter = _Waiter(self._check_receivable(channels), max(1, int(limit)))
        with self._lock:
            self._take_ready(waiter)
            if waiter.received:
                return waiter.received
            self._waiters.append(waiter)
        try:
            await waiter.future
        except BaseException:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                for channel, message in reversed(waiter.received):
                    self._channels.setdefault(channel, deque()).appendleft(
                        (time.time() + self.expiry, message)
                    )
                    self._hand_over(channel, self._channels[channel])
            raise
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            return waiter.received

    async def receive_ready(self, channels: Sequence[str], limit: int = 1) -> Received:
        """Like ``receive_batch`` but without waiting: 0 to ``limit`` messages already there."""
        waiter = _Waiter(self._check_receivable(channels), max(1, int(limit)))
        with self._lock:
            self._take_ready(waiter)
        return waiter.received

    async def count_waiting(self, channels: Sequence[str]) -> dict[str, int]:
        """How many unexpired messages wait on each of ``channels`` (for a name cut after
        its '!': on every process channel under it)."""
        names = [check_channel_name(channel) for channel in channels]
        with self._lock:
            for queue in self._channels.values():
                self._expire(queue)
            return {
                name: sum(
                    len(queue) for channel, queue in self._channels.items() if _names(name, channel)
                )
                for name in names
            }

    @staticmethod
    def _check_receivable(channels: Sequence[str]) -> list[str]:
        if isinstance(channels, str) or not channels:
            raise TypeError(f"channels must be a non-empty list of names, got {channels!r}")
        return [check_channel_name(channel) for channel in channels]

    def _take_ready(self, waiter: _Waiter) -> None:
        """Gives ``waiter`` what is queued for it now. Call with the lock held."""
        for name, queue in list(self._channels.items()):
            if waiter.accepts(name):
                self._expire(queue)
                while queue and len(waiter.received) < waiter.limit:
                    waiter.received.append((name, queue.popleft()[1]))
                if not queue:
                    del self._channels[name]

    async def new_channel(self, prefix: str = "specific") -> str:
        """Returns a new process channel name."""
        suffix = "".join(secrets.choice(string.ascii_letters) for _ in range(12))
        return check_channel_name(f"{prefix}.inmemory!{suffix}")

    # Groups

    async def group_add(self, group: str, channel: str) -> None:
        self.group_add_sync(group, channel)

    def group_add_sync(self, group: str, channel: str) -> None:
        check_group_name(group)
        check_channel_name(channel)
        with self._lock:
            self._groups.setdefault(group, {})[channel] = time.time()

    async def group_discard(self, group: str, channel: str) -> None:
        self.group_discard_sync(group, channel)

    def group_discard_sync(self, group: str, channel: str) -> None:
        check_group_name(group)
        check_channel_name(channel)
        with self._lock:
            members = self._groups.get(group)
            if members is not None:
                members.pop(channel, None)
                if not members:
                    del self._groups[group]

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Sends to every member; members at capacity are skipped and counted in a warning."""
        self.group_send_sync(group, message)

    def group_send_sync(self, group: str, message: dict[str, Any]) -> None:
        check_group_name(group)
        if not isinstance(message, dict):
            raise TypeError(f"Message for {group!r} must be a dict, got {type(message).__name__}")
        with self._lock:
            members = self._groups.get(group, {})
            cutoff = time.time() - self.group_expiry
            for channel in [name for name, added in members.items() if added < cutoff]:
                del members[channel]
            full = sum(not self._put(channel, message) for channel in list(members))
        if full:
            logger.warning(
                "in-memory layer: group %r: %d of %d member channels are at capacity and "
                "were skipped",
                group,
                full,
                len(members),
            )

    # Housekeeping

    async def flush(self) -> None:
        with self._lock:
            self._channels.clear()
            self._groups.clear()

    async def close(self) -> None:
        """Nothing to close: the layer holds no connections."""


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)

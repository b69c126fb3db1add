"""Messages a process has taken from Redis before anyone asked for them.

All messages for one process's channels (``name!...``) share one Redis key, and only this
process can receive them, so the receiver reads ahead on that key: messages wait here, per
channel, until their receiver asks or they expire. A message of a normal channel lands here
only when its receiver gave up (was cancelled) after it was taken; the receiver puts those
back into Redis at once.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from ...names import non_local_name
from .delivery import Delivery

logger = logging.getLogger(__name__)


class Buffers:
    """Undelivered messages by channel name, oldest first, each channel bounded."""

    def __init__(self, capacity_of: Callable[[str], int]) -> None:
        self._capacity_of = capacity_of
        self._by_channel: dict[str, deque[Delivery]] = {}
        # "name!" -> the full channel names under it that have messages here, in arrival order.
        self._by_process: dict[str, dict[str, None]] = {}
        # "name!" -> how many messages its channels hold here.
        self._process_counts: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self._by_channel)

    def held_for(self, process: str) -> int:
        """How many messages the channels of ``process`` ("name!") hold here."""
        return self._process_counts.get(process, 0)

    def add(self, delivery: Delivery) -> None:
        """Keeps ``delivery``; drops a process channel's oldest message when over its
        capacity (a normal channel's are put back into Redis at once: none is dropped)."""
        channel = delivery.channel
        queue = self._by_channel.get(channel)
        if queue is None:
            queue = self._by_channel[channel] = deque()
            if "!" in channel:
                self._by_process.setdefault(non_local_name(channel), {})[channel] = None
        queue.append(delivery)
        self._count(channel, 1)
        if "!" in channel and len(queue) > self._capacity_of(channel):
            queue.popleft()
            self._count(channel, -1)
            logger.warning(
                "redis layer: channel %r has more undelivered messages than its capacity; "
                "dropped the oldest. Is anything still receiving on it?",
                channel,
            )

    def take(self, name: str, limit: int) -> list[Delivery]:
        """Up to ``limit`` messages for ``name``: a channel, or a whole process ("name!")."""
        if not name.endswith("!"):
            return self._take_channel(name, limit)
        taken: list[Delivery] = []
        for channel in list(self._by_process.get(name, ())):
            taken += self._take_channel(channel, limit - len(taken))
            if len(taken) >= limit:
                break
        return taken

    def drain(self, include: Callable[[str], bool]) -> list[Delivery]:
        """Removes and returns every message of the channels ``include`` accepts."""
        drained: list[Delivery] = []
        for channel in [channel for channel in self._by_channel if include(channel)]:
            drained += self._take_channel(channel, len(self._by_channel[channel]))
        return drained

    def expire(self, cutoff: float) -> int:
        """Drops messages sent before ``cutoff``; returns how many. Scans every channel."""
        dropped = 0
        for channel, queue in list(self._by_channel.items()):
            expired = 0
            while expired < len(queue) and queue[expired].score < cutoff:
                expired += 1
            if expired:
                self._take_channel(channel, expired)
                dropped += expired
        return dropped

    def _take_channel(self, channel: str, limit: int) -> list[Delivery]:
        queue = self._by_channel.get(channel)
        if not queue or limit <= 0:
            return []
        taken = [queue.popleft() for _ in range(min(limit, len(queue)))]
        self._count(channel, -len(taken))
        if not queue:
            del self._by_channel[channel]
            if "!" in channel:
                process = non_local_name(channel)
                channels = self._by_process[process]
                del channels[channel]
                if not channels:
                    del self._by_process[process]
        return taken

    def _count(self, channel: str, change: int) -> None:
        if "!" in channel:
            process = non_local_name(channel)
            count = self._process_counts.get(process, 0) + change
            if count:
                self._process_counts[process] = count
            else:
                self._process_counts.pop(process, None)

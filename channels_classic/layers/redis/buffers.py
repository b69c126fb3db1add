"""Messages a process has taken from Redis before anyone asked for them.

All messages for one process's channels (``name!...``) share one Redis key, so taking a batch
for one of them takes the others' too; they wait here, per channel, until their receiver
asks or they expire. A message of a normal channel lands here only when its receiver gave
up (was cancelled) after it was taken; the receiver puts those back into Redis.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ...names import non_local_name

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Delivery:
    """One message taken from Redis, and what is needed to put it back there."""

    channel: str
    message: dict[str, Any]
    score: float
    shard: int
    key: bytes
    member: bytes


class Buffers:
    """Undelivered messages by channel name, oldest first, each channel bounded."""

    def __init__(self, capacity_of: Callable[[str], int]) -> None:
        self._capacity_of = capacity_of
        self._by_channel: dict[str, deque[Delivery]] = {}
        # "name!" -> the full channel names under it that have messages here, in arrival order.
        self._by_process: dict[str, dict[str, None]] = {}

    def __bool__(self) -> bool:
        return bool(self._by_channel)

    def add(self, delivery: Delivery) -> None:
        """Keeps ``delivery``; drops the channel's oldest message when over its capacity."""
        queue = self._by_channel.get(delivery.channel)
        if queue is None:
            queue = self._by_channel[delivery.channel] = deque()
            if "!" in delivery.channel:
                process = non_local_name(delivery.channel)
                self._by_process.setdefault(process, {})[delivery.channel] = None
        queue.append(delivery)
        if len(queue) > self._capacity_of(delivery.channel):
            queue.popleft()
            logger.warning(
                "redis layer: channel %r has more undelivered messages than its capacity; "
                "dropped the oldest. Is anything still receiving on it?",
                delivery.channel,
            )

    def take(self, name: str, limit: int) -> list[Delivery]:
        """Up to ``limit`` messages for ``name``: a channel, or a whole process ("name!")."""
        if name.endswith("!"):
            taken: list[Delivery] = []
            for channel in list(self._by_process.get(name, ())):
                taken += self._take_channel(channel, limit - len(taken))
                if len(taken) >= limit:
                    break
            return taken
        return self._take_channel(name, limit)

    def _take_channel(self, channel: str, limit: int) -> list[Delivery]:
        queue = self._by_channel.get(channel)
        if not queue:
            return []
        taken = [queue.popleft() for _ in range(min(limit, len(queue)))]
        if not queue:
            self._forget(channel)
        return taken

    def _forget(self, channel: str) -> None:
        del self._by_channel[channel]
        if "!" in channel:
            process = non_local_name(channel)
            channels = self._by_process[process]
            del channels[channel]
            if not channels:
                del self._by_process[process]

    def drain(self, include: Callable[[str], bool]) -> list[Delivery]:
        """Removes and returns every message of the channels ``include`` accepts."""
        drained: list[Delivery] = []
        for channel in [channel for channel in self._by_channel if include(channel)]:
            drained += self._by_channel[channel]
            self._forget(channel)
        return drained

    def expire(self, cutoff: float) -> int:
        """Drops messages sent before ``cutoff``; returns how many. Scans every channel."""
        dropped = 0
        for channel, queue in list(self._by_channel.items()):
            while queue and queue[0].score < cutoff:
                queue.popleft()
                dropped += 1
            if not queue:
                self._forget(channel)
        return dropped

    def __iter__(self) -> Iterator[Delivery]:
        for queue in self._by_channel.values():
            yield from queue

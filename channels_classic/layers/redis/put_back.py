"""Taken messages that nobody in this process will receive: back into Redis, in their place.

A listener's command is never called off, so what it took after its receiver gave up lands
here, as does what a cancelled receive had been given. Each message goes back to the key it
was taken from with its original score, so it keeps its place in line.

The commands are queued on the connections at once, never left to a task: a loop that is
shutting down cancels its tasks first (``asyncio.run`` does), and a put-back cancelled
before it ran would lose its messages. A script call goes through even when nobody waits
for its reply any more (see ``wire.pipe``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from . import scripts
from .delivery import Delivery
from .settings import LayerSettings
from .wire.pipe import CommandPipe

logger = logging.getLogger(__name__)

#: How long a stopping receiver waits for Redis to confirm what it put back.
CONFIRM_TIMEOUT = 2.0


class PutBacks:
    """The put-backs of one event loop's receiver, until Redis has answered each."""

    def __init__(self, settings: LayerSettings, pipes: Sequence[CommandPipe]) -> None:
        self._settings = settings
        self._pipes = pipes
        # Put-back commands not answered yet, with the messages each returns.
        self._pending: dict[asyncio.Future[Any], list[Delivery]] = {}

    def send(self, deliveries: Iterable[Delivery]) -> None:
        """Queues the return of ``deliveries`` (one script call per shard); a failure is
        logged, naming what was lost."""
        by_shard: dict[int, list[Delivery]] = {}
        for delivery in deliveries:
            by_shard.setdefault(delivery.shard, []).append(delivery)
        for shard, group in by_shard.items():
            args: list[Any] = []
            for delivery in group:
                args += [repr(delivery.score), delivery.member]
            call = scripts.put_back(
                [delivery.key for delivery in group], [*args, self._settings.message_ttl_ms]
            )
            putting_back = self._pipes[shard].run(call)
            self._pending[putting_back] = group
            putting_back.add_done_callback(self._answered)

    def _answered(self, putting_back: asyncio.Future[Any]) -> None:
        group = self._pending.pop(putting_back)
        error = None if putting_back.cancelled() else putting_back.exception()
        if error is not None:
            logger.error(
                "redis layer: %d taken messages could not be put back into %s and are lost: %s",
                len(group),
                self._pipes[group[0].shard].server.label,
                error,
            )

    async def confirmed(self, channels: Collection[str] | None = None) -> int:
        """Waits (CONFIRM_TIMEOUT at most) until Redis has answered every put-back under way
        of ``channels`` (None: of every channel); returns how many of their messages it
        confirmed."""
        counts = {
            putting_back: sum(channels is None or d.channel in channels for d in group)
            for putting_back, group in self._pending.items()
        }
        counts = {putting_back: count for putting_back, count in counts.items() if count}
        if not counts:
            return 0
        answered, unanswered = await asyncio.wait(counts, timeout=CONFIRM_TIMEOUT)
        if unanswered:
            logger.warning(
                "redis layer: Redis did not confirm within %.0f s that %d taken messages are "
                "back; they may be lost",
                CONFIRM_TIMEOUT,
                sum(counts[putting_back] for putting_back in unanswered),
            )
        return sum(
            count
            for putting_back, count in counts.items()
            if putting_back in answered
            and not putting_back.cancelled()
            and putting_back.exception() is None
        )

"""Receiving from several channels at once, whatever the backend, and for as long as it takes.

The project's layers have ``receive_batch(channels, limit)``. A channels 4 layer such as
channels_redis receives on one channel per call, so several channels are raced: one receive
per channel, the first answer wins and the others are cancelled. Receive loops never end on
a layer error (Redis down): they log it and try again after a back-off. A process that
stops receiving hands back what its layer took for it (``release``). Each function takes the
backend's ``Capabilities``, found once when it was wrapped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

from .. import metrics
from .capabilities import Capabilities, Received

logger = logging.getLogger(__name__)

#: After a failed receive the next try waits RETRY_FIRST seconds, doubling up to RETRY_MAX.
RETRY_FIRST, RETRY_MAX = 0.1, 5.0


class Backoff:
    """How long to wait before retrying after a layer error: doubles, resets on success."""

    def __init__(self) -> None:
        self.delay = RETRY_FIRST

    def next(self) -> float:
        """The wait before this retry (the one after waits twice as long)."""
        delay, self.delay = self.delay, min(self.delay * 2, RETRY_MAX)
        return delay

    def reset(self) -> None:
        self.delay = RETRY_FIRST


async def receive_retrying(
    capabilities: Capabilities, channels: Sequence[str], limit: int, backoff: Backoff, *, who: str
) -> Received:
    """``receive_batch`` until it succeeds: a failed receive is logged (naming ``who``) and
    tried again after ``backoff``'s wait."""
    failing = False
    while True:
        try:
            batch = await receive_batch(capabilities, channels, limit)
        except Exception as error:
            failing = True
            metrics.recorder.layer_error(who)
            await _retry_after(backoff.next(), error, channels, who)
            continue
        if failing:
            metrics.recorder.layer_reconnected(who)
        backoff.reset()
        return batch


async def _retry_after(delay: float, error: Exception, channels: Sequence[str], who: str) -> None:
    names = ", ".join(channels)
    logger.error("%s: receiving on %s failed (%s); retrying in %.1f s", who, names, error, delay)
    await asyncio.sleep(delay)


async def receive_forever(
    capabilities: Capabilities, channels: Sequence[str], limit: int, *, who: str
) -> AsyncIterator[Received]:
    """Yields each batch received on ``channels``, for ever, retrying failed receives."""
    backoff = Backoff()
    while True:
        yield await receive_retrying(capabilities, channels, limit, backoff, who=who)


async def release(capabilities: Capabilities, channels: Sequence[str]) -> int:
    """Hands back what the backend took for ``channels`` and no receive got (the project's
    Redis layer may hold a message its last pop took when the receive was called off);
    returns how many messages went back. Layers without ``release`` (channels 4's) hand back
    nothing."""
    if capabilities.release is None:
        return 0
    return await capabilities.release.release(list(channels))


async def receive_batch(
    capabilities: Capabilities, channels: Sequence[str], limit: int = 1
) -> Received:
    """Waits for messages on any of ``channels``; returns 1 to ``limit`` (channel, message)."""
    if capabilities.batches is not None:
        return await capabilities.batches.receive_batch(list(channels), limit)
    backend = capabilities.layer
    if len(channels) == 1:
        return [(channels[0], await backend.receive(channels[0]))]
    tasks = {asyncio.ensure_future(backend.receive(channel)): channel for channel in channels}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
    # Receives that finished together all keep their message, even past ``limit``.
    return [(tasks[task], task.result()) for task in done]

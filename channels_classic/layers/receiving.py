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


#: A receive failure this long (seconds) after the last one starts a new outage, logged
#: again; closer ones are the same outage (a cluster failover fails a shard, then another).
OUTAGE_QUIET = 10.0


class Backoff:
    """How long to wait before retrying after a layer error: doubles, resets on success.
    It also tells a new outage (worth an error in the log) from more of the same."""

    def __init__(self) -> None:
        self.delay = RETRY_FIRST
        self._last_failure = -OUTAGE_QUIET

    def new_outage(self, now: float) -> bool:
        """Records a failure at ``now``; True if it starts an outage."""
        new, self._last_failure = now - self._last_failure >= OUTAGE_QUIET, now
        return new

    def next(self) -> float:
        """The wait before this retry (the one after waits twice as long)."""
        delay, self.delay = self.delay, min(self.delay * 2, RETRY_MAX)
        return delay

    def reset(self) -> None:
        self.delay = RETRY_FIRST


async def receive_retrying(
    capabilities: Capabilities, channels: Sequence[str], limit: int, backoff: Backoff, *, who: str
) -> Received:
    """``receive_batch`` until it succeeds: a failed receive is tried again after
    ``backoff``'s wait. An outage is logged once (naming ``who``) when it starts, its
    further failures only at debug level, and when receiving works again."""
    failures = 0
    started = 0.0
    while True:
        try:
            batch = await receive_batch(capabilities, channels, limit)
        except Exception as error:
            metrics.recorder.layer_error(who)
            delay = backoff.next()
            now = asyncio.get_running_loop().time()
            level = logging.ERROR if backoff.new_outage(now) else logging.DEBUG
            if not failures:
                started = now
            failures += 1
            names = ", ".join(channels)
            logger.log(
                level,
                "%s: receiving on %s failed (%s); retrying in %.1f s",
                who,
                names,
                error,
                delay,
            )
            await asyncio.sleep(delay)
            continue
        if failures:
            metrics.recorder.layer_reconnected(who)
            logger.info(
                "%s: receiving works again, after %d failed tries over %.1f s",
                who,
                failures,
                asyncio.get_running_loop().time() - started,
            )
        backoff.reset()
        return batch


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

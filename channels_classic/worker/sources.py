"""Where a worker's messages come from: receives sized to the worker's free threads.

A worker asks for messages only when it has a thread free, and for no more than it has free,
so that what it cannot run yet stays on the layer for another worker.

- The project's layers wait on every channel in one call and take up to that many messages
  (``BatchSource``). A receive there can be called off at any time: what the layer took for
  it goes back, and closing the source waits until the layer has handed back what its last
  commands took (``release``), so that a stopping worker keeps nothing.
- Layers that receive one channel per call (channels_redis, channels 4's in-memory layer)
  get one receive loop per channel (``PerChannelSource``). A receive there cannot be called
  off without risking its message (channels_redis may already have popped it), so each loop
  only starts a receive while the worker is asking for messages. When several channels
  deliver at that moment, the extra messages (at most one per other channel) are held here
  and handed over first next time; when the worker stops they are put back on their
  channels (at the end: those layers cannot say where a message was). A receive there may
  also swallow its cancellation (a timeout inside redis-py or channels_redis that expires
  as the cancel arrives, on Python 3.11), so a stop cancels the loops until they end.

Receive errors are logged and retried with back-off (``layers.receiving``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncGenerator
from typing import Any, Protocol, cast

from ..layers.capabilities import Capabilities, Received
from ..layers.receiving import Backoff, receive_forever, receive_retrying, release

logger = logging.getLogger(__name__)

#: How receive errors name the receiver in logs.
WHO = "worker"
#: A receive loop still running after being cancelled is cancelled again this often.
RECANCEL_EVERY = 0.1


class Source(Protocol):
    """Messages for a worker."""

    async def take(self, limit: int, idle_wait: float | None) -> Received:
        """1 to ``limit`` (channel, message) pairs; [] if none came within ``idle_wait``
        seconds (None: wait as long as it takes)."""

    async def close(self) -> None:
        """Stops receiving; what was received but not taken goes back to the layer."""


def make_source(backend: Capabilities, channels: list[str]) -> Source:
    """The source that suits ``backend``."""
    if backend.batches is not None:
        return BatchSource(backend, channels)
    return PerChannelSource(backend, channels)


def _batches(
    backend: Capabilities, channels: list[str], limit: int
) -> AsyncGenerator[Received, None]:
    """``receive_forever`` on ``channels``, typed as the generator it is (to be closed)."""
    return cast(AsyncGenerator[Received, None], receive_forever(backend, channels, limit, who=WHO))


class BatchSource:
    """One receive waits on every channel and takes up to ``limit`` messages."""

    def __init__(self, backend: Capabilities, channels: list[str]) -> None:
        self._backend = backend
        self._channels = channels
        self._backoff = Backoff()

    async def take(self, limit: int, idle_wait: float | None) -> Received:
        # The layers give back what a cancelled receive took: a timeout or a stop loses nothing.
        receiving = receive_retrying(self._backend, self._channels, limit, self._backoff, who=WHO)
        if idle_wait is None:
            return await receiving
        try:
            async with asyncio.timeout(idle_wait):
                return await receiving
        except TimeoutError:
            return []

    async def close(self) -> None:
        """Receives are only made inside ``take``; what the layer took for the last one (or
        its pop still in flight) goes back to the channels, in place."""
        released = await release(self._backend, self._channels)
        if released:
            logger.info(
                "worker: handed back %d message(s) the layer had taken for it but it had not "
                "run (back on their channels, in their places)",
                released,
            )


class PerChannelSource:
    """A receive loop per channel, receiving only while ``take`` is waiting."""

    def __init__(self, backend: Capabilities, channels: list[str]) -> None:
        self._backend = backend
        self._held: deque[tuple[str, dict[str, Any]]] = deque()
        self._wanted = asyncio.Event()
        self._arrived = asyncio.Event()
        self._closing = False
        self._receivers = [asyncio.ensure_future(self._receive(channel)) for channel in channels]

    async def _receive(self, channel: str) -> None:
        batches = _batches(self._backend, [channel], 1)
        try:
            while not self._closing:
                # Checked again after waking: another channel may have answered first.
                while not self._wanted.is_set():
                    await self._wanted.wait()
                self._held.extend(await anext(batches))
                self._wanted.clear()
                self._arrived.set()
        finally:
            await batches.aclose()

    async def take(self, limit: int, idle_wait: float | None) -> Received:
        if not self._held:
            self._arrived.clear()
            self._wanted.set()
            try:
                async with asyncio.timeout(idle_wait):
                    await self._arrived.wait()
            except TimeoutError:
                return []
            finally:
                self._wanted.clear()
        return [self._held.popleft() for _ in range(min(limit, len(self._held)))]

    async def close(self) -> None:
        self._closing = True
        running = set(self._receivers)
        while running:
            for receiver in running:
                receiver.cancel()
            _, running = await asyncio.wait(running, timeout=RECANCEL_EVERY)
        if self._held:
            logger.info("worker: putting back %d messages received but not run", len(self._held))
        while self._held:
            channel, message = self._held.popleft()
            try:
                await self._backend.layer.send(channel, message)
            except Exception as error:
                logger.error(
                    "worker: a message received on %s but not run could not be put back "
                    "(%s: %s); it is lost",
                    channel,
                    type(error).__name__,
                    error,
                )

"""The worker: takes messages from the layer and runs their consumers (SPEC W1–W15).

One asyncio loop receives; consumers run in threads (``consumer_threads``). What a consumer
sent goes out once it has returned, even if it raised (SPEC P3): from its own thread,
straight to the layer, when the worker has nothing else in hand (a reply needs no trip back
through the loop), and from the loop under load (where sends share round trips). The worker
takes at most as many messages as it has threads (so it never hoards work another worker
could do): with the project's layers one receive call waits on every routed channel at once
and takes up to the number of free threads; with other layers one receive loop per channel
feeds a queue bounded by the thread count.

Messages of one reply channel never run at the same time in one worker: a message whose
connection is busy waits for the one running. A consumer's exception is logged with its name
and the channel, and the worker goes on; layer errors are logged and retried with back-off.
SIGTERM or SIGINT stops receiving, finishes and flushes what was taken, and returns; a second
signal exits at once.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from . import outbox
from .consumer_threads import ConsumerThreads
from .exceptions import ChannelFull, ChannelSocketException, ConsumeLater, DenyConnection
from .layers.facade import ClassicLayer
from .layers.receiving import Backoff, Received, has_batch_receive, receive_forever
from .message import Message
from .service import Service
from .signals import consumer_finished, consumer_started, worker_ready

logger = logging.getLogger(__name__)

#: How many times ConsumeLater may put a message back before it is dropped (SPEC W9).
MESSAGE_RETRIES = 10
#: With stop_when_idle, a receive that finds nothing for this long means idle.
IDLE_WAIT = 0.1
#: A message taken from the layer: (channel, content).
Taken = tuple[str, dict[str, Any]]
#: What a consumer's thread hands back: requeue it?, and the sends left to the loop (if any).
Consumed = tuple[bool, "outbox.Outbox | None"]


def consumer_name(consumer: Any) -> str:
    """The dotted name of a consumer, for logs."""
    module = getattr(consumer, "__module__", None) or type(consumer).__module__
    name = getattr(consumer, "__qualname__", None) or type(consumer).__qualname__
    return f"{module}.{name}"


def select_channels(
    channels: Iterable[str],
    only: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> list[str]:
    """The routed channels kept by the ``only`` globs, minus the ``exclude`` globs (W3)."""
    only, exclude = list(only or ()), list(exclude or ())
    return sorted(
        name
        for name in channels
        if (not only or any(fnmatch.fnmatchcase(name, pattern) for pattern in only))
        and not any(fnmatch.fnmatchcase(name, pattern) for pattern in exclude)
    )


class Worker(Service):
    """Runs the consumers routed on ``channel_layer``.

    ``run()`` owns an event loop and the stop signals; ``serve()`` is the same work as a
    coroutine for a loop someone else runs. ``stop_when_idle`` and ``max_messages`` bound
    the loop (for tests and one-off jobs).
    """

    name = "worker"

    def __init__(
        self,
        channel_layer: ClassicLayer,
        *,
        threads: int = 1,
        only_channels: Iterable[str] | None = None,
        exclude_channels: Iterable[str] | None = None,
        callback: Callable[[str, Message], None] | None = None,
        message_retries: int = MESSAGE_RETRIES,
        install_signals: bool = True,
        stop_when_idle: bool = False,
        max_messages: int | None = None,
    ) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads!r}")
        self.channel_layer = channel_layer
        self.backend = channel_layer.channel_layer
        self.threads = threads
        self.only_channels = list(only_channels or ())
        self.exclude_channels = list(exclude_channels or ())
        self.callback = callback
        self.message_retries = message_retries
        super().__init__(install_signals=install_signals)
        self.stop_when_idle = stop_when_idle
        self.max_messages = max_messages
        self.handled = 0
        self._receiving: asyncio.Task[None] | None = None
        self._taken = 0
        self._slot_freed: asyncio.Event | None = None
        # reply channel -> messages waiting for the consumer of that connection to finish
        self._busy: dict[str, deque[Taken]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._threads: ConsumerThreads[Taken, Consumed] | None = None

    def channel_names(self) -> list[str]:
        return select_channels(
            self.channel_layer.router.channels, self.only_channels, self.exclude_channels
        )

    # Running (``run()`` and stop signals: see ``Service``)

    def _state(self) -> str:
        return "busy, finishing what it took" if self._taken else "idle, exiting"

    def _interrupt(self) -> None:
        # The receive loop only waits for messages, a free thread or a back-off: all of them
        # may be cancelled (the layers give back what a cancelled receive took).
        if self._receiving is not None:
            self._receiving.cancel()

    async def serve(self) -> None:
        channels = self.channel_names()
        if not channels:
            raise ValueError(
                f"worker: no channels to listen on (routed: "
                f"{sorted(self.channel_layer.router.channels)}, only {self.only_channels}, "
                f"excluding {self.exclude_channels}); check channel_routing and the options"
            )
        self._started()
        assert self._loop is not None
        self._slot_freed = asyncio.Event()
        self._threads = ConsumerThreads(self.threads, self._loop, self._consume, self._finished)
        source = _source(self.backend, channels, self.threads)
        logger.info("worker: listening on channels %s", ", ".join(channels))
        worker_ready.send(sender=self)
        receiving = self._receiving = asyncio.ensure_future(self._receive_loop(source))
        if self.stop_requested:
            receiving.cancel()
        try:
            try:
                await receiving
            except asyncio.CancelledError:
                if not (self.stop_requested and receiving.cancelled()):
                    raise
            while self._taken:
                self._slot_freed.clear()
                await self._slot_freed.wait()
        finally:
            await source.close()
            self._threads.shutdown()
            logger.info("worker: stopped after %d messages", self.handled)

    async def _receive_loop(self, source: _Source) -> None:
        assert self._slot_freed is not None
        backoff = Backoff()
        while not self.stop_requested and not self._reached_max():
            free = self.threads - self._taken
            if self.max_messages is not None:
                free = min(free, self.max_messages - self.handled - self._taken)
            if free <= 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            try:
                batch = await source.take(free, IDLE_WAIT if self.stop_when_idle else None)
            except Exception as error:
                delay = backoff.next()
                logger.error(
                    "worker: receiving from the layer failed (%s); retrying in %.1f s",
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            if not batch:
                if self.stop_when_idle and not self._taken:
                    return
                continue
            for channel, content in batch:
                self._take(channel, content)

    def _reached_max(self) -> bool:
        return self.max_messages is not None and self.handled + self._taken >= self.max_messages

    # Handing messages to consumers

    def _take(self, channel: str, content: dict[str, Any]) -> None:
        self._taken += 1
        reply_channel = content.get("reply_channel")
        if isinstance(reply_channel, str):
            waiting = self._busy.get(reply_channel)
            if waiting is not None:
                waiting.append((channel, content))
                return
            self._busy[reply_channel] = deque()
        assert self._threads is not None
        self._threads.submit((channel, content))

    def _finished(self, taken: Taken, result: Consumed | BaseException) -> None:
        """On the loop, when a consumer's thread is done: what remains, then the next."""
        channel, content = taken
        if isinstance(result, BaseException):
            logger.error("worker: handling a message from %s failed", channel, exc_info=result)
            self._done(channel, content)
            return
        requeue, box = result
        if box is None and not requeue:
            self._done(channel, content)
            return
        assert self._loop is not None
        task = self._loop.create_task(self._follow_up(channel, content, box, requeue))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow_up(
        self, channel: str, content: dict[str, Any], box: outbox.Outbox | None, requeue: bool
    ) -> None:
        """The sends left to the loop (it was busy: they share round trips there), and a
        ConsumeLater requeue."""
        try:
            if box is not None:
                await box.flush_async()
            if requeue:
                await self._requeue(channel, content)
        except Exception:
            logger.exception("worker: finishing a message from %s failed", channel)
        finally:
            self._done(channel, content)

    def _done(self, channel: str, content: dict[str, Any]) -> None:
        self.handled += 1
        self._taken -= 1
        assert self._slot_freed is not None and self._threads is not None
        self._slot_freed.set()
        next_message = self._next_for(content.get("reply_channel"))
        if next_message is not None:
            self._threads.submit(next_message)

    def _next_for(self, reply_channel: Any) -> Taken | None:
        """The next waiting message of the same connection, if any (else it is not busy)."""
        if not isinstance(reply_channel, str):
            return None
        waiting = self._busy.get(reply_channel)
        if waiting:
            return waiting.popleft()
        self._busy.pop(reply_channel, None)
        return None

    def _consume(self, taken: Taken) -> Consumed:
        """Runs in a pool thread: the consumer of one message, between the consumer signals,
        its sends collected and sent once it is done (even if it raised: SPEC P3), straight
        from this thread. Returns whether to requeue the message (ConsumeLater)."""
        channel, content = taken
        message = Message(content, channel, self.channel_layer)
        if content.get("__retries__", 0) >= self.message_retries:
            message.__doomed__ = True  # type: ignore[attr-defined]
        requeue = False
        with outbox.collecting() as box:
            match = self.channel_layer.router.match(message)
            if match is None:
                logger.error(
                    "worker: no route matches a message on %s (keys: %s); check channel_routing",
                    channel,
                    ", ".join(sorted(content)),
                )
                return False, None
            consumer, kwargs = match
            logger.debug("worker: dispatching %s to %s", channel, consumer_name(consumer))
            if self.callback is not None:
                self.callback(channel, message)
            _signal(consumer_started, environ={})
            try:
                consumer(message, **kwargs)
            except DenyConnection:
                if channel == "websocket.connect" and message.reply_channel is not None:
                    message.reply_channel.send({"close": True})
                else:
                    logger.error(
                        "worker: %s raised DenyConnection on %s; it only refuses sockets "
                        "from websocket.connect consumers",
                        consumer_name(consumer),
                        channel,
                    )
            except ChannelSocketException as error:
                _run_socket_exception(error, message, consumer)
            except ConsumeLater:
                requeue = True
            except Exception:
                logger.exception(
                    "worker: consumer %s failed on a message from %s",
                    consumer_name(consumer),
                    channel,
                )
            finally:
                _signal(consumer_finished)
        if self._taken > 1:
            return requeue, box
        box.flush()
        return requeue, None

    async def _requeue(self, channel: str, content: dict[str, Any]) -> None:
        """Puts a ConsumeLater message back at the end of its channel (SPEC W9)."""
        retries = content.get("__retries__", 0) + 1
        if retries > self.message_retries:
            logger.warning(
                "worker: message on %s dropped after %d ConsumeLater retries",
                channel,
                self.message_retries,
            )
            return
        try:
            await self.backend.send(channel, {**content, "__retries__": retries})
        except ChannelFull:
            logger.warning("worker: could not requeue a message on %s: channel full", channel)


def _signal(sent: Any, **kwargs: Any) -> None:
    """Sends a consumer signal; a receiver that raises is logged, never fatal."""
    for receiver, result in sent.send_robust(sender=Worker, **kwargs):
        if isinstance(result, Exception):
            logger.error(
                "worker: %s receiver %s failed", sent, consumer_name(receiver), exc_info=result
            )


def _run_socket_exception(error: ChannelSocketException, message: Message, consumer: Any) -> None:
    try:
        error.run(message)
    except Exception:
        logger.exception(
            "worker: %s raised by %s could not act on its socket",
            type(error).__name__,
            consumer_name(consumer),
        )


class _Source(Protocol):
    """Where the worker's messages come from."""

    async def take(self, limit: int, idle_wait: float | None) -> Received:
        """1 to ``limit`` messages; [] if none came within ``idle_wait`` (None: no limit)."""

    async def close(self) -> None:
        """Stops receiving."""


class _BatchSource:
    """The project's layers: one receive waits on every channel and takes a batch."""

    def __init__(self, backend: Any, channels: list[str]) -> None:
        self._backend = backend
        self._channels = channels

    async def close(self) -> None:
        """Nothing to stop: receives are only made on demand."""

    async def take(self, limit: int, idle_wait: float | None) -> Received:
        if idle_wait is None:
            return await self._backend.receive_batch(self._channels, limit)
        try:
            async with asyncio.timeout(idle_wait):
                return await self._backend.receive_batch(self._channels, limit)
        except TimeoutError:
            return []


class _PerChannelSource:
    """Layers that receive one channel per call: a receive loop per channel feeds a queue
    bounded by the thread count."""

    def __init__(self, backend: Any, channels: list[str], bound: int) -> None:
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(bound)
        self._receivers = [
            asyncio.ensure_future(self._receive(backend, channel)) for channel in channels
        ]

    async def _receive(self, backend: Any, channel: str) -> None:
        async for batch in receive_forever(backend, [channel], 1, who="worker"):
            for received in batch:
                await self._queue.put(received)

    async def take(self, limit: int, idle_wait: float | None) -> Received:
        try:
            async with asyncio.timeout(idle_wait):
                taken = [await self._queue.get()]
        except TimeoutError:
            return []
        while len(taken) < limit and not self._queue.empty():
            taken.append(self._queue.get_nowait())
        return taken

    async def close(self) -> None:
        for receiver in self._receivers:
            receiver.cancel()
        await asyncio.gather(*self._receivers, return_exceptions=True)


def _source(backend: Any, channels: list[str], threads: int) -> _Source:
    if has_batch_receive(backend):
        return _BatchSource(backend, channels)
    return _PerChannelSource(backend, channels, threads)

"""``Worker``: takes messages from the layer and runs their consumers.

One asyncio loop receives (``sources``); consumers run in threads (``threads``), each
message through ``consume``, its sends buffered in an ``outbox``.
An idle worker's loop stands aside for a moment (LEND_LOOP_FOR) for the consumer it has just
started, so that its reply is not queued behind the loop's own work for the GIL.
What a consumer sent goes out once it has returned, even if it raised: from its own
thread, straight to the layer, when the worker has nothing else in hand (a reply needs no
trip back through the loop), and from the loop under load (where sends share round trips).

The worker asks the layer for messages only while it has a thread free, and for no more
than it has free (``sources``), so it never hoards work another worker could do.
Messages of one reply channel never run at the same time in one worker: one whose
connection is busy waits for the one running, without holding a thread, so a chatty socket
cannot starve the others; up to WAITING_PER_THREAD such messages per thread may wait.

A consumer's exception is logged with its name and the channel, and the worker goes on (in
full once, then counted per interval when it repeats: ``failure_log``); layer errors are
logged and retried with back-off. SIGTERM or SIGINT stops receiving, hands back at once
what the layer had taken for the worker and it had not started (``sources``),
finishes and flushes what it did start, and returns; a second signal exits at once.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections import deque
from collections.abc import Iterable
from typing import Any

from .. import metrics
from ..exceptions import ChannelFull
from ..failure_log import FailureLog, flush_all
from ..layers.facade import ClassicLayer
from ..message import Message
from ..signals import worker_ready
from . import outbox
from .consume import Callback, run_consumer
from .service import Service
from .sources import Source, make_source
from .threads import ConsumerThreads

logger = logging.getLogger(__name__)
failures = FailureLog(logger)

#: How many times ConsumeLater may put a message back before it is dropped.
MESSAGE_RETRIES = 10
#: Putting a ConsumeLater message back on a full channel is tried this many times...
REQUEUE_ATTEMPTS = 10
#: ...this many seconds apart, then the message is dropped with a warning.
REQUEUE_RETRY_WAIT = 0.05
#: With stop_when_idle, a receive that finds nothing for this long means idle.
IDLE_WAIT = 0.1
#: Messages waiting for their busy connection, per worker thread, before receiving pauses.
WAITING_PER_THREAD = 8
#: An idle worker's loop stands aside this long (at most) for the consumer it just started,
#: so that the reply goes out before the loop's own work; a slower consumer gets no longer.
LEND_LOOP_FOR = 0.002
#: A message taken from the layer: (channel, content).
Taken = tuple[str, dict[str, Any]]
#: What a consumer's thread hands back: requeue it?, and the sends left to the loop (if any).
Consumed = tuple[bool, "outbox.Outbox | None"]


def select_channels(
    channels: Iterable[str],
    only: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> list[str]:
    """The routed channels kept by the ``only`` globs, minus the ``exclude`` globs."""
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
    the loop (for tests and one-off jobs). A consumer that raises SystemExit or
    KeyboardInterrupt stops the worker: what was taken is finished, then it is re-raised.
    """

    name = "worker"

    def __init__(
        self,
        channel_layer: ClassicLayer,
        *,
        threads: int = 1,
        only_channels: Iterable[str] | None = None,
        exclude_channels: Iterable[str] | None = None,
        callback: Callback | None = None,
        message_retries: int = MESSAGE_RETRIES,
        install_signals: bool = True,
        stop_when_idle: bool = False,
        max_messages: int | None = None,
        signal_handlers: bool | None = None,
    ) -> None:
        if signal_handlers is not None:  # 1.x's name for install_signals
            install_signals = signal_handlers
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
        # Messages in a consumer thread (or flushing after it), and waiting for their busy
        # connection (reply channel -> its waiting messages).
        self._running = 0
        self._waiting = 0
        self._busy: dict[str, deque[Taken]] = {}
        self._freed: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._threads: ConsumerThreads[Taken, Consumed] | None = None
        self._escaped: BaseException | None = None

    @property
    def taken(self) -> int:
        """Messages taken from the layer and not done yet."""
        return self._running + self._waiting

    def channel_names(self) -> list[str]:
        return select_channels(
            self.channel_layer.router.channels, self.only_channels, self.exclude_channels
        )

    # Running (``run()`` and stop signals: see ``Service``)

    def _state(self) -> str:
        return "busy, finishing what it took" if self.taken else "idle, exiting"

    def _interrupt(self) -> None:
        # The receive loop only waits for messages or for room: both may be cancelled (the
        # sources lose nothing when they are).
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
        self._freed = asyncio.Event()
        self._threads = ConsumerThreads(self.threads, self._loop, self._consume, self._finished)
        source = make_source(self.channel_layer.capabilities, channels)
        logger.info("worker: listening on channels %s", ", ".join(channels))
        worker_ready.send(sender=self)
        receiving = self._receiving = asyncio.ensure_future(self._receive_loop(source))
        if self.stop_requested:
            receiving.cancel()
        sampling = self._sample_depths(channels)
        try:
            try:
                await receiving
            except asyncio.CancelledError:
                if not (self.stop_requested and receiving.cancelled()):
                    raise
            finally:
                # At once, for other workers to take while what was taken finishes here.
                await source.close()
            while self.taken:
                await self._wait_until_freed()
        finally:
            if sampling is not None:
                sampling.cancel()
            self._threads.shutdown()
            flush_all()
            logger.info("worker: stopped after %d messages", self.handled)
        if self._escaped is not None:
            raise self._escaped

    def _sample_depths(self, channels: list[str]) -> asyncio.Task[None] | None:
        """With metrics on, a task that samples how many messages wait on the worker's
        channels every DEPTH_SAMPLE_EVERY seconds (None: metrics off, or a layer that
        cannot count them)."""
        counter = self.channel_layer.capabilities.waiting
        if not metrics.recorder.samples_depths or counter is None:
            return None

        async def sample() -> None:
            while True:
                try:
                    metrics.recorder.depths(await counter.count_waiting(channels))
                except Exception as error:
                    logger.debug("worker: sampling channel depths failed: %s", error)
                await asyncio.sleep(metrics.DEPTH_SAMPLE_EVERY)

        return asyncio.ensure_future(sample())

    async def _receive_loop(self, source: Source) -> None:
        while not self.stop_requested and not self._reached_max():
            room = self._room()
            if room <= 0:
                await self._wait_until_freed()
                continue
            batch = await source.take(room, IDLE_WAIT if self.stop_when_idle else None)
            if not batch:
                if self.stop_when_idle and not self.taken:
                    return
                continue
            # A lone message on an idle worker has its thread run before the loop goes on;
            # in a batch, every message is started first.
            alone = len(batch) == 1
            for channel, content in batch:
                self._take(channel, content, alone)

    def _room(self) -> int:
        """How many messages the worker may take now: one per free thread, fewer when many
        wait for busy connections or max_messages is near."""
        room = min(self.threads - self._running, self.threads * WAITING_PER_THREAD - self._waiting)
        if self.max_messages is not None:
            room = min(room, self.max_messages - self.handled - self.taken)
        return room

    def _reached_max(self) -> bool:
        return self.max_messages is not None and self.handled + self.taken >= self.max_messages

    async def _wait_until_freed(self) -> None:
        assert self._freed is not None
        self._freed.clear()
        await self._freed.wait()

    # Handing messages to consumers

    def _take(self, channel: str, content: dict[str, Any], alone: bool) -> None:
        metrics.recorder.received(channel)
        reply_channel = content.get("reply_channel")
        if isinstance(reply_channel, str):
            waiting = self._busy.get(reply_channel)
            if waiting is not None:
                waiting.append((channel, content))
                self._waiting += 1
                return
            self._busy[reply_channel] = deque()
        self._start((channel, content), alone)

    def _start(self, taken: Taken, alone: bool = True) -> None:
        assert self._threads is not None
        self._running += 1
        # Only on a loop of its own: one shared with an interface server must not stop.
        lend = alone and self._running == 1 and self.owns_loop
        self._threads.submit(taken, lend=LEND_LOOP_FOR if lend else 0.0)

    def _finished(self, taken: Taken, result: Consumed | BaseException) -> None:
        """On the loop, when a consumer's thread is done: what remains, then the next."""
        channel, content = taken
        if isinstance(result, BaseException):
            if isinstance(result, Exception):
                failures.failed(
                    ("handling", channel),
                    result,
                    "worker: handling a message from %s failed",
                    "worker: handling messages from %s failed",
                    channel,
                )
            else:
                logger.warning(
                    "worker: a consumer on %s raised %s; stopping once what was taken is done",
                    channel,
                    type(result).__name__,
                )
                if self._escaped is None:
                    self._escaped = result
                self.stop()
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
        except Exception as error:
            failures.failed(
                ("finishing", channel),
                error,
                "worker: finishing a message from %s failed",
                "worker: finishing messages from %s failed",
                channel,
            )
        finally:
            self._done(channel, content)

    def _done(self, channel: str, content: dict[str, Any]) -> None:
        metrics.recorder.consumed(channel)
        assert self._freed is not None
        self.handled += 1
        self._running -= 1
        next_message = self._next_for(content.get("reply_channel"))
        if next_message is not None:
            self._waiting -= 1
            self._start(next_message)
        self._freed.set()

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
        """Runs in a pool thread: the consumer of one message, its sends collected and sent
        once it is done (even if it raised), from this thread unless other consumers
        are running. Returns whether to requeue the message (ConsumeLater)."""
        channel, content = taken
        message = Message(content, channel, self.channel_layer)
        if content.get("__retries__", 0) >= self.message_retries:
            message.__doomed__ = True  # type: ignore[attr-defined]
        with outbox.collecting() as box:
            try:
                requeue = run_consumer(message, type(self), self.callback)
            except BaseException:
                box.flush()  # SystemExit and the like leave, but the sends go first
                raise
        if self._running > 1:
            return requeue, box
        box.flush()
        return requeue, None

    async def _requeue(self, channel: str, content: dict[str, Any]) -> None:
        """Puts a ConsumeLater message back at the end of its channel."""
        retries = content.get("__retries__", 0) + 1
        if retries > self.message_retries:
            logger.warning(
                "worker: message on %s dropped after %d ConsumeLater retries",
                channel,
                self.message_retries,
            )
            return
        for attempt in range(1, REQUEUE_ATTEMPTS + 1):
            try:
                await self.backend.send(channel, {**content, "__retries__": retries})
                return
            except ChannelFull:
                if attempt < REQUEUE_ATTEMPTS:
                    await asyncio.sleep(REQUEUE_RETRY_WAIT)
        logger.warning(
            "worker: a ConsumeLater message on %s was dropped: the channel stayed full for %d "
            "tries, %.2f s apart",
            channel,
            REQUEUE_ATTEMPTS,
            REQUEUE_RETRY_WAIT,
        )

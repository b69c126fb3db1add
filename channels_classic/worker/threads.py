"""The worker's consumer threads: run jobs, report results to the event loop in batches.

A thread pool executor wraps every job in a concurrent future (a lock and a condition), keeps
an idle-thread semaphore, and wakes the event loop once per finished job. Here threads take
jobs from a lock-free queue and put results on a deque; the loop is woken only when it is
not already about to look, so a burst of finished consumers costs one wake-up, not one each.

A job can also be given the loop's thread's turn (``submit(job, lend=...)``): the loop thread
waits, briefly, until the job is done. Otherwise it goes on with its own work (re-arming its
receive: Python that holds the GIL) while the job's thread waits to start, and the job's
reply waits with it. The wait ends early if the job needs the loop (``sync.loop_waiting``).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from contextlib import nullcontext
from typing import Generic, TypeVar

from ..layers.sync import loop_waiting

Job = TypeVar("Job")
Result = TypeVar("Result")


class _Lend(Generic[Job]):
    """The loop thread's wait for one job; ended once, by the job's thread."""

    __slots__ = ("job", "_lock", "_ended")

    def __init__(self, job: Job) -> None:
        self.job = job
        self._lock = threading.Lock()
        self._lock.acquire()
        self._ended = False

    def wait(self, timeout: float) -> None:
        self._lock.acquire(timeout=timeout)

    def end(self) -> None:
        if not self._ended:
            self._ended = True
            self._lock.release()


class ConsumerThreads(Generic[Job, Result]):
    """``count`` threads running ``run(job)``; ``finished(job, result_or_exception)`` is
    called on ``loop`` for each job, in the order the jobs finished."""

    def __init__(
        self,
        count: int,
        loop: asyncio.AbstractEventLoop,
        run: Callable[[Job], Result],
        finished: Callable[[Job, Result | BaseException], None],
    ) -> None:
        self._count = count
        self._loop = loop
        self._run = run
        self._finished = finished
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._results: deque[tuple[Job, Result | BaseException]] = deque()
        self._drain_scheduled = False
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._idle_lock = threading.Lock()
        self._lending: _Lend[Job] | None = None

    def submit(self, job: Job, lend: float = 0.0) -> None:
        """Queues ``job``; starts another thread (up to ``count``) when none is idle. With
        ``lend``, then blocks (the loop's thread) until the job is done, ``lend`` seconds at
        most; what finished meanwhile is handed over on the loop's next turn."""
        with self._idle_lock:
            need_thread = self._idle == 0 and len(self._threads) < self._count
            if not need_thread:
                self._idle -= 1
        if need_thread:
            thread = threading.Thread(
                target=self._serve, name=f"consumer-{len(self._threads) + 1}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        if lend <= 0:
            self._jobs.put(job)
            return
        lending = self._lending = _Lend(job)
        self._drain_scheduled = True  # this thread drains once it stops waiting
        self._jobs.put(job)
        lending.wait(lend)
        self._lending = None
        self._loop.call_soon(self._drain)

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            lending = self._lending
            if lending is not None and lending.job is not job:
                lending = None
            try:
                with loop_waiting(lending.end) if lending is not None else nullcontext():
                    result: Result | BaseException = self._run(job)
            except BaseException as error:  # reported to the loop, where it is logged
                result = error
            self._results.append((job, result))
            with self._idle_lock:
                self._idle += 1
            if lending is not None:
                lending.end()
            # Appended first, checked second: a drain already scheduled will see the result.
            if not self._drain_scheduled:
                self._drain_scheduled = True
                self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        self._drain_scheduled = False
        while self._results:
            job, result = self._results.popleft()
            self._finished(job, result)

    def shutdown(self) -> None:
        """Lets the threads finish their jobs, then ends them (blocks until they have)."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()

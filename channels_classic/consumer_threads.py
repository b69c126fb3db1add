"""The worker's consumer threads: run jobs, report results to the event loop in batches.

A thread pool executor wraps every job in a concurrent future (a lock and a condition), keeps
an idle-thread semaphore, and wakes the event loop once per finished job. Here threads take
jobs from a lock-free queue and put results on a deque; the loop is woken only when it is
not already about to look, so a burst of finished consumers costs one wake-up, not one each.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


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

    def submit(self, job: Job) -> None:
        """Queues ``job``; starts another thread (up to ``count``) when none is idle."""
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
        self._jobs.put(job)

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                result: Result | BaseException = self._run(job)
            except BaseException as error:  # reported to the loop, where it is logged
                result = error
            self._results.append((job, result))
            with self._idle_lock:
                self._idle += 1
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

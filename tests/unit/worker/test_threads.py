"""The worker's consumer threads: jobs run in threads, results come back on the loop."""

from __future__ import annotations

import asyncio
import threading
import time

from channels_classic.layers.sync import runner
from channels_classic.worker.threads import ConsumerThreads


async def run_jobs(jobs, run, count=4, hold_loop=0.0):
    loop = asyncio.get_running_loop()
    results: list = []
    all_done = asyncio.Event()

    def finished(job, result):
        assert threading.current_thread() is threading.main_thread()  # on the loop
        results.append((job, result))
        if len(results) == len(jobs):
            all_done.set()

    threads = ConsumerThreads(count, loop, run, finished)
    drains = []
    original = threads._drain

    def counting_drain():
        drains.append(len(threads._results))
        original()

    threads._drain = counting_drain  # type: ignore[method-assign]
    for job in jobs:
        threads.submit(job)
    time.sleep(hold_loop)  # keeps the loop busy (blocked) while the threads finish
    await asyncio.wait_for(all_done.wait(), 10)
    threads.shutdown()
    return results, drains, threads


async def test_jobs_run_in_threads_and_report_on_the_loop():
    """Every job runs off the loop thread; its result (or exception) is reported once."""

    def run(job):
        if job == 3:
            raise ValueError("job 3 fails")
        return (job, threading.current_thread().name)

    results, _, threads = await run_jobs(list(range(6)), run)
    by_job = dict(results)
    assert sorted(by_job) == list(range(6))
    assert isinstance(by_job[3], ValueError) and str(by_job[3]) == "job 3 fails"
    assert all(name.startswith("consumer-") for _, name in (by_job[n] for n in (0, 1, 2, 4, 5)))
    assert len(threads._threads) <= 4
    assert not any(thread.is_alive() for thread in threads._threads)


async def test_results_that_come_while_the_loop_is_busy_wake_it_once():
    """Jobs that finish while the loop is busy are all handed over in one loop callback."""
    results, drains, _ = await run_jobs(list(range(4)), lambda job: job, hold_loop=0.3)
    assert sorted(job for job, _ in results) == [0, 1, 2, 3]
    assert drains == [4]


class Recorder:
    """ConsumerThreads on the running loop, its finished jobs, and how often its threads
    woke the loop to hand results over."""

    def __init__(self, run, count: int = 2) -> None:
        self.loop = asyncio.get_running_loop()
        self.finished: list = []
        self.all_done = asyncio.Event()
        self.threads = ConsumerThreads(count, self.loop, run, self._finished)
        self.wake_ups = 0
        original = self.loop.call_soon_threadsafe

        def counting(*args, **kwargs):
            self.wake_ups += 1
            return original(*args, **kwargs)

        self.loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        self._original = original

    def _finished(self, job, result) -> None:
        self.finished.append((job, result))
        self.all_done.set()

    async def wait(self) -> None:
        await asyncio.wait_for(self.all_done.wait(), 10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe = self._original  # type: ignore[method-assign]
        self.threads.shutdown()


async def test_a_lent_loop_thread_waits_for_the_job_and_hands_its_result_over():
    """With ``lend``, submit returns once the job is done; the result reaches the loop on its
    next turn, without the job's thread waking it."""
    done = threading.Event()

    def run(job):
        done.set()
        return job * 2

    recorder = Recorder(run)
    try:
        recorder.threads.submit(21, lend=30)
        assert done.is_set()
        assert recorder.finished == []
        await recorder.wait()
        assert recorder.finished == [(21, 42)]
        assert recorder.wake_ups == 0
    finally:
        recorder.close()


async def test_a_slow_job_has_the_loop_thread_back_after_the_lend():
    """The loop thread waits ``lend`` seconds at most; the job's result still comes later."""
    go_on = threading.Event()
    recorder = Recorder(lambda job: go_on.wait(10) and job)
    try:
        recorder.threads.submit(7, lend=0.05)
        assert recorder.finished == []
        go_on.set()
        await recorder.wait()
        assert recorder.finished == [(7, 7)]
        assert recorder.wake_ups == 1
    finally:
        recorder.close()


async def test_a_job_that_needs_the_loop_ends_the_lend_at_once():
    """A lent job that hands the loop a coroutine (a layer call through the runner) first
    ends the loop thread's wait: neither waits for the other until the lend runs out."""

    async def answer() -> int:
        return 42

    recorder = Recorder(lambda job: runner.run(answer))
    runner.bind(recorder.loop)
    try:
        started = time.monotonic()
        recorder.threads.submit(1, lend=20)
        waited = time.monotonic() - started
        await recorder.wait()
        assert recorder.finished == [(1, 42)]
        assert waited < 10
    finally:
        runner.unbind(recorder.loop)
        recorder.close()

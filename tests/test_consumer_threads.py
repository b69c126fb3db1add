"""The worker's consumer threads: jobs run in threads, results come back on the loop."""

from __future__ import annotations

import asyncio
import threading
import time

from channels_classic.consumer_threads import ConsumerThreads


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

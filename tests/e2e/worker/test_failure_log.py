"""End to end: a consumer that raises on every frame fills no log: its first traceback is
logged in full, the rest are counted (and the count is reported when the worker stops)."""

from __future__ import annotations

import asyncio
import re
import signal
import time

from websockets.asyncio.client import connect

FRAMES = 200


async def test_a_consumer_failing_on_every_frame_logs_one_traceback_and_a_count(stack):
    """200 frames to the /crash/ consumer, run by a worker that logs each message it starts
    (-v 2); once it has started them all, SIGTERM: it exits 0 after all 200, and its log
    holds one traceback and lines counting the other 199 failures (reported at the latest
    when it stops)."""
    worker = stack.start_worker("--threads", "8", "-v", "2")
    stack.start_daphne()
    async with connect(stack.url("/crash/")) as crashing:
        for n in range(FRAMES):
            await crashing.send(f"frame {n}")
        deadline = time.monotonic() + 30
        while worker.log().count("websocket.receive (reply ") < FRAMES:
            assert time.monotonic() < deadline, worker.log()
            await asyncio.sleep(0.1)
        worker.signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.process.wait, 30) == 0
    log = worker.log()
    assert f"worker: stopped after {FRAMES + 1} messages" in log  # and the connect
    assert log.count("Traceback (most recent call last)") == 1
    assert log.count("RuntimeError: crash consumer raised on purpose") == 1
    assert (
        log.count("worker: consumer tests.support.e2e.routing.crash failed on a message from") == 1
    )
    counted = re.findall(
        r"worker: consumer tests\.support\.e2e\.routing\.crash on channel websocket\.receive "
        r"failed "
        r"(\d+) more times in the last [\d.]+ s",
        log,
    )
    assert sum(map(int, counted)) == FRAMES - 1

"""Several processes receiving on one channel: each message reaches exactly one of them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from channels_classic.layers.redis import RedisChannelLayer

ROOT = Path(__file__).resolve().parent.parent
TOTAL = 10_000


class ReceiverProcess:
    """A tests.layer_receiver child process and the numbers it has printed."""

    def __init__(self, url: str, prefix: str, channel: str, limit: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.layer_receiver", url, prefix, channel, str(limit)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"
        self.received: list[int] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.received.extend(json.loads(line))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self._reader.join(10)


@pytest.mark.parametrize("receivers", [2, 4])
async def test_every_message_reaches_exactly_one_receiving_process(redis_url, prefix, receivers):
    """10 000 messages sent concurrently to one channel with 2 or 4 receiving processes
    (some taking batches, some one at a time): none lost, none duplicated, all working."""
    limits = [1, 10, 1, 10][:receivers]
    processes = [ReceiverProcess(redis_url, prefix, "test.work", limit) for limit in limits]
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, capacity=TOTAL)
    try:
        for start in range(0, TOTAL, 250):
            await asyncio.gather(
                *(layer.send("test.work", {"n": n}) for n in range(start, start + 250))
            )
        deadline = time.monotonic() + 60
        while sum(len(p.received) for p in processes) < TOTAL and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # room for any duplicate to show up
    finally:
        for process in processes:
            process.stop()
        await layer.flush()
        await layer.close()
    everything = [n for process in processes for n in process.received]
    assert len(everything) == TOTAL, f"{len(everything) - len(set(everything))} duplicates"
    assert sorted(everything) == list(range(TOTAL))
    assert all(process.received for process in processes), [len(p.received) for p in processes]

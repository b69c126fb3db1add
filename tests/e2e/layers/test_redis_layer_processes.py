"""Several processes receiving on one channel: each message reaches exactly one of them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time

import pytest

from channels_classic.layers.redis import RedisChannelLayer
from tests.support.paths import ROOT

TOTAL = 10_000


class ReceiverProcess:
    """A tests.support.layer_receiver child process and the numbers it has printed."""

    def __init__(self, urls: list[str], prefix: str, channel: str, limit: int) -> None:
        hosts = ",".join(urls)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.layer_receiver",
                hosts,
                prefix,
                channel,
                str(limit),
            ],
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


@pytest.mark.parametrize(
    ("receivers", "hosts"), [(2, 1), (4, 1), (3, 2)], ids=["2-receivers", "4-receivers", "2-hosts"]
)
async def test_every_message_reaches_exactly_one_receiving_process(
    redis_url, private_redis, prefix, receivers, hosts
):
    """10 000 messages sent concurrently to one channel with 2 to 4 receiving processes
    (some taking batches, some one at a time), over one or two Redis hosts: none lost, none
    duplicated, all working."""
    urls = [redis_url] + [private_redis().url for _ in range(hosts - 1)]
    limits = [1, 10, 1, 10][:receivers]
    processes = [ReceiverProcess(urls, prefix, "test.work", limit) for limit in limits]
    layer = RedisChannelLayer(hosts=urls, prefix=prefix, capacity=TOTAL)
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

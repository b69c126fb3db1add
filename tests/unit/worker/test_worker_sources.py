"""The worker on layers that receive one channel per call: channels 4's in-memory layer and
channels_redis on a real Redis. It takes only what its threads can run, and a stop loses
nothing."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryLayer
from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer

from channels_classic import route
from channels_classic.layers.facade import ClassicLayer
from channels_classic.worker import Worker
from channels_classic.worker import base as worker_module
from channels_classic.worker import sources as worker_sources

#: How long the drain of a channels_redis channel waits for one more message.
DRAIN_WAIT = 0.5


@pytest.fixture(params=["channels in-memory", "channels_redis"])
def backend(request, redis_url: str, prefix: str) -> Iterator[Any]:
    """A channels 4 layer without receive_batch; Redis keys of this test only."""
    if request.param == "channels in-memory":
        yield ChannelsInMemoryLayer()
        return
    yield ChannelsRedisLayer(hosts=[redis_url], prefix=prefix)
    with redis.Redis.from_url(redis_url) as client:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def remaining(backend: Any, channel: str) -> list[dict[str, Any]]:
    """The messages still on ``channel``, taken off it, oldest first."""
    if isinstance(backend, ChannelsInMemoryLayer):
        queue = backend.channels.get(channel)
        return [queue.get_nowait()[1] for _ in range(queue.qsize())] if queue else []

    async def drain() -> list[dict[str, Any]]:
        messages = []
        while True:
            try:
                async with asyncio.timeout(DRAIN_WAIT):
                    messages.append(await backend.receive(channel))
            except TimeoutError:
                return messages

    return asyncio.run(drain())


class Busy:
    """A consumer that holds its thread until told to go on, and a one-thread worker run
    that is stopped while that consumer is busy."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.proceed = threading.Event()

    def consumer(self, message) -> None:
        self.started.set()
        self.proceed.wait(5)

    def run(self, layer: ClassicLayer, while_busy) -> Worker:
        """Runs the worker until its first consumer has started and ``while_busy()`` has
        returned; then stops it and lets that consumer finish."""
        worker = Worker(layer, install_signals=False, threads=1)

        def stop_when_started() -> None:
            self.started.wait(5)
            while_busy()
            worker.stop()
            self.proceed.set()

        stopper = threading.Thread(target=stop_when_started)
        stopper.start()
        worker.run()
        stopper.join()
        return worker


def test_a_busy_worker_leaves_the_rest_to_other_workers(backend):
    """With one thread busy, every other message of the channel can be taken by someone
    else: the worker holds nothing it cannot run."""
    busy = Busy()
    layer = ClassicLayer(backend, alias="test", routing=[route("test.work", busy.consumer)])
    for n in range(5):
        layer.send("test.work", {"n": n})
    taken_elsewhere = []

    def take_the_rest() -> None:
        for _ in range(4):
            channel, message = layer.receive(["test.work"], block=True)
            taken_elsewhere.append(message and message["n"])

    worker = busy.run(layer, take_the_rest)
    assert worker.handled == 1
    assert taken_elsewhere == [1, 2, 3, 4]


def wait_until_held(sources: list) -> None:
    """Waits (5 s at most) until the worker's source holds one message it received at the
    same moment as the one running."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (sources and sources[0]._held):
        time.sleep(0.01)


def test_stopping_loses_nothing_received(backend, caplog, monkeypatch):
    """Stopped while busy, with two routed channels delivering at once: one message ran,
    and every other one is on the layer again. With channels_redis both channels' receives
    are under way when the first answers, so the second message is held (never run) and is
    put back; the in-memory layer answers at once, so nothing is held there."""
    caplog.set_level(logging.INFO, logger="channels_classic")
    busy = Busy()
    routes = [route("test.a", busy.consumer), route("test.b", busy.consumer)]
    layer = ClassicLayer(backend, alias="test", routing=routes)
    for n in range(3):
        layer.send("test.a", {"n": n})
        layer.send("test.b", {"n": n})
    holding = isinstance(backend, ChannelsRedisLayer)
    sources: list = []

    def make_source(*args):
        sources.append(worker_sources.make_source(*args))
        return sources[-1]

    monkeypatch.setattr(worker_module, "make_source", make_source)
    worker = busy.run(layer, lambda: wait_until_held(sources) if holding else None)
    assert worker.handled == 1
    left = {channel: remaining(backend, channel) for channel in ("test.a", "test.b")}
    assert sorted(len(messages) for messages in left.values()) == [2, 3]
    if holding:
        assert "putting back 1 messages received but not run" in caplog.text
    else:
        assert "putting back" not in caplog.text


class SwallowingLayer(ChannelsInMemoryLayer):
    """channels 4's in-memory layer, except that a receive swallows its first cancellation
    and goes on waiting, as a channels_redis receive can on Python 3.11 (a timeout inside it
    that expires as the cancel arrives)."""

    def __init__(self) -> None:
        super().__init__()
        self.swallowed = 0

    async def receive(self, channel: str) -> dict[str, Any]:
        while True:
            try:
                return await super().receive(channel)
            except asyncio.CancelledError:
                if self.swallowed:
                    raise
                self.swallowed += 1


def test_a_receive_that_swallows_its_cancellation_does_not_hang_the_stop():
    """Stopped while idle, a worker whose receive loops are cancelled cancels again the one
    that went on waiting, and returns (it hung until a second SIGTERM)."""
    backend = SwallowingLayer()
    routes = [route("test.a", lambda message: None), route("test.b", lambda message: None)]
    worker = Worker(ClassicLayer(backend, alias="test", routing=routes), install_signals=False)

    async def stop_when_idle() -> None:
        serving = asyncio.ensure_future(worker.serve())
        await asyncio.sleep(0.2)
        worker.stop()
        await asyncio.wait_for(serving, 5)

    asyncio.run(stop_when_idle())
    assert backend.swallowed == 1
    assert worker.handled == 0

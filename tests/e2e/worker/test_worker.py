"""End to end: runworker stopped with SIGTERM while a consumer runs, on the project's Redis
layer and on channels_redis (a layer without multi-channel receive)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest
from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer
from websockets.asyncio.client import connect

from channels_classic.layers.redis import RedisChannelLayer
from tests.support.e2e.routing import REPORTS
from tests.support.e2e.worker_routing import SLOW_FOR
from tests.support.processes import Stack

#: The layer classes the stack runs on, by test id.
BACKENDS = {
    "project": RedisChannelLayer,
    "channels_redis": ChannelsRedisLayer,
}


@pytest.fixture(params=sorted(BACKENDS))
def stack(request, private_redis, tmp_path):
    """A stack on the worker tests' settings and the layer class of the parameter."""
    running = Stack(private_redis().url, tmp_path, settings="tests.support.e2e.worker_settings")
    layer_class = BACKENDS[request.param]
    running.env["TEST_LAYER_BACKEND"] = f"{layer_class.__module__}.{layer_class.__qualname__}"
    running.layer_class = layer_class
    yield running
    running.stop()
    print(running.logs())


async def answer(socket: Any, timeout: float = 10) -> str:
    return await asyncio.wait_for(socket.recv(), timeout)


async def test_a_busy_worker_stopped_with_sigterm_finishes_and_loses_nothing(stack):
    """Echo works. Then, with one thread busy on a slow consumer, SIGTERM: that consumer
    finishes and its reply goes out, the worker exits 0 having started nothing else, and
    the next worker answers every other message, once."""
    old = stack.start_worker("--threads", "1")
    stack.start_daphne()
    reports = stack.layer_class(hosts=[stack.redis_url])
    sockets = []
    try:
        async with connect(stack.url("/chat/")) as echo:
            await echo.send("hello")
            assert await answer(echo) == "You said: hello"
        sockets = [await connect(stack.url("/slow/")) for _ in range(3)]
        for name, socket in zip("abc", sockets, strict=True):
            await socket.send(name)
        first = (await asyncio.wait_for(reports.receive(REPORTS), 10))["started"]
        old.signal(signal.SIGTERM)
        first_socket = sockets["abc".index(first)]
        assert await answer(first_socket, SLOW_FOR + 10) == f"slow: {first}"
        assert await asyncio.to_thread(old.process.wait, 10) == 0
        assert "worker: SIGTERM received while busy, finishing what it took" in old.log()
        stack.start_worker("--threads", "2")
        rest = [name for name in "abc" if name != first]
        started = [(await asyncio.wait_for(reports.receive(REPORTS), 10))["started"] for _ in rest]
        assert sorted(started) == rest
        for name in rest:
            assert await answer(sockets["abc".index(name)]) == f"slow: {name}"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reports.receive(REPORTS), SLOW_FOR)
    finally:
        for socket in sockets:
            await socket.close()
        if hasattr(reports, "close_pools"):
            await reports.close_pools()
        else:
            await reports.close()

"""The Redis layer handing a process's messages to a function as they are read (deliver_all),
and the interface's reply dispatcher that uses it; on one Redis and on a Redis Cluster."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import pytest

from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.names import non_local_name

#: How long a test waits for something that should happen at once.
PROMPTLY = 5.0


@pytest.fixture
def redis_url(host_or_cluster_url: str) -> str:
    return host_or_cluster_url


class Deliveries:
    """What a deliver_all function was given, and whether it was called while the reply that
    carried it was being read (rather than from a task, or a callback scheduled later)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.while_reading: list[bool] = []
        self._arrived = asyncio.Event()

    def __call__(self, channel: str, message: dict[str, Any]) -> None:
        callers = []
        frame = sys._getframe(1)
        while frame is not None:
            callers.append(frame.f_code.co_name)
            frame = frame.f_back
        self.while_reading.append("data_received" in callers and asyncio.current_task() is None)
        self.received.append((channel, message))
        self._arrived.set()

    async def count(self, expected: int) -> list[tuple[str, dict[str, Any]]]:
        """The deliveries, once there are ``expected`` of them."""
        async with asyncio.timeout(PROMPTLY):
            while len(self.received) < expected:
                self._arrived.clear()
                await self._arrived.wait()
        return self.received


async def test_each_message_is_handed_over_as_it_is_read(layer, redis_url, prefix):
    """Messages of the process's channels reach the function in order, with their full names,
    from the connection's reply handling itself (no task); other channels' do not."""
    first, second = await layer.new_channel(), await layer.new_channel()
    deliveries = Deliveries()
    delivering = asyncio.ensure_future(layer.deliver_all(non_local_name(first), deliveries))
    await asyncio.sleep(0.1)
    other_layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    await other_layer.send(first, {"n": 1})
    await other_layer.send(second, {"n": 2})
    await other_layer.send("test.normal", {"n": 0})
    await other_layer.send(first, {"n": 3})
    assert await deliveries.count(3) == [(first, {"n": 1}), (second, {"n": 2}), (first, {"n": 3})]
    assert deliveries.while_reading == [True, True, True]
    await asyncio.sleep(0.1)
    assert len(deliveries.received) == 3
    assert await layer.receive("test.normal") == {"n": 0}
    delivering.cancel()
    await other_layer.close()


async def test_nothing_is_lost_across_a_cancelled_delivery(layer):
    """What was sent before delivery started, and while it was stopped, arrives once the
    function is handed the channels again; nothing twice."""
    name = await layer.new_channel()
    await layer.send(name, {"n": 1})
    deliveries = Deliveries()
    delivering = asyncio.ensure_future(layer.deliver_all(non_local_name(name), deliveries))
    assert await deliveries.count(1) == [(name, {"n": 1})]
    delivering.cancel()
    await asyncio.gather(delivering, return_exceptions=True)
    await layer.send(name, {"n": 2})
    await layer.send(name, {"n": 3})
    await asyncio.sleep(0.1)
    later = Deliveries()
    delivering = asyncio.ensure_future(layer.deliver_all(non_local_name(name), later))
    assert await later.count(2) == [(name, {"n": 2}), (name, {"n": 3})]
    await asyncio.sleep(0.1)
    assert len(later.received) == 2 and len(deliveries.received) == 1
    delivering.cancel()


async def test_a_function_that_raises_is_logged_and_delivery_goes_on(layer, caplog):
    name = await layer.new_channel()
    deliveries = Deliveries()

    def deliver(channel: str, message: dict[str, Any]) -> None:
        if message["n"] == 1:
            raise ValueError("bad message")
        deliveries(channel, message)

    delivering = asyncio.ensure_future(layer.deliver_all(non_local_name(name), deliver))
    await asyncio.sleep(0.1)
    with caplog.at_level(logging.ERROR, "channels_classic.layers.redis.receiver"):
        await layer.send(name, {"n": 1})
        await layer.send(name, {"n": 2})
        assert await deliveries.count(1) == [(name, {"n": 2})]
    assert f"delivering a message of {name!r} failed" in caplog.text
    assert "bad message" in caplog.text
    delivering.cancel()


async def test_bad_names_and_a_second_function_are_refused(layer, redis_url, prefix):
    name = await layer.new_channel()
    delivering = asyncio.ensure_future(layer.deliver_all(non_local_name(name), Deliveries()))
    await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError, match="already being delivered"):
        await layer.deliver_all(non_local_name(name), Deliveries())
    with pytest.raises(ValueError, match="cut after its '!'"):
        await layer.deliver_all("test.normal", Deliveries())
    other = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    with pytest.raises(ValueError, match="only be received on by the layer object"):
        await layer.deliver_all(non_local_name(await other.new_channel()), Deliveries())
    assert not delivering.done()
    delivering.cancel()


async def test_closing_the_layer_ends_delivery(layer):
    name = await layer.new_channel()
    delivering = asyncio.ensure_future(layer.deliver_all(non_local_name(name), Deliveries()))
    await asyncio.sleep(0.05)
    await layer.close()
    with pytest.raises(RuntimeError, match="layer was closed"):
        await asyncio.wait_for(delivering, PROMPTLY)

"""A send tried again after Redis was down for its first try (so it wrote nothing): with a
``once``, the retry is delivered, once. Redis of its own, killed and restarted."""

from __future__ import annotations

import asyncio

import pytest

from channels_classic.exceptions import ChannelLayerUnavailable
from channels_classic.layers.redis import RedisChannelLayer
from tests.support.tcp_proxy import warm_up

#: How long a test waits to be sure that no second copy arrives.
QUIET = 0.3


async def receive(layer: RedisChannelLayer, channel: str) -> dict:
    return await asyncio.wait_for(layer.receive(channel), 5)


async def nothing_more(receiver: RedisChannelLayer, channel: str) -> None:
    await asyncio.sleep(QUIET)
    assert await receiver.receive_ready([channel], 10) == []


async def test_a_send_that_never_reached_redis_is_delivered_once(private_redis, prefix):
    """Redis is down for the first try (nothing written); the retry, with the same once,
    is delivered, once."""
    redis = private_redis(persistent=True)
    sender = RedisChannelLayer(hosts=[redis.url], prefix=prefix)
    receiver = RedisChannelLayer(hosts=[redis.url], prefix=prefix)
    try:
        await warm_up(sender)
        redis.kill()
        with sender.once() as once:
            with pytest.raises(ChannelLayerUnavailable):
                await sender.send("test.once", {"n": 1}, once=once)
            redis.start()
            await sender.send("test.once", {"n": 1}, once=once)
        assert await receive(receiver, "test.once") == {"n": 1}
        await nothing_more(receiver, "test.once")
    finally:
        for layer in (sender, receiver):
            await layer.close()

"""The Redis layer handing a process's messages to a function as they are read (deliver_all),
and the interface's reply dispatcher that uses it."""

from __future__ import annotations

import asyncio

import pytest

from channels_classic.exceptions import ChannelLayerUnavailable
from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.names import non_local_name
from tests.unit.layers.test_redis_layer_delivery import PROMPTLY, Deliveries


async def test_delivery_fails_with_redis_and_resumes_when_called_again(private_redis, prefix):
    server = private_redis()
    layer = RedisChannelLayer(hosts=[server.url], prefix=prefix)
    name = await layer.new_channel()
    deliveries = Deliveries()
    delivering = asyncio.ensure_future(layer.deliver_all(non_local_name(name), deliveries))
    await asyncio.sleep(0.1)
    server.stop()
    with pytest.raises(ChannelLayerUnavailable, match="is unavailable"):
        await asyncio.wait_for(delivering, PROMPTLY)
    server.start()
    delivering = asyncio.ensure_future(layer.deliver_all(non_local_name(name), deliveries))
    await layer.send(name, {"n": 1})
    assert await deliveries.count(1) == [(name, {"n": 1})]
    delivering.cancel()
    await layer.close()

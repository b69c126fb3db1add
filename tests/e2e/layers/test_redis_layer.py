"""The Redis layer in one process, against a real Redis server."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis

from channels_classic.exceptions import ChannelLayerUnavailable
from channels_classic.layers.redis import RedisChannelLayer


async def test_blocking_api_reloads_forgotten_scripts_and_survives_restarts(private_redis, prefix):
    """After SCRIPT FLUSH or a Redis restart, a blocking send loads its script again and
    uses a fresh connection instead of failing; while Redis is down it raises clearly."""
    server = private_redis()
    layer = RedisChannelLayer(hosts=[server.url], prefix=prefix)
    await asyncio.to_thread(layer.send_sync, "test.reload", {"n": 1})
    redis.Redis.from_url(server.url).script_flush()
    await asyncio.to_thread(layer.send_sync, "test.reload", {"n": 2})
    server.stop()
    with pytest.raises(ChannelLayerUnavailable, match="is unavailable"):
        await asyncio.to_thread(layer.send_sync, "test.reload", {"n": 3})
    server.start()
    await asyncio.to_thread(layer.send_sync, "test.reload", {"n": 4})
    assert await asyncio.wait_for(layer.receive("test.reload"), 5) == {"n": 4}
    await layer.close()


async def test_close_puts_back_what_a_cancelled_receive_had_taken(private_redis, prefix):
    """A message taken from Redis for a receive cancelled just before close() is back in
    Redis when close() returns, and the next receive gets it."""
    server = private_redis()
    raw = redis.Redis.from_url(server.url)
    layer = RedisChannelLayer(hosts=[server.url], prefix=prefix)
    await layer.send("test.closing", {"n": 1})
    raw.config_resetstat()
    receiving = asyncio.ensure_future(layer.receive("test.closing"))
    await asyncio.sleep(0)  # the receive is registered: its pop is on its way to Redis
    receiving.cancel()
    await layer.close()
    pops = raw.info("commandstats")["cmdstat_bzpopmin"]["calls"]
    assert pops == 1
    assert raw.zcard(layer.keys.key_of("test.closing")) == 1
    assert await asyncio.wait_for(layer.receive("test.closing"), 2) == {"n": 1}
    await layer.close()


async def test_release_hands_back_what_a_pop_in_flight_took(private_redis, prefix):
    """A receive called off while its blocking pop is in flight, just as Redis popped a
    message for it: release() waits for the pop's reply and puts that message back in its
    place (before one sent after it), and says how many went back."""
    server = private_redis()
    raw = redis.Redis.from_url(server.url)
    layer = RedisChannelLayer(hosts=[server.url], prefix=prefix)
    receiving = asyncio.ensure_future(layer.receive("test.release"))
    deadline = time.monotonic() + 5
    while not any(client["cmd"] == "bzpopmin" for client in raw.client_list()):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    layer.send_sync("test.release", {"n": 1})  # this loop waits while Redis pops it
    layer.send_sync("test.release", {"n": 2})
    receiving.cancel()
    assert await layer.release(["test.release"]) == 1
    assert raw.zcard(layer.keys.key_of("test.release")) == 2
    batch = await asyncio.wait_for(layer.receive_batch(["test.release"], 2), 2)
    assert [message for _, message in batch] == [{"n": 1}, {"n": 2}]
    assert await layer.release(["test.release"]) == 0
    await layer.close()


async def test_count_waiting_counts_every_shard(private_redis, prefix):
    """count_waiting sums each channel's unexpired messages over the shards (normal channels
    spread over both), counts a process channel's whole process (one key), and says 0 where
    nothing waits; what receives took, or what expired, is no longer counted."""
    servers = [private_redis(), private_redis()]
    layer = RedisChannelLayer(hosts=[server.url for server in servers], prefix=prefix, expiry=1)
    first, second = await layer.new_channel("test"), await layer.new_channel("test")
    for n in range(5):
        await layer.send("test.counted", {"n": n})
    for channel in (first, second, second):
        await layer.send(channel, {})
    raws = [redis.Redis.from_url(server.url) for server in servers]
    assert [raw.zcard(layer.keys.key_of("test.counted")) for raw in raws] == [3, 2]
    counts = await layer.count_waiting(["test.counted", "test.empty", first])
    assert counts == {"test.counted": 5, "test.empty": 0, first: 3}
    received = 0
    while received < 5:
        received += len(await asyncio.wait_for(layer.receive_batch(["test.counted"], 5), 5))
    assert await layer.count_waiting(["test.counted", first]) == {"test.counted": 0, first: 3}
    await asyncio.sleep(1.2)
    assert await layer.count_waiting([first]) == {first: 0}
    with pytest.raises(TypeError, match="Channel name 'bad name' is invalid"):
        await layer.count_waiting(["bad name"])
    await layer.flush()
    await layer.close()

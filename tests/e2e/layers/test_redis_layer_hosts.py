"""The Redis layer over several hosts, and over a host found through Redis Sentinel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from channels_classic.embedded_redis import EmbeddedRedis
from channels_classic.exceptions import ChannelLayerUnavailable
from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.layers.redis.layer import BLOCK_TIMEOUT
from tests.support.processes import running_sentinel

SERVICE = "djchan-test"
SENTINEL_PASSWORD = "sentinel-secret"


async def test_two_redis_hosts(private_redis, prefix):
    """Sends to a normal channel alternate between the hosts (order holds per host) and one
    receive takes from both; process channels and groups live on their hash's host."""
    servers = [private_redis(), private_redis()]
    raws = [redis.Redis.from_url(server.url) for server in servers]
    layer = RedisChannelLayer(hosts=[server.url for server in servers], prefix=prefix)
    for n in range(6):
        await layer.send("test.sharded", {"n": n})
    assert [raw.zcard(f"{prefix}test.sharded") for raw in raws] == [3, 3]
    received: list[int] = []
    while len(received) < 6:
        batch = await asyncio.wait_for(layer.receive_batch(["test.sharded"], 10), 2)
        received += [message["n"] for _, message in batch]
    assert sorted(received) == list(range(6))
    assert [n for n in received if n % 2 == 0] == [0, 2, 4]
    assert [n for n in received if n % 2 == 1] == [1, 3, 5]

    names = [await layer.new_channel(f"test.shard{n}") for n in range(8)]
    assert {layer.keys.home_shard(name) for name in names} == {0, 1}
    for name in names:
        await layer.group_add("test-sharded", name)
    group_key = layer.keys.group_key("test-sharded")
    assert raws[layer.keys.group_shard("test-sharded")].zcard(group_key) == 8
    await layer.group_send("test-sharded", {"to": "all"})
    for name in names:
        home = layer.keys.home_shard(name)
        key = layer.keys.key_of(name)
        assert (raws[home].zcard(key), raws[1 - home].zcard(key)) == (1, 0)
    for name in names:
        assert await asyncio.wait_for(layer.receive(name), 2) == {"to": "all"}

    # A message sitting on the second host wakes a receive at once, not after a block
    # timeout spent on the first.
    waiting = asyncio.ensure_future(layer.receive("test.second"))
    await asyncio.sleep(0.1)
    stored = layer.codec.encode({"from": "host 1"})
    raws[1].zadd(layer.keys.key_of("test.second"), {stored: time.time()})
    assert await asyncio.wait_for(waiting, BLOCK_TIMEOUT / 2) == {"from": "host 1"}
    await layer.flush()
    await layer.close()


@pytest.fixture
def sentinel(private_redis, tmp_path) -> Iterator[tuple[EmbeddedRedis, int]]:
    """A private Redis, and a Sentinel (with its own password) that monitors it as SERVICE;
    yields the Redis and the Sentinel's port."""
    master = private_redis()
    with running_sentinel(master.port, SERVICE, SENTINEL_PASSWORD, tmp_path) as port:
        yield master, port


def sentinel_hosts(port: int, **sentinel_kwargs: object) -> list[dict[str, object]]:
    return [
        {
            "sentinels": [("127.0.0.1", port)],
            "master_name": SERVICE,
            "sentinel_kwargs": sentinel_kwargs,
        }
    ]


async def test_sentinel_hosts(sentinel, prefix):
    """A host named by a Sentinel service (the Sentinel asking for a password given in
    sentinel_kwargs) serves async sends and receives, blocking sends, and a second loop."""
    master, port = sentinel
    layer = RedisChannelLayer(hosts=sentinel_hosts(port, password=SENTINEL_PASSWORD), prefix=prefix)
    await layer.send("test.sentinel", {"n": 1})
    assert redis.Redis(port=master.port).zcard(f"{prefix}test.sentinel") == 1
    assert await asyncio.wait_for(layer.receive("test.sentinel"), 5) == {"n": 1}
    await asyncio.to_thread(layer.send_sync, "test.sentinel", {"n": 2})
    assert await asyncio.wait_for(layer.receive("test.sentinel"), 5) == {"n": 2}
    await asyncio.to_thread(asyncio.run, layer.send("test.sentinel", {"n": 3}))
    assert await asyncio.wait_for(layer.receive("test.sentinel"), 5) == {"n": 3}
    await layer.flush()
    await layer.close()


async def test_sentinel_refusing_us_is_a_clear_error(sentinel, prefix):
    """A wrong Sentinel password makes async and blocking sends fail with the layer's error
    naming the service, not hang or leak a redis-py exception."""
    _, port = sentinel
    no_retries = Retry(NoBackoff(), 0)  # redis-py would retry for seconds
    layer = RedisChannelLayer(
        hosts=sentinel_hosts(port, password="wrong", retry=no_retries), prefix=prefix
    )
    with pytest.raises(ChannelLayerUnavailable, match=f"sentinel master '{SERVICE}'.*No master"):
        await asyncio.wait_for(layer.send("test.sentinel", {"n": 1}), 5)
    with pytest.raises(ChannelLayerUnavailable, match=f"sentinel master '{SERVICE}'.*No master"):
        await asyncio.to_thread(layer.send_sync, "test.sentinel", {"n": 2})
    await layer.close()

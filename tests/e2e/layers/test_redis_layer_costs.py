"""What the Redis layer costs Redis, counted by the server itself: commands, reads, blocked
connections. Each test uses a private server (the cluster tests share a private cluster),
so that nothing else is counted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis

from channels_classic.embedded_cluster import EmbeddedRedisCluster
from channels_classic.layers.redis import RedisChannelLayer

#: The commands the push script runs inside Redis (counted in commandstats too).
PUSH_SCRIPT_COMMANDS = {"zremrangebyscore", "zcard", "zadd", "pexpire"}
#: The commands a test's own CONFIG RESETSTAT and INFO add to the counts.
OWN_COMMANDS = {"config", "info"}


def command_calls(raw: redis.Redis) -> dict[str, int]:
    """Calls per command since the last CONFIG RESETSTAT, as the server counts them."""
    stats = raw.info("commandstats")
    return {name.removeprefix("cmdstat_"): entry["calls"] for name, entry in stats.items()}


def reads(raw: redis.Redis) -> int:
    """How many socket reads the server has made, over all its clients."""
    return int(raw.info("stats")["total_reads_processed"])


def blocked_clients(raw: redis.Redis, name: str) -> list[dict[str, str]]:
    return [c for c in raw.client_list() if c["name"] == name and "b" in c["flags"]]


async def test_a_send_is_one_script_call(private_redis, prefix):
    """Every send, sequential or concurrent, is one EVALSHA and nothing else; a group send
    is two (its members, then one push for them all on their shard)."""
    server = private_redis()
    raw = redis.Redis.from_url(server.url)
    layer = RedisChannelLayer(hosts=[server.url], prefix=prefix)
    await layer.send("test.cost", {"n": 0})  # loads the script (NOSCRIPT, then EVAL)
    await layer.group_add("test-cost", "test.cost")
    await layer.group_add("test-cost", await layer.new_channel())
    await layer.group_send("test-cost", {"loads": "the scripts"})
    raw.config_resetstat()
    for n in range(10):
        await layer.send("test.cost", {"n": n})
    await asyncio.gather(*(layer.send("test.cost", {"n": n}) for n in range(10)))
    calls = command_calls(raw)
    assert calls["evalsha"] == 20
    assert calls["zadd"] == 20
    assert set(calls) <= {"evalsha", *PUSH_SCRIPT_COMMANDS, *OWN_COMMANDS}, calls

    raw.config_resetstat()
    await layer.group_send("test-cost", {"to": "both members"})
    calls = command_calls(raw)
    assert calls["evalsha"] == 2
    assert calls["zadd"] == 2
    assert set(calls) <= {"evalsha", "zrange", *PUSH_SCRIPT_COMMANDS, *OWN_COMMANDS}, calls
    await layer.close()


async def test_a_batch_receive_takes_fifty_waiting_messages_in_one_script(private_redis, prefix):
    """receive_batch finding 50 messages waiting gets them all, in order, from one take
    script: no blocking pop, no other round trip, even after the listener was idle."""
    server = private_redis()
    raw = redis.Redis.from_url(server.url)
    layer = RedisChannelLayer(hosts=[server.url], prefix=prefix)
    await layer.send("test.batch", {"n": -1})
    assert await layer.receive("test.batch") == {"n": -1}  # the listener ran, then went idle
    assert (await layer.receive_ready(["test.batch"], 1)) == []  # loads the take script
    for n in range(50):
        await layer.send("test.batch", {"n": n})
    raw.config_resetstat()
    batch = await asyncio.wait_for(layer.receive_batch(["test.batch"], 50), 5)
    assert [message["n"] for _, message in batch] == list(range(50))
    calls = command_calls(raw)
    assert calls["evalsha"] == 1
    assert "bzpopmin" not in calls
    assert calls["zpopmin"] == 1
    await layer.close()


async def test_many_receives_share_one_blocking_connection_per_shard(private_redis, prefix):
    """Forty receives on ten channels (and on process channels) of two hosts wait in
    exactly one blocked command per host, and every one of them is served."""
    servers = [private_redis(), private_redis()]
    raws = [redis.Redis.from_url(server.url) for server in servers]
    name = f"{prefix}-client"
    layer = RedisChannelLayer(
        hosts=[{"address": server.url, "client_name": name} for server in servers], prefix=prefix
    )
    channels = [f"test.many{n}" for n in range(10)]
    replies = [await layer.new_channel() for _ in range(5)]
    waiting = [asyncio.ensure_future(layer.receive(channel)) for channel in channels * 3]
    waiting += [asyncio.ensure_future(layer.receive_batch(channels[:5], 3)) for _ in range(5)]
    waiting += [asyncio.ensure_future(layer.receive(reply)) for reply in replies]
    deadline = time.monotonic() + 5
    while not all(blocked_clients(raw, name) for raw in raws):
        assert time.monotonic() < deadline, "the listeners never blocked"
        await asyncio.sleep(0.02)
    for _ in range(5):
        for raw in raws:
            assert len(blocked_clients(raw, name)) == 1
            ours = [c for c in raw.client_list() if c["name"] == name]
            assert len(ours) <= 2, ours  # the listener, and the connection for commands
        await asyncio.sleep(0.05)
    assert not any(receive.done() for receive in waiting)
    for channel in channels * 3 + channels[:5] * 3 + replies:
        await layer.send(channel, {"to": channel})
    await asyncio.wait_for(asyncio.gather(*waiting), 5)
    await layer.close()


async def test_concurrent_sends_share_round_trips(private_redis, prefix):
    """200 concurrent sends from one process reach Redis in a handful of reads (they are
    written together); the same sends one after another cost a read each."""
    server = private_redis()
    raw = redis.Redis.from_url(server.url)
    layer = RedisChannelLayer(hosts=[server.url], prefix=prefix, capacity=1000)
    await layer.send("test.pipelined", {"n": -1})
    before = reads(raw)
    await asyncio.gather(*(layer.send("test.pipelined", {"n": n}) for n in range(200)))
    concurrent = reads(raw) - before
    before = reads(raw)
    for n in range(200):
        await layer.send("test.pipelined", {"n": n})
    sequential = reads(raw) - before
    assert concurrent <= 20, concurrent
    assert sequential >= 200, sequential
    await layer.close()


async def test_the_last_receive_leaving_releases_the_blocked_command(private_redis, prefix):
    """When the only receive on a channel is cancelled, the listener stops blocking on it at
    once, so a later message stays in Redis instead of being popped and put back."""
    server = private_redis()
    raw = redis.Redis.from_url(server.url)
    name = f"{prefix}-client"
    layer = RedisChannelLayer(hosts=[{"address": server.url, "client_name": name}], prefix=prefix)
    await layer.send("test.other", {})  # loads the push script
    receiving = asyncio.ensure_future(layer.receive("test.left"))
    deadline = time.monotonic() + 5
    while not blocked_clients(raw, name):
        assert time.monotonic() < deadline, "the listener never blocked"
        await asyncio.sleep(0.02)
    receiving.cancel()
    deadline = time.monotonic() + 5  # well under the block timeout it would otherwise sit out
    while blocked_clients(raw, name):
        assert time.monotonic() < deadline, "the listener still blocks for nobody"
        await asyncio.sleep(0.02)
    raw.config_resetstat()
    await layer.send("test.left", {"n": 1})
    await asyncio.sleep(0.1)
    assert raw.zcard(layer.keys.key_of("test.left")) == 1
    assert set(command_calls(raw)) <= {"evalsha", *PUSH_SCRIPT_COMMANDS, *OWN_COMMANDS}
    await layer.close()


def cluster_blocked(cluster: EmbeddedRedisCluster, name: str) -> int:
    """How many of the connections named ``name`` are blocked, over the cluster's masters."""
    return sum(len(blocked_clients(redis.Redis(port=m.port), name)) for m in cluster.masters)


async def wait_for_blocked(cluster: EmbeddedRedisCluster, name: str, count: int) -> None:
    deadline = time.monotonic() + 5
    while cluster_blocked(cluster, name) != count:
        assert time.monotonic() < deadline, f"{cluster_blocked(cluster, name)} blocked, not {count}"
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmbeddedRedisCluster]:
    """A private 3-master cluster for this module's cluster tests, which run one at a time
    and reset its counts before counting."""
    with EmbeddedRedisCluster(replicas=0) as started:
        yield started


async def test_on_a_cluster_a_receive_loop_costs_one_pop_per_message(cluster, prefix):
    """A receive loop on 16 shards that asks again as soon as it is served: each message
    costs the shard it came from one pop. The other shards' pops stay blocked meanwhile
    (waking all 16 on every message cost 16 pops and 15 wake-ups per message)."""
    name = f"{prefix}-loop"
    layer = RedisChannelLayer(hosts=[{"address": cluster.url, "client_name": name}], prefix=prefix)
    sender = RedisChannelLayer(hosts=[cluster.url], prefix=prefix)
    await sender.send("test.warm", {})  # loads the push script
    receiving = asyncio.ensure_future(layer.receive("test.loop"))
    await wait_for_blocked(cluster, name, 16)
    masters = [redis.Redis(port=m.port) for m in cluster.masters]
    for raw in masters:
        raw.config_resetstat()
    for n in range(64):
        await sender.send("test.loop", {"n": n})
        assert await asyncio.wait_for(receiving, 5) == {"n": n}
        receiving = asyncio.ensure_future(layer.receive("test.loop"))
    pops = sum(command_calls(raw).get("bzpopmin", 0) for raw in masters)
    wakes = sum(command_calls(raw).get("zadd", 0) for raw in masters) - 64  # less the sends
    # One pop per message, and 16 more each time a stall of this loop outlasted the grace
    # (on a busy machine: allowed twice); waking every shard per message cost about 1000.
    assert pops <= 64 + 2 * 16, pops
    assert wakes <= 2 * 16, wakes
    await wait_for_blocked(cluster, name, 16)
    receiving.cancel()
    await layer.close()
    await sender.close()


async def test_on_a_cluster_a_receive_not_asked_again_releases_every_shard(cluster, prefix):
    """Served, and not asked again: within moments no shard's pop still blocks for it, so a
    message sent later waits in Redis for whoever asks (as does one sent after a receive
    was given up)."""
    name = f"{prefix}-once"
    layer = RedisChannelLayer(hosts=[{"address": cluster.url, "client_name": name}], prefix=prefix)
    receiving = asyncio.ensure_future(layer.receive("test.once"))
    await wait_for_blocked(cluster, name, 16)
    await layer.send("test.once", {"n": 1})
    assert await asyncio.wait_for(receiving, 5) == {"n": 1}
    await wait_for_blocked(cluster, name, 0)
    receiving = asyncio.ensure_future(layer.receive("test.once"))
    await wait_for_blocked(cluster, name, 16)
    receiving.cancel()
    await wait_for_blocked(cluster, name, 0)
    await layer.send("test.once", {"n": 2})
    await asyncio.sleep(0.1)
    assert await layer.count_waiting(["test.once"]) == {"test.once": 1}
    await layer.close()


async def test_on_a_cluster_a_process_channel_is_read_on_its_shard_only(cluster, prefix):
    """Messages of a process's channels are sent to one shard (its name's), so one listener
    reads them: a receive on one blocks one connection, not one per shard."""
    name = f"{prefix}-reply"
    layer = RedisChannelLayer(hosts=[{"address": cluster.url, "client_name": name}], prefix=prefix)
    reply = await layer.new_channel()
    receiving = asyncio.ensure_future(layer.receive(reply))
    await wait_for_blocked(cluster, name, 1)
    await asyncio.sleep(0.2)
    assert cluster_blocked(cluster, name) == 1
    await layer.send(reply, {"to": "me"})
    assert await asyncio.wait_for(receiving, 5) == {"to": "me"}
    await layer.close()

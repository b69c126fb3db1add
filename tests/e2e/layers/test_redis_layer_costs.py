"""What the Redis layer costs Redis, counted by the server itself: commands, reads, blocked
connections. Each test uses a private server, so that nothing else is counted."""

from __future__ import annotations

import asyncio
import time

import redis

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

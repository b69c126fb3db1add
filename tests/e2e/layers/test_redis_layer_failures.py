"""The Redis layer when Redis restarts, freezes, or simply stays quiet for a long time."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
import redis

from channels_classic.exceptions import ChannelLayerUnavailable
from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.layers.redis.layer import BLOCK_TIMEOUT

#: redis-py 8's default socket_timeout, which killed quiet channels_redis receivers (#422).
REDIS_PY_SOCKET_TIMEOUT = 5.0


async def test_redis_restarted_under_a_blocked_receive(private_redis, prefix):
    """The blocked receive fails with a clear error, sends fail while Redis is down, and the
    same layer object works again once Redis is back."""
    server = private_redis()
    layer = RedisChannelLayer(hosts=[server.url], prefix=prefix)
    waiting = asyncio.ensure_future(layer.receive("test.restart"))
    await asyncio.sleep(0.2)
    server.stop()
    with pytest.raises(ChannelLayerUnavailable, match=r"Redis at redis://127\.0\.0\.1:\d+/0"):
        await asyncio.wait_for(waiting, 5)
    with pytest.raises(ChannelLayerUnavailable, match="is unavailable") as raised:
        await layer.send("test.restart", {"n": 1})
    assert isinstance(raised.value, ConnectionError)
    with pytest.raises(ChannelLayerUnavailable):
        await asyncio.wait_for(layer.receive("test.restart"), 5)
    server.start()
    await layer.send("test.restart", {"n": 2})
    assert await asyncio.wait_for(layer.receive("test.restart"), 5) == {"n": 2}
    await layer.group_add("test-restart", "test.restart")
    await layer.group_send("test-restart", {"n": 3})
    assert await asyncio.wait_for(layer.receive("test.restart"), 5) == {"n": 3}
    await layer.close()


async def test_idle_connections_survive_a_restart_unnoticed(private_redis, prefix):
    """Connections left idle across a Redis restart are replaced, not used to fail a send."""
    server = private_redis()
    layer = RedisChannelLayer(hosts=[server.url], prefix=prefix)
    await layer.send("test.idle", {"n": 1})
    assert await layer.receive("test.idle") == {"n": 1}
    server.stop()
    server.start()
    await asyncio.sleep(0.1)
    await layer.send("test.idle", {"n": 2})
    assert await asyncio.wait_for(layer.receive("test.idle"), 5) == {"n": 2}
    await layer.close()


async def test_a_quiet_receive_keeps_working_past_the_socket_timeout(redis_url, prefix):
    """A receive blocked well past redis-py's socket_timeout (here 0.5 s) still gets the
    message that finally comes."""
    layer = RedisChannelLayer(
        hosts=[{"address": redis_url, "socket_timeout": 0.5}], prefix=prefix, block_timeout=1
    )
    sender = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    waiting = asyncio.ensure_future(layer.receive("test.quiet"))
    await asyncio.sleep(3)
    assert not waiting.done()
    await sender.send("test.quiet", {"after": "quiet"})
    assert await asyncio.wait_for(waiting, 2) == {"after": "quiet"}
    await layer.close()
    await sender.close()


async def test_a_receive_outlasts_the_default_block_and_socket_timeouts(redis_url, prefix):
    """With the default block timeout and redis-py 8's default socket_timeout of 5 s, a
    receive blocked longer than both gets the message that finally comes, on the same
    connection (the block is renewed, nothing is torn down)."""
    name = f"{prefix}-quiet"
    layer = RedisChannelLayer(
        hosts=[
            {"address": redis_url, "socket_timeout": REDIS_PY_SOCKET_TIMEOUT, "client_name": name}
        ],
        prefix=prefix,
    )
    sender = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    raw = redis.Redis.from_url(redis_url)
    quiet = BLOCK_TIMEOUT + 1.5
    assert quiet > REDIS_PY_SOCKET_TIMEOUT

    def blocked_connection() -> str | None:
        ids = [c["id"] for c in raw.client_list() if c["name"] == name and "b" in c["flags"]]
        return ids[0] if len(ids) == 1 else None

    waiting = asyncio.ensure_future(layer.receive("test.quiet.long"))
    started = time.monotonic()
    while (first := blocked_connection()) is None:
        assert time.monotonic() - started < 5, "the receive never blocked in Redis"
        await asyncio.sleep(0.05)
    await asyncio.sleep(quiet - (time.monotonic() - started))
    assert not waiting.done()
    renewed = time.monotonic()
    while (again := blocked_connection()) is None:  # between two blocking commands
        assert time.monotonic() - renewed < 5, "the receive stopped blocking in Redis"
        await asyncio.sleep(0.05)
    assert again == first
    await sender.send("test.quiet.long", {"after": "a long quiet"})
    assert await asyncio.wait_for(waiting, 2) == {"after": "a long quiet"}
    await layer.close()
    await sender.close()


async def test_a_frozen_redis_does_not_hang_a_receive(private_redis, prefix):
    """When Redis stops answering without closing the connection, a waiting receive fails
    within its block timeout plus the read margin instead of hanging."""
    server = private_redis()
    layer = RedisChannelLayer(hosts=[server.url], prefix=prefix, block_timeout=1)
    waiting = asyncio.ensure_future(layer.receive("test.frozen"))
    await asyncio.sleep(0.2)
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    started = time.monotonic()
    try:
        with pytest.raises(ChannelLayerUnavailable, match="Timeout"):
            await asyncio.wait_for(waiting, 15)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert time.monotonic() - started < 10
    await layer.close()


def test_a_frozen_redis_does_not_hang_a_blocking_send(private_redis, prefix):
    """A send from synchronous code (a consumer's reply) fails once the URL's socket_timeout
    passes with no reply, instead of hanging its thread; the layer works again after."""
    server = private_redis()
    layer = RedisChannelLayer(hosts=[server.url + "?socket_timeout=0.5"], prefix=prefix)
    layer.send_sync("test.frozen", {"n": 1})
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    started = time.monotonic()
    try:
        with pytest.raises(ChannelLayerUnavailable, match="is unavailable"):
            layer.send_sync("test.frozen", {"n": 2})
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert 0.4 < time.monotonic() - started < 3
    layer.send_sync("test.frozen", {"n": 3})


async def test_password_and_database_from_the_url(private_redis, prefix):
    """AUTH and SELECT come from the URL; a wrong password is a clear layer error."""
    server = private_redis()
    redis.Redis.from_url(server.url).config_set("requirepass", "s3cret")
    good = RedisChannelLayer(hosts=[f"redis://:s3cret@127.0.0.1:{server.port}/4"], prefix=prefix)
    await good.send("test.db", {"n": 1})
    raw = redis.Redis(port=server.port, password="s3cret", db=4)
    assert raw.zcard(f"{prefix}test.db") == 1
    assert await good.receive("test.db") == {"n": 1}
    bad = RedisChannelLayer(hosts=[f"redis://:wrong@127.0.0.1:{server.port}/4"], prefix=prefix)
    with pytest.raises(ChannelLayerUnavailable, match="WRONGPASS|invalid password"):
        await bad.send("test.db", {"n": 2})
    await good.close()
    await bad.close()

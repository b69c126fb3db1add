"""The Redis layer's parts: hosts, shard hashing, message encoding (no server needed), and
the command pipe's pre-packed commands (on the session's Redis)."""

from __future__ import annotations

from channels_classic.layers.redis.wire.redis_py import decode_hosts


async def test_a_script_call_goes_through_when_its_caller_stopped_waiting(private_redis):
    """A script call cancelled after it was queued still runs, even on a Redis that has
    forgotten the script (NOSCRIPT, then the call again with its source): a put-back whose
    task was cancelled must still put back."""
    import asyncio

    import redis

    from channels_classic.layers.redis import scripts
    from channels_classic.layers.redis.wire.pipe import CommandPipe

    server = private_redis()
    raw = redis.Redis.from_url(server.url)
    pipe = CommandPipe(decode_hosts([server.url])[0])
    await pipe.call("PING")
    putting_back = pipe.run(scripts.put_back([b"test.key"], ["1.5", b"member", 60000]))
    putting_back.cancel()
    async with asyncio.timeout(5):
        while not raw.zcard("test.key"):
            await pipe.call("PING")
    assert raw.zrange("test.key", 0, -1, withscores=True) == [(b"member", 1.5)]
    await pipe.close()

"""The project's layer and channels_redis 4.3 share one Redis and exchange messages."""

from __future__ import annotations

import redis
from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer

from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.layers.redis.keys import consistent_hash
from channels_classic.names import non_local_name
from tests.unit.layers.test_redis_layer_interop import within


async def name_off_its_home_shard(new_channel, ring_size):
    """A new process channel name whose full-name hash picks another shard than the hash of
    its part up to the '!' (the names where channels_redis's send and receive disagree)."""
    for _ in range(100):
        name = await new_channel()
        if consistent_hash(name, ring_size) != consistent_hash(non_local_name(name), ring_size):
            return name
    raise AssertionError("no name off its home shard in 100 tries")


async def test_two_hosts_both_ways(private_redis, prefix):
    """Over two Redis servers each layer reaches the other's process channels and groups,
    even a process channel that channels_redis sends to another server than the one it
    reads it from (it hashes the full name to send, the part up to the '!' to receive)."""
    urls = [private_redis().url, private_redis().url]
    raws = [redis.Redis.from_url(url) for url in urls]
    ours = RedisChannelLayer(hosts=urls, prefix=prefix)
    theirs = ChannelsRedisLayer(hosts=urls, prefix=prefix)
    our_channel = await name_off_its_home_shard(ours.new_channel, 2)
    their_channel = await name_off_its_home_shard(theirs.new_channel, 2)

    await theirs.send(our_channel, {"to": "ours"})
    key = ours.keys.key_of(our_channel)
    sent_to = consistent_hash(our_channel, 2)
    assert (raws[sent_to].zcard(key), raws[1 - sent_to].zcard(key)) == (1, 0)
    assert sent_to != ours.keys.home_shard(our_channel)
    assert await within(ours.receive(our_channel)) == {"to": "ours"}

    await ours.send(their_channel, {"to": "theirs"})
    assert raws[ours.keys.home_shard(their_channel)].zcard(ours.keys.key_of(their_channel)) == 1
    assert await within(theirs.receive(their_channel)) == {"to": "theirs"}

    await theirs.group_add("interop-hosts", our_channel)
    await ours.group_add("interop-hosts", their_channel)
    for sender in (ours, theirs):
        expected = {"sent_by": type(sender).__module__}
        await sender.group_send("interop-hosts", expected)
        assert await within(theirs.receive(their_channel)) == expected
        assert await within(ours.receive(our_channel)) == expected
    await ours.close()
    await theirs.close_pools()

"""The project's layer and channels_redis 4.3 share one Redis and exchange messages."""

from __future__ import annotations

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer

from channels_classic.exceptions import ChannelFull
from channels_classic.layers.redis import RedisChannelLayer


@pytest.fixture(params=[None, ["shared-secret"]], ids=["plain", "encrypted"])
async def pair(request, redis_url, prefix):
    """Our layer and a channels_redis layer with the same prefix (and keys, when encrypted)."""
    ours = RedisChannelLayer(
        hosts=[redis_url], prefix=prefix, symmetric_encryption_keys=request.param
    )
    theirs = ChannelsRedisLayer(
        hosts=[redis_url], prefix=prefix, symmetric_encryption_keys=request.param
    )
    yield ours, theirs
    await ours.flush()
    await ours.close()
    await theirs.close_pools()


async def within(awaitable, seconds=5):
    return await asyncio.wait_for(awaitable, seconds)


async def test_normal_channels_both_ways(pair):
    """A message sent by either layer to a normal channel is received by the other."""
    ours, theirs = pair
    await ours.send("interop.normal", {"from": "ours", "b": b"\x01"})
    assert await within(theirs.receive("interop.normal")) == {"from": "ours", "b": b"\x01"}
    await theirs.send("interop.normal", {"from": "theirs"})
    assert await within(ours.receive("interop.normal")) == {"from": "theirs"}


async def test_process_channels_both_ways(pair):
    """Each layer delivers to the other's new_channel() names."""
    ours, theirs = pair
    their_channel = await theirs.new_channel()
    our_channel = await ours.new_channel()
    await ours.send(their_channel, {"to": "theirs"})
    await theirs.send(our_channel, {"to": "ours"})
    assert await within(theirs.receive(their_channel)) == {"to": "theirs"}
    assert await within(ours.receive(our_channel)) == {"to": "ours"}


async def test_groups_both_ways(pair):
    """Members added by either layer get group sends made by either layer."""
    ours, theirs = pair
    their_channel = await theirs.new_channel()
    our_channels = [await ours.new_channel(), await ours.new_channel()]
    await theirs.group_add("interop", their_channel)
    for channel in our_channels:
        await ours.group_add("interop", channel)
    for sender in (ours, theirs):
        await sender.group_send("interop", {"sent_by": type(sender).__module__})
        expected = {"sent_by": type(sender).__module__}
        assert await within(theirs.receive(their_channel)) == expected
        for channel in our_channels:
            assert await within(ours.receive(channel)) == expected
    await ours.group_discard("interop", their_channel)
    await theirs.group_send("interop", {"after": "discard"})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(theirs.receive(their_channel), 0.3)


async def test_capacity_is_shared(redis_url, prefix):
    """A channel filled through both layers is full for both, with the same exception."""
    theirs = ChannelsRedisLayer(hosts=[redis_url], prefix=prefix, capacity=2)
    ours = RedisChannelLayer(hosts=[redis_url], prefix=prefix, capacity=2)
    await theirs.send("interop.full", {})
    await ours.send("interop.full", {})
    with pytest.raises(ChannelFull):
        await ours.send("interop.full", {})
    with pytest.raises(ChannelFull):
        await theirs.send("interop.full", {})
    await ours.flush()
    await ours.close()
    await theirs.close_pools()

"""Sends tried again after a broken connection, on real Redis: with a ``once``, a try that
Redis carried out (its reply lost by a proxy that cuts the connection) is not carried out
again, even after a receiver took its message; a try that never reached Redis is delivered
once. Asyncio and blocking sends, channel and group sends, one shard and two."""

from __future__ import annotations

import asyncio

import pytest

from channels_classic.exceptions import ChannelFull, ChannelLayerUnavailable
from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.layers.redis.once import SendLanes
from tests.support.tcp_proxy import warm_up

#: How long a test waits to be sure that no second copy arrives.
QUIET = 0.3


@pytest.fixture
async def layers(reply_losing_proxy, redis_url, prefix):
    """A sender through the proxy and a receiver straight on Redis, sharing the prefix."""
    sender = RedisChannelLayer(hosts=[reply_losing_proxy.url], prefix=prefix)
    receiver = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    await warm_up(sender)
    yield sender, receiver
    await receiver.flush()
    for layer in (sender, receiver):
        await layer.close()


async def receive(layer: RedisChannelLayer, channel: str) -> dict:
    return await asyncio.wait_for(layer.receive(channel), 5)


async def nothing_more(receiver: RedisChannelLayer, channel: str) -> None:
    await asyncio.sleep(QUIET)
    assert await receiver.receive_ready([channel], 10) == []


async def test_a_retry_of_a_send_redis_carried_out_is_not_delivered_again(
    layers, reply_losing_proxy
):
    """The reply is lost after Redis added the message; a receiver takes it; the retry with
    the same once adds nothing."""
    sender, receiver = layers
    with sender.once() as once:
        reply_losing_proxy.lose_next_reply()
        with pytest.raises(ChannelLayerUnavailable):
            await sender.send("test.once", {"n": 1}, once=once)
        assert await receive(receiver, "test.once") == {"n": 1}
        await sender.send("test.once", {"n": 1}, once=once)
    assert reply_losing_proxy.lost == 1
    await nothing_more(receiver, "test.once")


async def test_without_once_the_same_retry_delivers_twice(layers, reply_losing_proxy):
    """What the once prevents: the plain retry of that send is a second copy."""
    sender, receiver = layers
    reply_losing_proxy.lose_next_reply()
    with pytest.raises(ChannelLayerUnavailable):
        await sender.send("test.once", {"n": 1})
    await sender.send("test.once", {"n": 1})
    received = await receiver.receive_ready(["test.once"], 10)
    assert [message for _, message in received] == [{"n": 1}, {"n": 1}]


async def test_a_blocking_retry_is_not_delivered_again(layers, reply_losing_proxy):
    """The same from a consumer thread's blocking connection, the message still waiting in
    Redis when the retry comes."""
    sender, receiver = layers

    def send_twice() -> None:
        with sender.once() as once:
            reply_losing_proxy.lose_next_reply()
            with pytest.raises(ChannelLayerUnavailable):
                sender.send_sync("test.once", {"n": 1}, once=once)
            sender.send_sync("test.once", {"n": 1}, once=once)

    await asyncio.to_thread(send_twice)
    assert await receive(receiver, "test.once") == {"n": 1}
    await nothing_more(receiver, "test.once")


async def test_a_send_retried_after_the_channel_was_full_is_delivered(redis_url, prefix):
    """A try refused as full set no mark: the retry of the same once is added."""
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, channel_capacity={"test.f": 1})
    try:
        await layer.send("test.f", {"n": 0})
        with layer.once() as once:
            with pytest.raises(ChannelFull):
                await layer.send("test.f", {"n": 1}, once=once)
            assert await receive(layer, "test.f") == {"n": 0}
            await layer.send("test.f", {"n": 1}, once=once)
        assert await receive(layer, "test.f") == {"n": 1}
    finally:
        await layer.flush()
        await layer.close()


async def test_a_retry_goes_to_the_shard_of_its_first_try(reply_losing_proxy, redis_url, prefix):
    """With two shards (the first behind the proxy), a normal channel's sends alternate
    between them; the retry of a send lost on the first shard goes there again and is not
    added on the second."""
    sender = RedisChannelLayer(
        hosts=[reply_losing_proxy.url, redis_url.replace("/0", "/1")], prefix=prefix
    )
    receiver = RedisChannelLayer(hosts=[redis_url, redis_url.replace("/0", "/1")], prefix=prefix)
    try:
        await warm_up(sender)  # one send per shard: the next goes to the first
        await receiver.receive_ready(["test.warm"], 10)
        with sender.once() as once:
            reply_losing_proxy.lose_next_reply()
            with pytest.raises(ChannelLayerUnavailable):
                await sender.send("test.once", {"n": 1}, once=once)
            assert await receive(receiver, "test.once") == {"n": 1}
            await sender.send("test.once", {"n": 1}, once=once)
        assert once.shard == 0
        await nothing_more(receiver, "test.once")
    finally:
        await receiver.flush()
        for layer in (sender, receiver):
            await layer.close()


async def test_a_group_send_retried_reaches_each_member_once(layers, reply_losing_proxy):
    """The reply to a group send's push is lost after Redis carried it out; the retry with
    the same once adds nothing for the members it reached."""
    sender, receiver = layers
    members = [await receiver.new_channel() for _ in range(3)]
    for member in members:
        await sender.group_add("room", member)
    with sender.once() as once:
        reply_losing_proxy.lose_next_reply(after=1)  # the members' reply passes, the push's is lost
        with pytest.raises(ChannelLayerUnavailable):
            await sender.group_send("room", {"n": 1}, once=once)
        await sender.group_send("room", {"n": 1}, once=once)
    received = []
    while len(received) < len(members):
        received += await asyncio.wait_for(receiver.receive_batch(members, 10), 5)
    assert sorted(channel for channel, _ in received) == sorted(members)
    await asyncio.sleep(QUIET)
    assert await receiver.receive_ready(members, 10) == []


async def test_the_tries_of_one_message_share_a_lane_no_other_message_uses():
    """Messages in flight at once get lanes of their own; a lane is lent again once its
    message is done, with a new token."""
    lanes = SendLanes("client")
    with lanes.once() as first, lanes.once() as second:
        assert first.lane != second.lane
    with lanes.once() as again:
        assert again.lane in (first.lane, second.lane)
        reused = first if again.lane == first.lane else second
        assert again.token > reused.token


async def test_on_a_cluster_a_repeated_try_adds_nothing(redis_cluster, prefix):
    """On a cluster the mark lives in the slot of the try's shard (its hash tag): a try
    repeated with the same once, to a normal channel, a process channel and a group, is
    not delivered again, and no command crosses slots."""
    layer = RedisChannelLayer(hosts=[redis_cluster.url], prefix=prefix)
    try:
        process = await layer.new_channel()
        await layer.group_add("test-once", process)
        for send in (
            lambda once: layer.send("test.once", {"n": 1}, once=once),
            lambda once: layer.send(process, {"n": 2}, once=once),
            lambda once: layer.group_send("test-once", {"n": 3}, once=once),
        ):
            with layer.once() as once:
                await send(once)
                await send(once)
        assert await receive(layer, "test.once") == {"n": 1}
        assert [await receive(layer, process) for _ in range(2)] == [{"n": 2}, {"n": 3}]
        await nothing_more(layer, "test.once")
        assert await layer.receive_ready([process], 10) == []
    finally:
        await layer.flush()
        await layer.close()

"""A consumer's buffered sends, flushed from the worker's loop, keep their call order on the
project's Redis layer, retries included: nothing sent later lands before something sent earlier."""

from __future__ import annotations

import asyncio

from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.worker import outbox
from channels_classic.worker.outbox import FLUSH_RETRY_EVERY


async def test_a_group_send_is_not_overtaken_by_a_later_channel_send(layer):
    """Group.send then reply_channel.send, flushed on the loop: the member receives the group
    message first, though a group send takes two round trips and a channel send one."""
    facade = ClassicLayer(layer, alias="test")
    reply = await layer.new_channel()
    await layer.group_add("room", reply)
    for n in range(0, 10, 2):
        box = outbox.Outbox()
        box.add(facade, "room", {"n": n}, group=True)
        box.add(facade, reply, {"n": n + 1}, group=False)
        await box.flush_async()
    received = [(await layer.receive(reply))["n"] for _ in range(10)]
    assert received == list(range(10))


async def test_a_send_retried_on_a_full_channel_holds_back_the_later_ones(redis_url, prefix):
    """While the first buffered send waits for room on a full channel, the second one is not
    sent; once room is made both land, in order."""
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, channel_capacity={"test.full": 1})
    facade = ClassicLayer(layer, alias="test")
    try:
        await layer.send("test.full", {"old": True})
        box = outbox.Outbox()
        box.add(facade, "test.full", {"n": 1}, group=False)
        box.add(facade, "test.after", {"n": 2}, group=False)
        flushing = asyncio.ensure_future(box.flush_async())
        await asyncio.sleep(FLUSH_RETRY_EVERY * 2)
        assert await layer.receive_ready(["test.after"]) == []
        assert await layer.receive("test.full") == {"old": True}
        await asyncio.wait_for(flushing, 5)
        assert await layer.receive("test.full") == {"n": 1}
        assert await layer.receive("test.after") == {"n": 2}
    finally:
        await layer.flush()
        await layer.close()

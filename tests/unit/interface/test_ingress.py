"""A socket's way onto the layer, on real Redis: a frame whose send Redis carried out, though
its answer was lost with the connection, is held like any frame through an outage and tried
again, and reaches the workers once; so does the socket's disconnect."""

from __future__ import annotations

import asyncio

from channels_classic.interface.health import LayerHealth
from channels_classic.interface.ingress import Ingress, ProgressWatch
from channels_classic.layers.redis import RedisChannelLayer
from tests.support.tcp_proxy import warm_up


async def nothing_lost() -> None:
    raise AssertionError("the layer did not lose its data")


async def test_a_frame_whose_answer_was_lost_reaches_the_workers_once(
    reply_losing_proxy, redis_url, prefix
):
    """The reply to a frame's send, then to the disconnect's, is lost after Redis added the
    message; a worker takes each at once; the ingress tries again and adds no second copy."""
    interface = RedisChannelLayer(hosts=[reply_losing_proxy.url], prefix=prefix)
    worker = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    health = LayerHealth(worker, nothing_lost)
    watch = ProgressWatch(interface, "websocket.receive", health)
    ingress = Ingress(
        interface, interface, health, watch, None, max_outstanding=10, hold_timeout=10
    )
    try:
        await warm_up(interface)
        for channel, tracked in (("websocket.receive", True), ("websocket.disconnect", False)):
            taking = asyncio.ensure_future(worker.receive(channel))
            reply_losing_proxy.lose_next_reply()
            sent = ingress.put(channel, {"order": 1}, tracked=tracked, final=not tracked)
            assert await asyncio.wait_for(sent, 10)
            assert await asyncio.wait_for(taking, 5) == {"order": 1}
            await asyncio.sleep(0.3)
            assert await worker.receive_ready([channel], 10) == []
        assert reply_losing_proxy.lost == 2
    finally:
        health.close()
        await worker.flush()
        for layer in (interface, worker):
            await layer.close()

"""End to end: frames that break RFC 6455's rules get the close frame the RFC asks for
(not a dropped connection), and the consumers hear that the socket is gone."""

from __future__ import annotations

import asyncio

from channels_classic.layers.redis import RedisChannelLayer
from tests.support.e2e.routing import REPORTS
from tests.support.raw_websocket import BINARY, TEXT, RawWebSocket, frame


async def reported_disconnects(stack, count: int) -> list[dict]:
    layer = RedisChannelLayer(hosts=[stack.redis_url])
    try:
        return [await asyncio.wait_for(layer.receive(REPORTS), 10) for _ in range(count)]
    finally:
        await layer.close()


async def test_invalid_utf8_in_a_text_frame_closes_with_1007(stack):
    """A text frame that is not UTF-8: close frame 1007 (invalid payload data); the
    disconnect consumer runs."""
    stack.start_worker()
    stack.start_daphne()
    socket = await RawWebSocket.open(stack.port, "/report/")
    await socket.send(frame(TEXT, b"caf\xc3(\xff"))
    assert await asyncio.wait_for(socket.close_code(), 10) == 1007
    socket.abort()
    (report,) = await reported_disconnects(stack, 1)
    assert report["path"] == "/report/"


async def test_a_message_over_the_size_limit_closes_with_1009(stack):
    """With CHANNELS_WEBSOCKET_MAX_MESSAGE_SIZE at 1000 bytes, a 1001-byte message gets close
    frame 1009 (message too big); one of 1000 bytes is taken."""
    stack.env["TEST_MAX_MESSAGE_SIZE"] = "1000"
    stack.start_worker()
    stack.start_daphne()
    socket = await RawWebSocket.open(stack.port, "/chat/")
    await socket.send(frame(TEXT, b"x" * 990))
    opcode, payload = await asyncio.wait_for(socket.next_frame(), 10)
    assert (opcode, payload) == (TEXT, b"You said: " + b"x" * 990)
    await socket.send(frame(BINARY, b"y" * 1001))
    assert await asyncio.wait_for(socket.close_code(), 10) == 1009
    socket.abort()

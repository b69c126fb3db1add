"""Mixed mode end to end: daphne serving one asgi.py with a Channels 4 consumer and the
classic routes, a runworker for the classic ones, one Redis; the group they share carries
messages both ways."""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect

#: How long a message through the group may take.
PROMPTLY = 5.0


async def next_frame(socket) -> str:
    return await asyncio.wait_for(socket.recv(), PROMPTLY)


async def test_classic_and_channels4_consumers_share_a_group(stack):
    """A classic consumer's Group.send reaches the Channels 4 consumer's client, and the
    Channels 4 consumer's group_send reaches the classic socket, each in the frame the
    sender gave."""
    stack.env["DJANGO_SETTINGS_MODULE"] = "tests.support.e2e.mixed_settings"
    stack.start_worker()
    stack.start_daphne(app="tests.support.e2e.mixed_asgi:application")
    async with (
        connect(stack.url("/classic/")) as classic,
        connect(stack.url("/modern/")) as modern,
    ):
        await classic.send("hello")
        assert await next_frame(classic) == "classic: hello"
        assert await next_frame(modern) == "classic: hello"
        await modern.send("hi")
        assert await next_frame(modern) == "modern: hi"
        assert await next_frame(classic) == "modern: hi"

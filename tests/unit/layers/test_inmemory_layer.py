"""The in-memory layer: thread-safe, usable from any event loop, with batch receives."""

from __future__ import annotations

import asyncio
import threading

import pytest

from channels_classic.exceptions import ChannelFull
from channels_classic.layers.inmemory import InMemoryChannelLayer


async def test_send_receive_and_batches():
    """Messages come back in order, copied (a later change to the dict does not leak)."""
    layer = InMemoryChannelLayer()
    message = {"n": 0, "items": [1]}
    await layer.send("test.a", message)
    message["items"].append(2)
    for n in range(1, 4):
        await layer.send("test.a", {"n": n})
    assert await layer.receive("test.a") == {"n": 0, "items": [1]}
    assert [m["n"] for _, m in await layer.receive_batch(["test.a"], 2)] == [1, 2]
    assert await layer.receive_batch(["test.b", "test.a"], 5) == [("test.a", {"n": 3})]


async def test_default_capacity_is_100_and_full_raises():
    """The default capacity is 100 (1.x's 10 was too small), and a full channel says so."""
    layer = InMemoryChannelLayer()
    for n in range(100):
        await layer.send("test.full", {"n": n})
    with pytest.raises(ChannelFull, match=r"Channel 'test.full' is full \(100 messages"):
        await layer.send("test.full", {})


async def test_process_channels_and_groups():
    """A receive on 'prefix!' gets every process channel under it; groups reach members."""
    layer = InMemoryChannelLayer()
    first, second = await layer.new_channel("test"), await layer.new_channel("test")
    await layer.group_add("room", first)
    await layer.group_add("room", second)
    await layer.group_discard("room", second)
    await layer.group_send("room", {"text": "hi"})
    await layer.send(second, {"direct": True})
    received = await layer.receive_batch([first[: first.index("!") + 1]], 10)
    assert sorted(received, key=lambda pair: pair[0] != first) == [
        (first, {"text": "hi"}),
        (second, {"direct": True}),
    ]


async def test_expiry():
    """Messages older than expiry are dropped."""
    layer = InMemoryChannelLayer(expiry=0.1)
    await layer.send("test.old", {"old": True})
    await asyncio.sleep(0.2)
    await layer.send("test.old", {"new": True})
    assert await layer.receive("test.old") == {"new": True}


async def test_a_send_from_another_thread_wakes_a_waiting_receive():
    """A receive waiting in this loop is woken by a send made in another thread's loop."""
    layer = InMemoryChannelLayer()
    waiting = asyncio.ensure_future(layer.receive("test.cross"))
    await asyncio.sleep(0.05)
    thread = threading.Thread(target=asyncio.run, args=(layer.send("test.cross", {"x": 1}),))
    thread.start()
    thread.join()
    assert await asyncio.wait_for(waiting, 2) == {"x": 1}


async def test_a_cancelled_receive_gives_its_messages_back():
    """Messages handed to a receive that was cancelled before it ran go to the next one."""
    layer = InMemoryChannelLayer()
    waiting = asyncio.ensure_future(layer.receive_batch(["test.cancel"], 5))
    await asyncio.sleep(0.01)
    await layer.send("test.cancel", {"n": 1})
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await asyncio.wait_for(layer.receive("test.cancel"), 1) == {"n": 1}


async def test_flush_and_bad_input():
    """flush() empties everything; bad names and messages are refused clearly."""
    layer = InMemoryChannelLayer()
    await layer.send("test.f", {})
    await layer.group_add("g", "test.f")
    await layer.flush()
    await layer.group_send("g", {})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive("test.f"), 0.1)
    with pytest.raises(TypeError, match="must be a dict, got str"):
        await layer.send("test.f", "text")
    with pytest.raises(TypeError, match="Channel name 'a b' is invalid"):
        await layer.send("a b", {})


async def test_receive_ready_answers_at_once():
    """receive_ready returns what is queued now, or nothing, without waiting."""
    layer = InMemoryChannelLayer()
    assert await asyncio.wait_for(layer.receive_ready(["test.r"], 3), 0.5) == []
    await layer.send("test.r", {"n": 1})
    assert await layer.receive_ready(["test.r"], 3) == [("test.r", {"n": 1})]


async def test_count_waiting_counts_unexpired_messages():
    """count_waiting gives each channel's queue length (a process's name: all its channels),
    and leaves out what expired."""
    layer = InMemoryChannelLayer(expiry=0.2)
    first, second = await layer.new_channel("test"), await layer.new_channel("test")
    for channel in ("test.a", "test.a", first, second, second):
        await layer.send(channel, {})
    process = first[: first.index("!") + 1]
    counts = await layer.count_waiting(["test.a", "test.b", first, process])
    assert counts == {"test.a": 2, "test.b": 0, first: 1, process: 3}
    await asyncio.sleep(0.3)
    assert await layer.count_waiting(["test.a", process]) == {"test.a": 0, process: 0}

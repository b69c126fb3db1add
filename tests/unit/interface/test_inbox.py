"""The connection inbox (interface/inbox.py): order, waking, and cancellation."""

from __future__ import annotations

import asyncio

from channels_classic.interface.inbox import Inbox


async def test_messages_come_out_in_arrival_order():
    """What was put comes out oldest first, whether it was there before the get or not."""
    inbox = Inbox(asyncio.get_running_loop())
    inbox.put({"n": 1})
    inbox.put({"n": 2})
    assert [await inbox.get(), await inbox.get()] == [{"n": 1}, {"n": 2}]
    later = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not later.done()
    inbox.put({"n": 3})
    assert await asyncio.wait_for(later, 1) == {"n": 3}
    assert len(inbox) == 0


async def test_a_cancelled_get_loses_nothing():
    """A reader cancelled while waiting, or cancelled after a message woke it, leaves the
    message for the next reader."""
    inbox = Inbox(asyncio.get_running_loop())
    waiting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.sleep(0)
    assert waiting.cancelled()

    woken = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put({"n": 1})
    woken.cancel()  # after the wake-up, before the reader ran
    await asyncio.sleep(0)
    assert woken.cancelled()
    assert len(inbox) == 1
    assert await asyncio.wait_for(inbox.get(), 1) == {"n": 1}


async def test_a_new_reader_right_after_a_cancelled_one_is_woken():
    """The connection cancels its wait and starts another in one turn of the loop (racing the
    client and the inbox): the new reader, not the leaving one, gets the next message."""
    inbox = Inbox(asyncio.get_running_loop())
    old = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    old.cancel()
    new = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    inbox.put({"n": 1})
    assert await asyncio.wait_for(new, 1) == {"n": 1}
    assert old.cancelled()

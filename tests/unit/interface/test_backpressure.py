"""Every row of the interface's backpressure table: the outcome of each channel refusing a
message, how it is counted and logged, and what the socket or request gets."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from channels_classic.exceptions import ChannelFull
from channels_classic.interface import backpressure
from channels_classic.interface.backpressure import ON_REFUSED, Outcome
from tests.unit.interface.test_interface_websocket import (
    PROMPTLY,
    Socket,
    make_app,
    open_socket,
    pending,
    take,
)

#: A channel's capacity in these tests: one message fills it.
FULL = 1

ROWS = [
    ("websocket.connect", Outcome.REFUSE_HANDSHAKE),
    ("websocket.receive", Outcome.HOLD),
    ("websocket.disconnect", Outcome.HOLD),
    ("http.request", Outcome.SERVICE_UNAVAILABLE),
    ("http.disconnect", Outcome.DROPPED),
]


def test_the_table_has_a_row_for_every_channel_the_interface_sends_to():
    """The table is exactly the five channels the interface server sends to."""
    assert ON_REFUSED == dict(ROWS)


@pytest.mark.parametrize(("channel", "outcome"), ROWS, ids=[channel for channel, _ in ROWS])
def test_refusals_are_counted_each_and_logged_once_then_counted(channel, outcome, caplog):
    """refused() returns the row's outcome and counts every refusal; of a burst of them the
    first is logged (a warning, a debug line for a dropped message) and the others counted
    into one report."""
    caplog.set_level(logging.DEBUG, logger="channels_classic")
    before = backpressure.counts[channel, "refused"]
    for _ in range(3):
        assert backpressure.refused(channel, ChannelFull(channel)) is outcome
    assert backpressure.counts[channel, "refused"] == before + 3
    lines = [r for r in caplog.records if f"{channel} could not take" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].levelno == (logging.DEBUG if outcome is Outcome.DROPPED else logging.WARNING)
    backpressure.failures.flush()
    assert "2 more times in the last" in caplog.records[-1].getMessage()


async def fill(app, channel: str) -> None:
    await app.backend.send(channel, {"filler": True})


async def test_a_full_connect_channel_answers_503():
    """websocket.connect full: the handshake is answered with HTTP 503 'Connection queue at
    capacity' (ASGI's denial response), counted, and no disconnect is sent."""
    app = make_app(capacity={"websocket.connect": FULL})
    await fill(app, "websocket.connect")
    before = backpressure.counts["websocket.connect", "refused"]
    sent = await Socket(app).finished()
    assert sent == [
        {
            "type": "websocket.http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", b"28"),
            ],
        },
        {"type": "websocket.http.response.body", "body": b"Connection queue at capacity"},
    ]
    assert backpressure.counts["websocket.connect", "refused"] == before + 1
    assert await pending(app, "websocket.disconnect") == []


async def test_a_full_connect_channel_refuses_with_403_without_denial_responses():
    """On an ASGI server without the denial response extension, the refusal is a 403."""
    app = make_app(capacity={"websocket.connect": FULL})
    await fill(app, "websocket.connect")
    assert await Socket(app, denial=False).finished() == [{"type": "websocket.close", "code": 1000}]


async def test_a_full_receive_channel_holds_the_frames_and_sends_them_in_order():
    """websocket.receive full: the socket's frames wait (counted as held) and go out in order
    once workers make room; the socket stays open."""
    app = make_app(capacity={"websocket.receive": FULL})
    socket = await open_socket(app)
    await fill(app, "websocket.receive")
    before = backpressure.counts["websocket.receive", "held"]
    socket.frame("first")
    socket.frame("second")
    await asyncio.sleep(0.1)
    assert backpressure.counts["websocket.receive", "held"] == before + 1
    assert await take(app, "websocket.receive") == {"filler": True}
    assert (await take(app, "websocket.receive"))["text"] == "first"
    assert (await take(app, "websocket.receive"))["text"] == "second"
    socket.leave(1000)
    sent = await socket.finished()
    assert all(event["type"] != "websocket.close" for event in sent)


async def test_a_frame_held_past_the_hold_timeout_closes_its_socket_with_1013():
    """A channel that stays full past the hold timeout: the socket is closed with 1013, the
    frame is dropped, and the consumers still hear of the disconnect once there is room."""
    app = make_app(capacity={"websocket.receive": FULL}, websocket_hold_timeout=0.2)
    socket = await open_socket(app)
    await fill(app, "websocket.receive")
    before = backpressure.counts["websocket.receive", "gave up"]
    socket.frame("never sent")
    assert await socket.sent_event() == {"type": "websocket.close", "code": 1013}
    assert backpressure.counts["websocket.receive", "gave up"] == before + 1
    socket.frame("after the close")
    socket.leave(1006)
    await socket.finished()
    assert await pending(app, "websocket.receive") == [{"filler": True}]
    assert [m["code"] for m in await pending(app, "websocket.disconnect")] == [1006]


async def test_a_full_disconnect_channel_holds_the_message_until_there_is_room():
    """websocket.disconnect full: the message waits until a worker makes room, then goes."""
    app = make_app(capacity={"websocket.disconnect": FULL})
    socket = await open_socket(app)
    await fill(app, "websocket.disconnect")
    socket.leave(4000)
    await asyncio.sleep(0.1)
    assert not socket.task.done()
    assert await take(app, "websocket.disconnect") == {"filler": True}
    await socket.finished()
    assert [m["code"] for m in await pending(app, "websocket.disconnect")] == [4000]


async def test_a_full_request_channel_answers_503_busy():
    """http.request full: the request is answered 503 saying the server is busy, counted."""
    app = make_app(capacity={"http.request": FULL})
    await fill(app, "http.request")
    before = backpressure.counts["http.request", "refused"]
    events = [{"type": "http.request", "body": b"body", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return events.pop(0) if events else await asyncio.Future()

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    scope = {"type": "http", "method": "POST", "path": "/x/", "headers": []}
    await asyncio.wait_for(app(scope, receive, send), PROMPTLY)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 503
    assert b"too busy" in sent[1]["body"]
    assert backpressure.counts["http.request", "refused"] == before + 1
    assert await take(app, "http.request") == {"filler": True}

"""Every row of the interface's backpressure table (SPEC WS17): the outcome of each channel
refusing a message, how it is logged and counted, and what the socket or request gets."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from channels_classic.exceptions import ChannelFull
from channels_classic.interface import backpressure
from channels_classic.interface.backpressure import ON_FULL, Outcome
from tests.test_interface_websocket import PROMPTLY, Socket, make_app, open_socket, pending, take

#: A channel's capacity in these tests: one message fills it.
FULL = 1

ROWS = [
    ("websocket.connect", Outcome.REFUSE_HANDSHAKE),
    ("websocket.receive", Outcome.CLOSE_TRY_AGAIN_LATER),
    ("websocket.disconnect", Outcome.DROPPED),
    ("http.request", Outcome.SERVICE_UNAVAILABLE),
    ("http.disconnect", Outcome.DROPPED),
]


def test_the_table_has_a_row_for_every_channel_the_interface_sends_to():
    """The table is exactly the five channels the interface server sends to."""
    assert ON_FULL == dict(ROWS)


@pytest.mark.parametrize(("channel", "outcome"), ROWS, ids=[channel for channel, _ in ROWS])
def test_each_refusal_is_counted_and_logged(channel, outcome, caplog):
    """refused() returns the row's outcome, counts it by (channel, outcome), and logs it:
    a warning, except a dropped message on a full channel, which is expected (debug)."""
    caplog.set_level(logging.DEBUG, logger="channels_classic")
    before = backpressure.counts[channel, outcome]
    assert backpressure.refused(channel, ChannelFull(channel)) is outcome
    assert backpressure.refused(channel, RuntimeError("layer broke")) is outcome
    assert backpressure.counts[channel, outcome] == before + 2
    full, broke = [r for r in caplog.records if f"{channel} could not take" in r.getMessage()]
    assert full.levelno == (logging.DEBUG if outcome is Outcome.DROPPED else logging.WARNING)
    assert broke.levelno == logging.WARNING and broke.exc_info is not None
    assert f"{outcome.value} ({before + 2} so far)" in broke.getMessage()


async def fill(app, channel: str) -> None:
    await app.backend.send(channel, {"filler": True})


async def test_a_full_connect_channel_answers_503():
    """websocket.connect full: the handshake is answered with HTTP 503 'Connection queue at
    capacity' (ASGI's denial response), counted, and no disconnect is sent."""
    app = make_app(capacity={"websocket.connect": FULL})
    await fill(app, "websocket.connect")
    key = ("websocket.connect", Outcome.REFUSE_HANDSHAKE)
    before = backpressure.counts[key]
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
    assert backpressure.counts[key] == before + 1
    assert await pending(app, "websocket.disconnect") == []


async def test_a_full_connect_channel_refuses_with_403_without_denial_responses():
    """On an ASGI server without the denial response extension, the refusal is a 403."""
    app = make_app(capacity={"websocket.connect": FULL})
    await fill(app, "websocket.connect")
    assert await Socket(app, denial=False).finished() == [{"type": "websocket.close", "code": 1000}]


async def test_a_full_receive_channel_closes_with_1013_and_mutes():
    """websocket.receive full: the socket is closed with 1013, counted once; later frames and
    the disconnect are not sent (muted, as daphne 1.x)."""
    app = make_app(capacity={"websocket.receive": FULL})
    socket = await open_socket(app)
    await fill(app, "websocket.receive")
    key = ("websocket.receive", Outcome.CLOSE_TRY_AGAIN_LATER)
    before = backpressure.counts[key]
    socket.frame("one too many")
    assert await socket.sent_event() == {"type": "websocket.close", "code": 1013}
    socket.frame("after the close")
    socket.leave(1006)
    await socket.finished()
    assert backpressure.counts[key] == before + 1
    assert await pending(app, "websocket.receive") == [{"filler": True}]
    assert await pending(app, "websocket.disconnect") == []


async def test_a_full_disconnect_channel_drops_the_message():
    """websocket.disconnect full: the message is dropped and counted; the socket's task ends
    normally."""
    app = make_app(capacity={"websocket.disconnect": FULL})
    socket = await open_socket(app)
    await fill(app, "websocket.disconnect")
    key = ("websocket.disconnect", Outcome.DROPPED)
    before = backpressure.counts[key]
    socket.leave(4000)
    assert await socket.finished() == [{"type": "websocket.accept", "subprotocol": None}]
    assert backpressure.counts[key] == before + 1
    assert await pending(app, "websocket.disconnect") == [{"filler": True}]


async def test_a_full_request_channel_answers_503():
    """http.request full: the request is answered 503 and counted."""
    app = make_app(capacity={"http.request": FULL})
    await fill(app, "http.request")
    key = ("http.request", Outcome.SERVICE_UNAVAILABLE)
    before = backpressure.counts[key]
    events = [{"type": "http.request", "body": b"body", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return events.pop(0) if events else await asyncio.Future()

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    scope = {"type": "http", "method": "POST", "path": "/x/", "headers": []}
    await asyncio.wait_for(app(scope, receive, send), PROMPTLY)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 503
    assert backpressure.counts[key] == before + 1
    assert await take(app, "http.request") == {"filler": True}

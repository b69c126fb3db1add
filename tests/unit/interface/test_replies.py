"""Reply messages → ASGI events: what a reply does to a socket while it connects and once it
is open, including what 1.x got wrong (empty frames, close codes)."""

from __future__ import annotations

import pytest

from channels_classic.exceptions import InvalidReply
from channels_classic.interface.replies import websocket_events

ACCEPT = {"type": "websocket.accept", "subprotocol": None}


@pytest.mark.parametrize(
    ("reply", "events"),
    [
        ({"accept": True}, [ACCEPT]),
        ({"accept": False}, [{"type": "websocket.close", "code": 1000}]),
        ({"close": True}, [{"type": "websocket.close", "code": 1000}]),
        ({"text": "hi"}, [ACCEPT, {"type": "websocket.send", "text": "hi"}]),
        (
            {"bytes": b"\x00", "close": 4001},
            [
                ACCEPT,
                {"type": "websocket.send", "bytes": b"\x00"},
                {"type": "websocket.close", "code": 4001},
            ],
        ),
        ({}, []),
    ],
)
def test_while_connecting(reply, events):
    """Accept, reject, data implying accept, data then close."""
    assert websocket_events(reply, connecting=True) == events


@pytest.mark.parametrize(
    ("reply", "events"),
    [
        ({"text": ""}, [{"type": "websocket.send", "text": ""}]),
        ({"accept": True, "text": "x"}, [{"type": "websocket.send", "text": "x"}]),
        ({"close": 1001}, [{"type": "websocket.close", "code": 1001}]),
        (
            {"text": "bye", "close": True},
            [{"type": "websocket.send", "text": "bye"}, {"type": "websocket.close", "code": 1000}],
        ),
    ],
)
def test_once_open(reply, events):
    """Empty frames are sent (1.x dropped them), accept is ignored, and any valid close code
    works (1.x failed on codes other than 1000 and 3000-4999)."""
    assert websocket_events(reply, connecting=False) == events


def test_subprotocol_goes_into_accept():
    """The chosen subprotocol is named in the accept event."""
    assert websocket_events({"accept": True}, connecting=True, subprotocol="chat") == [
        {"type": "websocket.accept", "subprotocol": "chat"}
    ]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"txt": "x"}, r"unknown keys \['txt'\] in WebSocket reply; the keys are"),
        ({"text": "a", "bytes": b"b"}, "either 'text' or 'bytes', not both"),
        ({"text": b"x"}, "'text' must be a str, got bytes"),
        ({"bytes": "x"}, "'bytes' must be bytes, got str"),
        ({"close": 1005}, r"close code \(1000-1003, 1007-1014 or 3000-4999\), got 1005"),
        ({"close": "now"}, "got 'now'"),
        ({"accept": "yes"}, "'accept' must be True or False"),
        (["text"], "must be a dict, got list"),
    ],
)
def test_bad_replies_are_refused_with_the_reason(reply, error):
    """Malformed replies raise InvalidReply saying what is wrong."""
    with pytest.raises(InvalidReply, match=error):
        websocket_events(reply, connecting=False)

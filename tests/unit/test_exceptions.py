"""Exceptions that act on a socket: WebsocketCloseException checks its code as close() does
(1.x checked nothing), and a real worker on the in-memory layer runs it on any reply channel
(1.x failed on daphne's reply channel names, and the failure ended the worker)."""

from __future__ import annotations

from typing import Any

import pytest

from channels_classic import route
from channels_classic.exceptions import InvalidReply, WebsocketCloseException
from channels_classic.generic import WebsocketConsumer
from channels_classic.message import Message
from tests.support.generic import make_layer, run

#: A reply channel name as daphne makes them (1.x could not close these).
DAPHNE_REPLY_CHANNEL = "daphne.response.x!y"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (
            999,
            r"'close' must be True or a close code \(1000-1003, 1007-1014 or 3000-4999\), "
            r"got 999$",
        ),
        (1005, r"'close' must be True or a close code \(.*\), got 1005$"),
        ("4000", r"'close' must be True or a close code \(.*\), got '4000'$"),
        (2.5, r"'close' must be True or a close code \(.*\), got 2\.5$"),
        (
            False,
            r"^WebsocketCloseException\(False\) closes nothing: give a close code, or None for a "
            r"normal closure \(1000\)$",
        ),
    ],
)
def test_an_invalid_close_code_is_refused_as_close_refuses_it(code, error):
    """A code a server may not send is an InvalidReply (a ValueError) when the exception is
    made, with the message WebsocketConsumer.close() gives for the same code, after 1.x's
    "invalid close code"."""
    with pytest.raises(InvalidReply, match=error) as refused:
        WebsocketCloseException(code)
    assert code is False or str(refused.value).startswith(f"invalid close code {code!r}: ")
    if code is not False:  # close(False) is refused before the code is looked at

        class Closer(WebsocketConsumer):
            def receive(self, text: str | None = None, **kwargs: Any) -> None:
                self.close(code)

        content = {"reply_channel": "test.reply", "path": "/", "text": "close"}
        with pytest.raises(InvalidReply, match=error):
            Closer(Message(content, "websocket.receive", make_layer()))


@pytest.mark.parametrize(("code", "sent"), [(None, 1000), (True, 1000), (1001, 1001), (4999, 4999)])
def test_valid_codes_are_what_the_close_carries(code, sent):
    """None and True mean a normal closure (1000), as for close(); a code is sent as is."""
    assert WebsocketCloseException(code).code == sent


def close_with_4001(message: Message) -> None:
    raise WebsocketCloseException(4001)


def test_a_worker_closes_a_daphne_reply_channel_with_the_code():
    """Raised in a consumer run by a real worker, the exception sends {"close": code} to the
    message's reply channel, whatever its name (1.x only closed websocket.* names)."""
    layer = make_layer(route("websocket.receive", close_with_4001))
    layer.send("websocket.receive", {"reply_channel": DAPHNE_REPLY_CHANNEL, "text": "bye"})
    worker = run(layer)
    assert worker.handled == 1
    assert layer.receive([DAPHNE_REPLY_CHANNEL]) == (DAPHNE_REPLY_CHANNEL, {"close": 4001})


def test_a_message_without_a_reply_channel_has_no_socket_to_close():
    """run() on a message with no reply channel is a ValueError naming the channel."""
    message = Message({"text": "x"}, "test.background", make_layer())
    with pytest.raises(
        ValueError,
        match=r"^You cannot raise CloseWebsocketError from a non-websocket handler\. "
        r"WebsocketCloseException was raised for a message on 'test\.background' that "
        r"has no reply channel, so there is no socket to close; raise it from consumers of "
        r"websocket\.\* messages$",
    ):
        WebsocketCloseException().run(message)


def test_a_failing_run_is_logged_and_the_worker_goes_on(caplog):
    """When run() itself fails, the worker logs it with the consumer's name and the reason,
    and handles the next message."""
    layer = make_layer(route("test.background", close_with_4001))
    layer.send("test.background", {"text": "no socket"})
    layer.send("test.background", {"reply_channel": DAPHNE_REPLY_CHANNEL})
    worker = run(layer)
    assert worker.handled == 2
    assert layer.receive([DAPHNE_REPLY_CHANNEL]) == (DAPHNE_REPLY_CHANNEL, {"close": 4001})
    assert (
        "worker: WebsocketCloseException raised by tests.unit.test_exceptions.close_with_4001 "
        "could not act on its socket"
    ) in caplog.text
    assert "there is no socket to close" in caplog.text

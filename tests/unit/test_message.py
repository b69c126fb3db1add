"""channels_classic/message.py: the 1.x handle on a consumer's buffered sends
(``pending_message_store``) and reading ``headers`` in both of 1.x's shapes."""

from __future__ import annotations

import pytest

from channels_classic.channel import Channel, Group
from channels_classic.message import Message, header_pairs, pending_message_store
from channels_classic.routing import route
from channels_classic.worker import outbox
from tests.support.generic import make_layer, run


def test_the_store_is_active_only_inside_a_consumer():
    """Outside a consumer nothing is buffered; a consumer run by a worker sees an active
    store, and appending to it buffers the send until the consumer returns."""
    assert not pending_message_store.active
    seen = []

    def consumer(message):
        seen.append(pending_message_store.active)
        pending_message_store.append(message.reply_channel, {"text": "buffered"})
        seen.append(layer.receive([message.reply_channel.name]))

    layer = make_layer(route("test.in", consumer))
    layer.send("test.in", {"reply_channel": "test.reply"})
    run(layer)
    assert seen == [True, (None, None)]
    assert layer.receive(["test.reply"]) == ("test.reply", {"text": "buffered"})


def test_send_and_flush_sends_what_waits_and_later_sends_go_out_at_once():
    """As in 1.x: send_and_flush() mid-consumer sends the buffered messages in order and ends
    buffering for the rest of the consumer."""
    observed = []

    def consumer(message):
        message.reply_channel.send({"n": 1})
        Group("room", channel_layer=message.channel_layer).send({"n": 2})
        pending_message_store.send_and_flush()
        observed.append(layer.receive(["test.reply"])[1])
        observed.append(pending_message_store.active)
        message.reply_channel.send({"n": 3})
        observed.append(layer.receive(["test.reply"])[1])

    layer = make_layer(route("test.in", consumer))
    layer.group_add("room", "test.member")
    layer.send("test.in", {"reply_channel": "test.reply"})
    run(layer)
    assert observed == [{"n": 1}, False, {"n": 3}]
    assert layer.receive(["test.member"])[1] == {"n": 2}


def test_prepare_buffers_sends_made_outside_a_worker():
    """prepare() starts buffering in this thread (as 1.x's consumer_started did), and
    send_and_flush() sends; appending outside a consumer is a RuntimeError saying to send."""
    layer = make_layer()
    channel = Channel("test.out", channel_layer=layer)
    with pytest.raises(RuntimeError, match=r"outside a consumer, where nothing is buffered"):
        pending_message_store.append(channel, {"n": 0})
    pending_message_store.prepare()
    try:
        channel.send({"n": 1})
        assert layer.receive(["test.out"]) == (None, None)
        pending_message_store.send_and_flush()
    finally:
        outbox.replace(None)
    assert layer.receive(["test.out"]) == ("test.out", {"n": 1})


@pytest.mark.parametrize(
    "headers",
    [
        [[b"Origin", b"http://a"], [b"cookie", b"x=1"]],
        [("origin", "http://a"), ("Cookie", b"x=1")],
        {"origin": "http://a", b"cookie": "x=1"},
    ],
)
def test_headers_come_as_lower_case_byte_pairs_from_either_shape(headers):
    """The interface server's [name, value] byte pairs and 1.x's dict (str or bytes) give
    the same pairs."""
    assert header_pairs(headers) == [(b"origin", b"http://a"), (b"cookie", b"x=1")]
    assert header_pairs(None) == []


def test_headers_that_are_not_pairs_are_refused_saying_the_shapes():
    with pytest.raises(ValueError, match=r"headers must be a list of \[name, value\] pairs"):
        header_pairs([[b"origin"]])
    with pytest.raises(ValueError, match=r"neither str nor bytes"):
        header_pairs({"origin": 1})


def test_a_message_built_as_1x_tests_build_it():
    """Message(content, None, None), as 1.x tests make them, has no channel name or layer."""
    message = Message({"reply_channel": "test-reply"}, None, None)
    assert message.channel.name is None and message.channel_layer is None
    assert message.reply_channel.name == "test-reply"

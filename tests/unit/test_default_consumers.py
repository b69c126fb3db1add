"""The default consumers that Router.check_default() adds after the project's routes: a
request no route takes goes to the views, and a socket nothing accepts is accepted."""

from __future__ import annotations

import pytest

from channels_classic.default_consumers import connect_consumer, null_consumer
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.message import Message
from channels_classic.worker import outbox


@pytest.fixture
def layer() -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(), alias="test", routing=[])


def test_connect_consumer_accepts_the_socket(layer: ClassicLayer):
    """The default connect consumer sends {"accept": True} to the reply channel."""
    reply_channel = layer.new_channel("websocket.send")
    message = Message({"reply_channel": reply_channel, "path": "/"}, "websocket.connect", layer)
    connect_consumer(message)
    assert layer.receive([reply_channel], block=True) == (reply_channel, {"accept": True})


def test_connect_consumer_accept_waits_for_the_consumer_to_finish(layer: ClassicLayer):
    """Inside a consumer run the accept goes into the outbox, like any consumer's send."""
    reply_channel = layer.new_channel("websocket.send")
    message = Message({"reply_channel": reply_channel}, "websocket.connect", layer)
    with outbox.collecting() as box:
        connect_consumer(message)
    assert [(item.name, item.content) for item in box.pending] == [
        (reply_channel, {"accept": True})
    ]
    assert layer.receive([reply_channel]) == (None, None)


def test_connect_consumer_without_reply_channel_says_why(layer: ClassicLayer):
    """A connect message without a reply channel cannot be accepted: ValueError naming it."""
    message = Message({"path": "/"}, "websocket.connect", layer)
    with pytest.raises(ValueError, match=r"no reply_channel \(keys: \['path'\]\)"):
        connect_consumer(message)


def test_null_consumer_sends_nothing(layer: ClassicLayer):
    """The default receive/disconnect consumer takes the message and sends nothing."""
    reply_channel = layer.new_channel("websocket.send")
    content = {"reply_channel": reply_channel, "path": "/", "text": "hi", "order": 1}
    message = Message(dict(content), "websocket.receive", layer)
    assert null_consumer(message) is None
    assert message.content == content
    assert layer.receive([reply_channel]) == (None, None)

"""Channel, Group and Message, and the outbox that buffers sends made in consumers."""

from __future__ import annotations

import pytest

from channels_classic import Channel, Group
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.message import Message
from channels_classic.worker import outbox as outbox_module


@pytest.fixture
def layer() -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(), alias="test", routing=[])


def test_sends_outside_consumers_go_out_at_once(layer):
    """Outside a consumer Channel.send and Group.send are immediate; names may be bytes."""
    channel = Channel(b"test.now", channel_layer=layer)
    assert channel.name == "test.now" and str(channel) == "test.now"
    channel.send({"n": 1})
    assert layer.receive(["test.now"]) == ("test.now", {"n": 1})
    group = Group("room", channel_layer=layer)
    group.add(channel)
    group.send({"n": 2})
    assert layer.receive(["test.now"]) == ("test.now", {"n": 2})
    group.discard("test.now")
    group.send({"n": 3})
    assert layer.receive(["test.now"]) == (None, None)


def test_sends_inside_a_consumer_wait_for_the_flush(layer):
    """Inside a consumer, sends are held in call order until flushed; immediately=True and
    group membership changes act at once."""
    channel = Channel("test.later", channel_layer=layer)
    with outbox_module.collecting() as box:
        Group("room", channel_layer=layer).add(channel)
        channel.send({"n": 1})
        Group("room", channel_layer=layer).send({"n": 2})
        channel.send({"n": 0}, immediately=True)
        assert layer.receive(["test.later"]) == ("test.later", {"n": 0})
        assert layer.receive(["test.later"]) == (None, None)
    assert outbox_module.current() is None
    box.flush()
    assert [layer.receive(["test.later"])[1]["n"] for _ in range(2)] == [1, 2]


def test_a_full_channel_at_flush_is_retried_then_logged(layer, caplog, monkeypatch):
    """A buffered send to a full channel is retried, then dropped with an error (1.x
    raised and killed the worker); the other sends still go out."""
    monkeypatch.setattr(outbox_module, "FLUSH_RETRY_FOR", 0.3)
    monkeypatch.setattr(outbox_module, "FLUSH_RETRY_EVERY", 0.1)
    small = ClassicLayer(InMemoryChannelLayer(capacity=1), alias="small", routing=[])
    small.send("test.full", {"n": 0})
    with outbox_module.collecting() as box:
        Channel("test.full", channel_layer=small).send({"n": 1})
        Channel("test.free", channel_layer=small).send({"n": 2})
    box.flush()
    assert "channel 'test.full' stayed full" in caplog.text
    assert small.receive(["test.free"]) == ("test.free", {"n": 2})


def test_content_must_be_a_dict(layer):
    """Channel.send refuses non-dicts with TypeError, Group.send with ValueError (1.x)."""
    with pytest.raises(TypeError, match=r"^You can only send dicts .* Channel.send\(\) got list"):
        Channel("test.x", channel_layer=layer).send([1])
    with pytest.raises(ValueError, match=r"^You can only send dicts .* Group.send\(\) got str"):
        Group("g", channel_layer=layer).send("x")


def test_message_is_dict_like_and_knows_its_channels(layer):
    """Message exposes content like a dict, its channel, and its reply channel."""
    message = Message({"reply_channel": "r.x!y", "text": "hi"}, "websocket.receive", layer)
    assert message["text"] == "hi" and "text" in message and message.get("nope", 5) == 5
    assert sorted(message.keys()) == ["reply_channel", "text"]
    assert message.channel == Channel("websocket.receive")
    assert message.reply_channel.name == "r.x!y"
    assert message.reply_channel.channel_layer is layer
    message["text"] = "changed"
    copy = message.copy()
    copy["text"] = "copy"
    assert message["text"] == "changed" and copy.channel.name == "websocket.receive"
    assert Message({}, "x", layer).reply_channel is None

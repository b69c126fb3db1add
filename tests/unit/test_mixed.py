"""channels_classic/mixed.py: Channels 4 consumers get this library's layers through
Channels 4's own registry, and messages cross between classic and Channels 4 consumers."""

from __future__ import annotations

import pytest
from channels.layers import channel_layers as channels4_layers
from channels.layers import get_channel_layer as channels4_get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from channels_classic.exceptions import InvalidReply
from channels_classic.interface.replies import websocket_events
from channels_classic.layers.registry import channel_layers
from channels_classic.mixed import CLASSIC_MESSAGE_TYPE, Channels4Layer
from tests.support.mixed_consumers import ROOM, ModernChat

IN_MEMORY = "channels_classic.layers.inmemory.InMemoryChannelLayer"


@pytest.fixture
def layers(settings):
    """CHANNEL_LAYERS with ROUTING keys, as classic projects have them."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": IN_MEMORY, "ROUTING": []},
        "other": {"BACKEND": IN_MEMORY, "ROUTING": []},
    }


def test_channels4_gets_our_backend_without_reading_channel_layers(layers):
    """channels.layers.get_channel_layer() does not refuse the ROUTING keys: for every alias
    it gives a stand-in for this library's backend, followed through layer swaps."""
    modern = channels4_get_channel_layer()
    assert isinstance(modern, Channels4Layer) and channels4_layers["other"].alias == "other"
    assert modern.new_channel.__self__ is channel_layers["default"].channel_layer
    channel_layers.reset()
    assert modern.new_channel.__self__ is channel_layers["default"].channel_layer


async def test_a_typeless_message_becomes_a_classic_message_for_channels4(layers):
    modern = channels4_get_channel_layer()
    name = await modern.new_channel()
    await modern.send(name, {"text": "hi"})
    await modern.send(name, {"type": "chat.message", "text": "typed"})
    assert await modern.receive(name) == {"type": CLASSIC_MESSAGE_TYPE, "text": "hi"}
    assert await modern.receive(name) == {"type": "chat.message", "text": "typed"}


async def test_a_classic_group_send_reaches_a_channels4_client(layers, transactional_db):
    """ModernChat (with ClassicMessages) in a group gets a classic Group.send as a frame,
    and a close after it; its own group_send comes back as its chat_message. (Channels 4
    consumers close stale database connections around each message.)"""
    communicator = WebsocketCommunicator(
        URLRouter([path("modern/", ModernChat.as_asgi())]), "/modern/"
    )
    connected, _ = await communicator.connect()
    assert connected
    layer = channel_layers["default"]
    await layer.channel_layer.group_send(ROOM, {"text": "from classic"})
    assert await communicator.receive_from() == "from classic"
    await communicator.send_to(text_data="hello")
    assert await communicator.receive_from() == "modern: hello"
    await layer.channel_layer.group_send(ROOM, {"bytes": b"\x01", "close": 4001})
    assert await communicator.receive_from() == b"\x01"
    assert (await communicator.receive_output())["code"] == 4001
    await communicator.disconnect()


def test_a_channels4_message_is_a_reply_to_a_classic_socket():
    """A message with a type keeps its reply keys and loses the others; one without any is
    refused saying how to reach classic sockets."""
    events = websocket_events(
        {"type": "chat.message", "text": "hi", "sender": "v4"}, connecting=False
    )
    assert events == [{"type": "websocket.send", "text": "hi"}]
    with pytest.raises(
        InvalidReply, match=r"type 'chat\.message' reached a classic socket .* 'text'"
    ):
        websocket_events({"type": "chat.message", "message": "hi"}, connecting=False)

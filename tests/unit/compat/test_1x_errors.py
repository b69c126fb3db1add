"""Every error text of Channels 1.1.8 that user code or its tests can see starts the message
of the error raised here for the same mistake (the fix follows it), with 1.x's type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from channels_classic.channel import Channel, Group
from channels_classic.exceptions import (
    InvalidChannelLayerError,
    SendNotAvailableOnDemultiplexer,
    WebsocketCloseException,
)
from channels_classic.generic.websockets import (
    JsonWebsocketConsumer,
    WebsocketConsumer,
    WebsocketDemultiplexer,
)
from channels_classic.layers.registry import ChannelLayerManager
from channels_classic.message import Message
from channels_classic.routing import route, route_class
from channels_classic.sessions import channel_session, enforce_ordering, session_for_reply_channel
from channels_classic.test import Client, WSClient
from tests.support.generic import make_layer

IN_MEMORY = "channels_classic.layers.inmemory.InMemoryChannelLayer"


def message(channel: str, **content: Any) -> Message:
    return Message(content, channel, make_layer())


def socket_message(channel: str, **content: Any) -> Message:
    return message(channel, reply_channel="test.reply", path="/", **content)


class Echo(JsonWebsocketConsumer):
    pass


class Streams(WebsocketDemultiplexer):
    consumers = {"echo": Echo}


def demultiplex(text: str) -> None:
    Streams(socket_message("websocket.receive", text=text, order=1))


def settings_layers(settings: Any, config: dict[str, Any]) -> ChannelLayerManager:
    settings.CHANNEL_LAYERS = {"default": config}
    return ChannelLayerManager()


def signed_cookie_session(settings: Any) -> None:
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    session_for_reply_channel("x")


class Slight(WebsocketConsumer):
    slight_ordering = True


#: (what is done wrong, the exception 1.x raised, the text its message started with)
MISTAKES: list[tuple[Callable[..., Any], type[BaseException], str]] = [
    (
        signed_cookie_session,
        ValueError,
        "You cannot use channels session functionality with signed cookie sessions!",
    ),
    (
        lambda settings: channel_session(lambda *a: None)(None, None, socket_message("x")),
        ValueError,
        "channel_session called without Message instance",
    ),
    (
        lambda settings: channel_session(lambda m: None)(message("test.x")),
        ValueError,
        "No reply_channel sent to consumer; @channel_session can only be used on messages "
        "containing it.",
    ),
    (
        lambda settings: enforce_ordering(lambda m: None, slight=True),
        ValueError,
        "Slight ordering is now always on due to Channels changes. Please remove the decorator.",
    ),
    (
        lambda settings: enforce_ordering(lambda m: None)(socket_message("websocket.receive")),
        ValueError,
        "No `order` value in message; @enforce_ordering can only be used on messages "
        "containing it.",
    ),
    (
        lambda settings: Slight(socket_message("websocket.connect")),
        ValueError,
        "Slight ordering is now always on. Please remove `slight_ordering=True`.",
    ),
    (
        lambda settings: WebsocketConsumer.group_send("g"),
        ValueError,
        "You must pass text or bytes",
    ),
    (
        lambda settings: Echo(socket_message("websocket.receive", bytes=b"\x00", order=1)),
        ValueError,
        "No text section for incoming WebSocket frame!",
    ),
    (
        lambda settings: demultiplex('{"stream": "echo", "payload": [1]}'),
        ValueError,
        "Multiplexed frame payload is not a dict",
    ),
    (
        lambda settings: demultiplex('{"stream": "nope", "payload": {}}'),
        ValueError,
        "Invalid multiplexed frame received (stream not mapped)",
    ),
    (
        lambda settings: demultiplex('{"payload": {}}'),
        ValueError,
        "Invalid multiplexed **frame received (no channel/payload key)",
    ),
    (
        lambda settings: Streams.group_send("g", "echo", {}),
        SendNotAvailableOnDemultiplexer,
        "Use WebsocketMultiplexer.group_send",
    ),
    (
        lambda settings: WebsocketCloseException(999),
        ValueError,
        "invalid close code 999",
    ),
    (
        lambda settings: WebsocketCloseException().run(message("test.x")),
        ValueError,
        "You cannot raise CloseWebsocketError from a non-websocket handler.",
    ),
    (
        lambda settings: Channel("test.x", channel_layer=make_layer()).send([1]),
        TypeError,
        "You can only send dicts as content on channels.",
    ),
    (
        lambda settings: Group("g", channel_layer=make_layer()).send("x"),
        ValueError,
        "You can only send dicts as content on channels.",
    ),
    (
        lambda settings: route("test.x", print, path=r"^/(\d+)/$"),
        ValueError,
        "Filter for path on ",
    ),
    (
        lambda settings: route("test.x", "no.such.consumer"),
        ImproperlyConfigured,
        "Cannot import consumer 'no.such.consumer'",
    ),
    (
        lambda settings: route_class(print),
        ValueError,
        "The consumer passed to RouteClass has no valid channel_names method",
    ),
    (
        lambda settings: settings_layers(settings, {"ROUTING": []})["default"],
        InvalidChannelLayerError,
        "No BACKEND specified for default",
    ),
    (
        lambda settings: settings_layers(settings, {"BACKEND": IN_MEMORY})["default"],
        InvalidChannelLayerError,
        "No ROUTING specified for default",
    ),
    (
        lambda settings: settings_layers(settings, {"BACKEND": "no.such.Layer", "ROUTING": []})[
            "default"
        ],
        InvalidChannelLayerError,
        "Cannot import BACKEND 'no.such.Layer' specified for default",
    ),
    (
        lambda settings: settings_layers(
            settings, {"BACKEND": IN_MEMORY, "ROUTING": []}
        ).make_test_backend("default"),
        InvalidChannelLayerError,
        "No TEST_CONFIG specified for default",
    ),
    (
        lambda settings: call_command("runworker"),
        CommandError,
        "You cannot span multiple processes with the in-memory layer. Change your settings to "
        "use a cross-process channel layer.",
    ),
    (
        lambda settings: WSClient().set_header("cookie", "a=b"),
        ValueError,
        "Use set_cookie method for cookie header",
    ),
    (
        lambda settings: WSClient(ordered=True).send("websocket.receive", {"order": 3}),
        ValueError,
        'Do not use "order" manually with "ordered=True"',
    ),
    (
        lambda settings: Client().consume("test.empty"),
        AssertionError,
        "No message for channel test.empty",
    ),
]


@pytest.mark.parametrize(
    ("mistake", "error", "text"), MISTAKES, ids=[text[:48] for _, _, text in MISTAKES]
)
def test_a_1x_mistake_raises_with_1x_text_first(mistake, error, text, settings, db):
    """The error is of 1.x's type and its message starts with 1.x's text, then says more."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": IN_MEMORY, "ROUTING": []}}
    with pytest.raises(error) as raised:
        mistake(settings)
    assert str(raised.value).startswith(text), str(raised.value)
    assert len(str(raised.value)) > len(text), "the fix should follow 1.x's text"


def test_the_test_clients_1x_texts(settings):
    """The test tools' failures start as 1.1.8's did: a message no route takes, a refused
    connect, a missing session app."""
    from channels_classic.test import ChannelTestCase, apply_routes

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": IN_MEMORY, "ROUTING": []}}
    with apply_routes(
        [route("websocket.connect", lambda m: m.reply_channel.send({"close": True}))]
    ):
        client = WSClient()
        client.send("test.unrouted", {})
        with pytest.raises(AssertionError, match=r"^Can't find consumer for message "):
            client.consume("test.unrouted")
        with pytest.raises(AssertionError, match=r"^Connection rejected: \{'close': True\} != "):
            client.send_and_consume("websocket.connect")
    case = ChannelTestCase("run")
    with pytest.raises(
        AssertionError, match=r"^Expected a message on channel test\.none, got none"
    ):
        case.get_next_message("test.none", require=True)
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if "sessions" not in app]
    with pytest.raises(OSError, match=r"^Add django\.contrib\.sessions to the INSTALLED_APPS"):
        _ = WSClient().session

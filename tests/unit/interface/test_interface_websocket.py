"""The interface server's WebSocket side (channels_classic/interface/websocket.py), driven
through its ASGI entry point on the in-memory layer: the test plays the ASGI server (the
events of one socket) and the worker (what arrives on websocket.*, and the replies)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from channels_classic.defaults import InterfaceOptions
from channels_classic.interface import InterfaceApp
from channels_classic.interface.daphne_compat import DENIAL_RESPONSE
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.layers.redis import RedisChannelLayer

#: How long a test waits for something that should happen at once.
PROMPTLY = 5.0


class Socket:
    """One WebSocket through the app: the ASGI events it was given and those it sent."""

    def __init__(
        self, app: InterfaceApp, *, subprotocols: list[str] | None = None, denial: bool = True
    ) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.incoming.put_nowait({"type": "websocket.connect"})
        self.sent: list[dict[str, Any]] = []
        self.reply_channel = ""  # known once the test has taken the connect
        self._read = 0
        self._changed = asyncio.Event()
        scope = {
            "type": "websocket",
            "path": "/x/",
            "headers": [],
            "subprotocols": subprotocols or [],
            "extensions": {DENIAL_RESPONSE: {}} if denial else {},
        }
        self.task = asyncio.ensure_future(app(scope, self.incoming.get, self.send))

    async def send(self, event: dict[str, Any]) -> None:
        self.sent.append(event)
        self._changed.set()

    async def sent_event(self) -> dict[str, Any]:
        """The next event the app sends (after those already read with this)."""
        while len(self.sent) <= self._read:
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), PROMPTLY)
        self._read += 1
        return self.sent[self._read - 1]

    def frame(self, text: str) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": text})

    def leave(self, code: int = 1000) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": code})

    async def finished(self) -> list[dict[str, Any]]:
        await asyncio.wait_for(self.task, PROMPTLY)
        return self.sent


def make_app(**options: Any) -> InterfaceApp:
    backend = InMemoryChannelLayer(channel_capacity=options.pop("capacity", None))
    return InterfaceApp(ClassicLayer(backend, alias="test"), InterfaceOptions(**options))


async def take(app: InterfaceApp, channel: str) -> dict[str, Any]:
    """The next message on ``channel``, as a worker receives it."""
    batch = await asyncio.wait_for(app.backend.receive_batch([channel], 1), PROMPTLY)
    return batch[0][1]


async def pending(app: InterfaceApp, channel: str) -> list[dict[str, Any]]:
    """What waits on ``channel`` now."""
    return [message for _, message in await app.backend.receive_ready([channel], 100)]


async def open_socket(app: InterfaceApp, **socket_options: Any) -> Socket:
    """A socket whose connect the test, as the worker, accepted."""
    socket = Socket(app, **socket_options)
    connect = await take(app, "websocket.connect")
    socket.reply_channel = connect["reply_channel"]
    await app.backend.send(connect["reply_channel"], {"accept": True})
    assert (await socket.sent_event())["type"] == "websocket.accept"
    return socket


async def test_a_failed_reply_channel_refuses_without_a_disconnect_message():
    """If no reply channel can be made, the handshake is refused (403) and nothing reaches
    the layer: no websocket.disconnect for a connect nobody heard of."""
    app = make_app(reply_channel_prefix="not a valid name")
    socket = Socket(app)
    assert await socket.finished() == [{"type": "websocket.close", "code": 1000}]
    assert await pending(app, "websocket.connect") == []
    assert await pending(app, "websocket.disconnect") == []


async def test_no_accept_timeout_waits_for_the_consumer():
    """With the accept timeout None, an unanswered handshake stays open past the default
    timeout's scale and is accepted when the consumer answers."""
    app = make_app(websocket_accept_timeout=None)
    socket = Socket(app)
    connect = await take(app, "websocket.connect")
    await asyncio.sleep(0.5)
    assert socket.sent == []
    await app.backend.send(connect["reply_channel"], {"accept": True})
    assert (await socket.sent_event())["type"] == "websocket.accept"
    socket.leave()
    await socket.finished()


async def test_the_accept_timeout_refuses_and_reports_a_disconnect():
    """An unanswered handshake is refused with 403 once the accept timeout passes, and the
    consumers hear websocket.disconnect (1006) for the connect they were sent."""
    app = make_app(websocket_accept_timeout=0.2)
    socket = Socket(app)
    connect = await take(app, "websocket.connect")
    assert await socket.finished() == [{"type": "websocket.close", "code": 1000}]
    disconnect = await take(app, "websocket.disconnect")
    assert (disconnect["reply_channel"], disconnect["code"]) == (connect["reply_channel"], 1006)


async def test_the_client_s_first_agreed_subprotocol_is_accepted():
    """The accept carries the first subprotocol the client offers that the server agrees to
    (not the first of the server's own list)."""
    app = make_app(ws_protocols=("chat.v2", "chat.v1"))
    socket = await open_socket(app, subprotocols=["chat.v3", "chat.v1", "chat.v2"])
    assert socket.sent == [{"type": "websocket.accept", "subprotocol": "chat.v1"}]
    socket.leave()
    await socket.finished()


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("7.5", 7.5), (3, 3.0)], ids=["none", "str", "int"]
)
def test_the_accept_timeout_setting_takes_seconds_or_none(value, expected):
    """CHANNELS_WEBSOCKET_ACCEPT_TIMEOUT is a positive number of seconds, or None for none."""
    with override_settings(CHANNELS_WEBSOCKET_ACCEPT_TIMEOUT=value):
        assert InterfaceOptions.from_settings().websocket_accept_timeout == expected


@pytest.mark.parametrize("value", [0, -1, "soon"])
def test_a_bad_accept_timeout_says_none_means_no_limit(value):
    """A bad accept timeout is refused with the value, the default and the None option."""
    with override_settings(CHANNELS_WEBSOCKET_ACCEPT_TIMEOUT=value):
        with pytest.raises(
            ImproperlyConfigured,
            match=rf"CHANNELS_WEBSOCKET_ACCEPT_TIMEOUT = {value!r} is invalid .*"
            r"the default is 5.0; None means no limit",
        ):
            InterfaceOptions.from_settings()


async def test_replies_on_the_redis_layer_reach_their_own_sockets(redis_url, prefix):
    """On the Redis layer (which hands replies over as it reads them) each socket gets its
    own replies in order; one for a socket that has gone is dropped, and the others still
    get theirs."""
    backend = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    app = InterfaceApp(ClassicLayer(backend, alias="test"), InterfaceOptions())
    first, second = await open_socket(app), await open_socket(app)
    await backend.send(first.reply_channel, {"text": "1a"})
    await backend.send(second.reply_channel, {"text": "2a"})
    await backend.send(first.reply_channel, {"text": "1b"})
    assert await first.sent_event() == {"type": "websocket.send", "text": "1a"}
    assert await first.sent_event() == {"type": "websocket.send", "text": "1b"}
    assert await second.sent_event() == {"type": "websocket.send", "text": "2a"}
    second.leave()
    await second.finished()
    await backend.send(second.reply_channel, {"text": "too late"})
    await backend.send(first.reply_channel, {"text": "1c"})
    assert await first.sent_event() == {"type": "websocket.send", "text": "1c"}
    assert [event.get("text") for event in second.sent] == [None, "2a"]
    first.leave()
    await first.finished()
    await backend.flush()
    await backend.close()

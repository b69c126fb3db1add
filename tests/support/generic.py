"""What the generic consumer tests share: a layer with routes, the real worker run until
idle, a client socket whose messages are built as the interface server builds them, and
logins through Django's own test client."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from channels_classic.interface import messages
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.layers.registry import DEFAULT_CHANNEL_LAYER, channel_layers
from channels_classic.message import Message
from channels_classic.worker import Worker


def make_layer(*routes: Any) -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(), alias="test", routing=list(routes))


def run(layer: ClassicLayer, threads: int = 1) -> Worker:
    """Runs a real worker on ``layer`` until it has nothing left to do."""
    worker = Worker(layer, threads=threads, install_signals=False, stop_when_idle=True)
    worker.run()
    return worker


def connect_then_ask(layer: ClassicLayer, sockets: Iterable[Socket], text: str) -> None:
    """Every socket connects (and a worker runs the connects), then every socket sends
    ``text`` (and a worker runs those): a handshake's effects are in place before frames."""
    sockets = list(sockets)
    for socket in sockets:
        socket.send("websocket.connect")
    run(layer)
    for socket in sockets:
        socket.send("websocket.receive", text=text)
    run(layer)


def drain(layer: ClassicLayer, channel: str) -> list[dict[str, Any]]:
    """Everything waiting on ``channel``, oldest first."""
    received = []
    while (content := layer.receive([channel])[1]) is not None:
        received.append(content)
    return received


@contextmanager
def as_default(layer: ClassicLayer) -> Iterator[ClassicLayer]:
    """Makes ``layer`` the default alias's layer (what ``group_send`` uses) for the block."""
    previous = channel_layers.set(DEFAULT_CHANNEL_LAYER, layer)
    try:
        yield layer
    finally:
        if previous is None:
            del channel_layers.layers[DEFAULT_CHANNEL_LAYER]
        else:
            channel_layers.set(DEFAULT_CHANNEL_LAYER, previous)


def use_cache_sessions(settings: Any) -> None:
    """Channel and HTTP sessions in an in-process cache, which the worker's threads share;
    no gap check fires during a test; a fast password hasher."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CHANNELS_ORDERING_GAP_TIMEOUT = 60
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login(user: User) -> str:
    """Logs ``user`` in as a browser would; returns the HTTP session key (cookie value)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Socket:
    """One client WebSocket: its messages, numbered as the interface server numbers them."""

    def __init__(self, layer: ClassicLayer, path: str = "/chat/", session_key: str = "") -> None:
        self.layer = layer
        self.path = path
        self.session_key = session_key
        self.reply = layer.new_channel("daphne.response")
        self.order = 0

    def content(
        self, channel: str, text: str | None = None, bytes: bytes | None = None
    ) -> dict[str, Any]:
        """The next message of this socket on ``channel`` (a frame for websocket.receive)."""
        if channel == "websocket.connect":
            headers = [[b"host", b"testserver"]]
            if self.session_key:
                cookie = f"{settings.SESSION_COOKIE_NAME}={self.session_key}"
                headers.append([b"cookie", cookie.encode()])
            scope = {"path": self.path, "headers": headers, "scheme": "ws"}
            return dict(messages.websocket_connect(scope, self.reply))
        self.order += 1
        if channel == "websocket.receive":
            frame = {"text": text} if bytes is None else {"bytes": bytes}
            return dict(messages.websocket_receive(self.reply, self.path, self.order, frame))
        return dict(messages.websocket_disconnect(self.reply, self.path, 1000, self.order))

    def message(self, channel: str, **frame: Any) -> Message:
        """The next message as a consumer gets it, for calling a consumer directly."""
        return Message(self.content(channel, **frame), channel, self.layer)

    def send(self, channel: str, **frame: Any) -> None:
        """Puts the next message on the layer, for a worker to take."""
        self.layer.send(channel, self.content(channel, **frame))

    def replies(self) -> list[dict[str, Any]]:
        """What consumers sent to this socket so far (taken off its reply channel)."""
        return drain(self.layer, self.reply)

"""WebSocket consumers as classes: ``WebsocketConsumer`` and ``JsonWebsocketConsumer``.

A ``WebsocketConsumer`` handles the three channels of a socket: ``websocket.connect``,
``websocket.receive`` and ``websocket.disconnect``. It joins the socket to its connection
groups on connect and takes it out on disconnect, accepts by default, and passes each frame
to ``receive(text=...)`` or ``receive(bytes=...)``. Subclasses override ``connect``,
``receive`` and ``disconnect``, which get the route's keyword arguments::

    class Chat(JsonWebsocketConsumer):
        http_user = True

        def connection_groups(self, room, **kwargs):
            return [f"room-{room}"]

        def receive(self, content, room, **kwargs):
            self.group_send(f"room-{room}", {"user": self.message.user.username, **content})

    channel_routing = [Chat.as_route(path=r"^/rooms/(?P<room>[\\w-]+)/$")]

Sends are buffered like every send in a consumer: they leave when the method has returned.
``WebsocketMultiplexer`` and ``WebsocketDemultiplexer`` (in ``multiplexing``) are importable
from here too, as in 1.x.

Replies are checked where they are made, so that a bad one raises ValueError, saying what is
wrong, in the consumer that made it rather than as a log line of the interface server later:
``send`` refuses text and bytes together, and close codes a server may not send.
``connection_groups`` must return a list of valid group names (a bare string would join one
group per character): anything else raises TypeError, as every bad channel or group name
does. ``docs/differences-from-1x.md`` ("Generic consumers, multiplexing and bindings") has
what 1.x did instead.
"""

from __future__ import annotations

import json
import reprlib
from typing import Any

from .. import auth, sessions
from ..channel import Channel, Group
from ..interface.replies import check_websocket_reply
from ..message import Message
from ..names import check_group_names
from ..routing import Consumer
from .base import BaseConsumer


def _refuse_slight_ordering(cls: type) -> None:
    """Raises ValueError if ``cls`` asks for slight ordering, which Channels 1.0 removed."""
    if getattr(cls, "slight_ordering", False):
        raise ValueError(
            "Slight ordering is now always on. Please remove `slight_ordering=True`. "
            f"({cls.__qualname__}.slight_ordering = True: slight ordering was removed in "
            "Channels 1.0; remove it, or set strict_ordering = True to run each socket's "
            "messages in order)"
        )


def _frame_reply(
    text: str | None = None, bytes: bytes | None = None, close: bool | int = False
) -> dict[str, Any]:
    """The reply that sends one frame (exactly one of ``text`` and ``bytes``), then closes
    the socket if ``close`` is True (code 1000) or a close code. Raises ValueError."""
    if (text is None) == (bytes is None):
        given = "both" if text is not None else "neither"
        raise ValueError(
            f"You must pass text or bytes: a WebSocket frame needs exactly one of them, got "
            f"{given}; send one frame at a time, and close without a frame with close()"
        )
    return _closing({"text": text} if text is not None else {"bytes": bytes}, close)


def _close_reply(status: bool | int = True) -> dict[str, Any]:
    """The reply that closes the socket: ``status`` True (code 1000) or a close code."""
    if status is False or status is None:
        raise ValueError(f"close() needs True or a close code, got {status!r}")
    return _closing({}, status)


def _closing(reply: dict[str, Any], close: bool | int) -> dict[str, Any]:
    """``reply``, closing the socket after it unless ``close`` is False or None; raises
    ValueError (``InvalidReply``) if the result is not a valid WebSocket reply."""
    if close is not False and close is not None:
        reply["close"] = close
    check_websocket_reply(reply)
    return reply


class WebsocketConsumer(BaseConsumer):
    """A socket's consumer: ``connect``, ``receive(text=... | bytes=...)`` and
    ``disconnect``, each with the route's keyword arguments; ``self.path`` is the socket's
    path.

    Flags: ``http_user`` gives every message ``message.user``, copied from the HTTP session
    of the handshake into the channel session (``channel_session_user_from_http``, which
    implies ``channel_session_user``); ``http_user_and_session`` also keeps
    ``message.http_session`` on later messages; ``strict_ordering`` runs the socket's
    messages in order (``enforce_ordering``). ``groups`` lists the groups the socket is in
    while connected; override ``connection_groups`` to choose them from the route's
    keyword arguments.
    """

    method_mapping = {
        "websocket.connect": "raw_connect",
        "websocket.receive": "raw_receive",
        "websocket.disconnect": "raw_disconnect",
    }
    http_user: bool = False
    http_user_and_session: bool = False
    strict_ordering: bool = False
    #: Removed in 1.0 (ordering is strict or none); True is refused.
    slight_ordering: bool = False
    groups: list[str] | None = None

    path: str

    @classmethod
    def _check_class(cls) -> None:
        super()._check_class()
        _refuse_slight_ordering(cls)

    def get_handler(self, message: Message, **kwargs: Any) -> Consumer:
        """The method for the message, with the decorators the flags ask for; sets
        ``self.path``. Ordering is outermost, so an early message waits before any session
        or user is loaded for it."""
        if self.http_user or self.http_user_and_session:
            self.channel_session_user = True
        self.path = message["path"]
        handler = super().get_handler(message, **kwargs)
        if self.http_user_and_session:
            handler = auth.channel_and_http_session_user_from_http(handler)
        elif self.http_user:
            handler = auth.channel_session_user_from_http(handler)
        if self.strict_ordering:
            return sessions.enforce_ordering(handler)
        return handler

    def connection_groups(self, **kwargs: Any) -> list[str]:
        """The names of the groups the socket joins on connect and leaves on disconnect:
        ``groups`` unless overridden. ``kwargs`` are the route's keyword arguments."""
        return self.groups or []

    def _connection_groups(self, kwargs: dict[str, Any]) -> list[str]:
        return check_group_names(
            self.connection_groups(**kwargs), f"{type(self).__qualname__}.connection_groups()"
        )

    def _reply_channel(self) -> Channel:
        reply_channel = self.message.reply_channel
        if reply_channel is None:
            raise ValueError(
                f"{type(self).__qualname__} got a message on {self.message.channel.name!r} "
                "with no reply_channel, so it has no socket to answer; WebSocket consumers "
                "take the interface server's websocket.* messages"
            )
        return reply_channel

    def raw_connect(self, message: Message, **kwargs: Any) -> None:
        """Adds the socket to its connection groups (at once), then calls ``connect``."""
        reply_channel = self._reply_channel()
        for name in self._connection_groups(kwargs):
            Group(name, channel_layer=message.channel_layer).add(reply_channel)
        self.connect(message, **kwargs)

    def connect(self, message: Message, **kwargs: Any) -> None:
        """Accepts the socket. An override must accept (or close) the socket itself."""
        self._reply_channel().send({"accept": True})

    def raw_receive(self, message: Message, **kwargs: Any) -> None:
        """Calls ``receive`` with the frame's ``text`` or ``bytes``."""
        if "text" in message:
            self.receive(text=message["text"], **kwargs)
        else:
            self.receive(bytes=message["bytes"], **kwargs)

    def receive(self, text: str | None = None, bytes: bytes | None = None, **kwargs: Any) -> None:
        """Handles one frame; does nothing unless overridden."""

    def raw_disconnect(self, message: Message, **kwargs: Any) -> None:
        """Takes the socket out of its connection groups, then calls ``disconnect``."""
        reply_channel = self._reply_channel()
        for name in self._connection_groups(kwargs):
            Group(name, channel_layer=message.channel_layer).discard(reply_channel)
        self.disconnect(message, **kwargs)

    def disconnect(self, message: Message, **kwargs: Any) -> None:
        """Handles the end of the socket; does nothing unless overridden. Sends to the
        socket are dropped by then."""

    def send(
        self, text: str | None = None, bytes: bytes | None = None, close: bool | int = False
    ) -> None:
        """Sends one frame to the socket (``text`` or ``bytes``), then closes it if
        ``close`` is True or a close code. To close without a frame, use ``close()``."""
        self._reply_channel().send(_frame_reply(text, bytes, close))

    def close(self, status: bool | int = True) -> None:
        """Closes the socket: ``status`` True (code 1000) or a close code. A code a server
        may not send raises InvalidReply, saying which are valid."""
        self._reply_channel().send(_close_reply(status))

    @classmethod
    def group_send(
        cls,
        name: str,
        text: str | None = None,
        bytes: bytes | None = None,
        close: bool | int = False,
    ) -> None:
        """Sends one frame to every socket in group ``name`` of the default layer, as
        ``send`` does to one."""
        Group(name).send(_frame_reply(text, bytes, close))


class JsonWebsocketConsumer(WebsocketConsumer):
    """A ``WebsocketConsumer`` that speaks JSON in text frames: ``receive(content)`` gets
    each frame decoded, ``send(content)`` and ``group_send(name, content)`` encode. Override
    the classmethods ``decode_json`` and ``encode_json`` to change the encoding."""

    def raw_receive(self, message: Message, **kwargs: Any) -> None:
        """Calls ``receive`` with the decoded frame. Raises ValueError for a binary frame or
        text that ``decode_json`` cannot decode (the worker logs it and goes on)."""
        if "text" not in message:
            raise ValueError(
                f"No text section for incoming WebSocket frame! {type(self).__qualname__} "
                f"takes JSON in text frames, and the socket on {self.path!r} sent a binary "
                f"frame ({reprlib.repr(message.get('bytes'))}); handle binary frames with a "
                "WebsocketConsumer"
            )
        text = message["text"]
        try:
            content = self.decode_json(text)
        except ValueError as error:
            raise ValueError(
                f"{type(self).__qualname__} got a text frame that is not JSON ({error}) on "
                f"{self.path!r}: {reprlib.repr(text)}"
            ) from error
        self.receive(content, **kwargs)

    def receive(self, content: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Handles one decoded frame; does nothing unless overridden."""

    def send(self, content: Any, close: bool | int = False) -> None:  # type: ignore[override]
        """Sends ``content`` encoded as one text frame, closing after it as ``send`` does."""
        super().send(text=self.encode_json(content), close=close)

    @classmethod
    def group_send(cls, name: str, content: Any, close: bool | int = False) -> None:  # type: ignore[override]
        """Sends ``content``, encoded, to every socket in group ``name`` of the default
        layer."""
        WebsocketConsumer.group_send(name, text=cls.encode_json(content), close=close)

    @classmethod
    def decode_json(cls, text: str) -> Any:
        """The content of a text frame. Override it for another encoding; raise ValueError
        for text it cannot decode (``receive`` reports the frame, the socket stays open)."""
        return json.loads(text)

    @classmethod
    def encode_json(cls, content: Any) -> str:
        """The text frame carrying ``content``, for ``send`` and ``group_send``. Override it
        with ``decode_json`` to change the encoding (e.g. Django's JSON encoder for dates)."""
        return json.dumps(content)


#: What 1.x had here that lives in ``multiplexing`` (which builds on this module).
_MULTIPLEXING_NAMES = ("WebsocketDemultiplexer", "WebsocketMultiplexer")


def __getattr__(name: str) -> Any:
    # 1.x code imports the demultiplexer from here: it is looked up on first use rather than
    # imported in a cycle.
    if name in _MULTIPLEXING_NAMES:
        from . import multiplexing

        return getattr(multiplexing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

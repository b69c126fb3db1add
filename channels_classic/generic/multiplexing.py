"""Several streams over one socket: ``WebsocketDemultiplexer`` and ``WebsocketMultiplexer``.

Frames on a multiplexed socket are JSON objects ``{"stream": name, "payload": {...}}``. The
demultiplexer is the socket's consumer: it hands each frame's payload to the consumer of its
stream, and connect and disconnect to every one of them, each with a ``multiplexer``
keyword argument that sends back on its stream::

    class Echo(JsonWebsocketConsumer):
        def receive(self, content, multiplexer, **kwargs):
            multiplexer.send({"echo": content})

    class Streams(WebsocketDemultiplexer):
        consumers = {"echo": Echo, "other": other_consumer}

The stream consumers see an ordinary message (the frame's text is the payload's JSON), so
session and user flags work on them as on any consumer. A stream consumer's own ``send``
raises SendNotAvailableOnDemultiplexer, as does the demultiplexer's, as in 1.x: a reply that
skipped the envelope would reach a client expecting one. It is replaced on the instances the
demultiplexer runs (for connect and disconnect too), so the same class still sends as usual
where it runs on its own.

A stream consumer with ``strict_ordering`` is refused when the demultiplexer is routed: each
would wait for the socket's message 0, which only the first one gets (channels issue #656);
order the demultiplexer instead. A message the worker puts back (ConsumeLater) keeps its
envelope, so the retry finds its stream. ``docs/differences-from-1x.md`` ("Generic
consumers, multiplexing and bindings") compares both with 1.x.
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Hashable
from typing import Any, NoReturn

from django.core.serializers.json import DjangoJSONEncoder

from ..channel import Channel, Group
from ..exceptions import SendNotAvailableOnDemultiplexer
from ..message import Message
from ..routing import Consumer
from .base import BaseConsumer
from .websockets import JsonWebsocketConsumer, _closing


class WebsocketMultiplexer:
    """Sends on one stream of a socket: what ``send(payload)`` sends arrives as
    ``{"stream": stream, "payload": payload}`` (encoded with Django's JSON encoder, so
    dates, decimals and UUIDs work)."""

    def __init__(self, stream: str, reply_channel: Channel) -> None:
        self.stream = stream
        self.reply_channel = reply_channel

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.stream!r} on {self.reply_channel.name!r}>"

    def send(self, payload: Any) -> None:
        """Sends ``payload`` on this stream (after the consumer returns)."""
        self.reply_channel.send(self.encode(self.stream, payload))

    @classmethod
    def encode_json(cls, content: Any) -> str:
        """The JSON text of a frame (envelope and payload). Override it in a subclass, named
        by the demultiplexer's ``multiplexer_class``, to change the encoding."""
        return json.dumps(content, cls=DjangoJSONEncoder)

    @classmethod
    def encode(cls, stream: str, payload: Any) -> dict[str, Any]:
        """The reply carrying ``payload`` on ``stream``: a text frame."""
        return {"text": cls.encode_json({"stream": stream, "payload": payload})}

    @classmethod
    def group_send(cls, name: str, stream: str, payload: Any, close: bool | int = False) -> None:
        """Sends ``payload`` on ``stream`` to every socket in group ``name`` of the default
        layer, then closes them if ``close`` is True or a close code (1.x closed with 1000
        whatever code it was given)."""
        Group(name).send(_closing(cls.encode(stream, payload), close))


class WebsocketDemultiplexer(JsonWebsocketConsumer):
    """A socket's consumer that routes frames to ``consumers``, ``{stream: consumer}``, by
    their ``stream`` key (see the module's docstring). Connect accepts the socket, then
    runs every stream's consumer; so does disconnect. ``connection_groups`` and the flags
    work on the demultiplexer as on any ``WebsocketConsumer``.

    ``receive`` raises ValueError for a frame that is not ``{"stream": ..., "payload":
    {...}}`` or names an unknown stream (the worker logs it; the socket stays open).
    """

    consumers: dict[str, Consumer] = {}
    multiplexer_class: type[WebsocketMultiplexer] = WebsocketMultiplexer

    @classmethod
    def _check_class(cls) -> None:
        super()._check_class()
        where = f"{cls.__qualname__}.consumers"
        if not isinstance(cls.consumers, dict):
            raise ValueError(
                f"{where} must be a dict of stream name to consumer, got {cls.consumers!r}"
            )
        for stream, consumer in cls.consumers.items():
            if not callable(consumer):
                raise ValueError(
                    f"{where}[{stream!r}] is {consumer!r}; give a consumer function or a "
                    "consumer class"
                )
            if _asks_for_strict_ordering(consumer):
                raise ValueError(
                    f"{where}[{stream!r}] has strict_ordering = True, which cannot work behind "
                    "a demultiplexer (each stream's consumer would wait for the socket's first "
                    f"message, which only one of them gets); set strict_ordering on "
                    f"{cls.__qualname__} instead, which orders the whole socket"
                )
            if isinstance(consumer, type) and issubclass(consumer, BaseConsumer):
                consumer._check_class()

    def connect(self, message: Message, **kwargs: Any) -> None:
        """Accepts the socket, then runs ``connect`` of every stream's consumer (their own
        accepts are redundant and harmless)."""
        super().connect(message, **kwargs)
        for stream in self.consumers:
            self._forward(stream, message, kwargs)

    def disconnect(self, message: Message, **kwargs: Any) -> None:
        """Runs ``disconnect`` of every stream's consumer."""
        for stream in self.consumers:
            self._forward(stream, message, kwargs)

    def receive(self, content: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Runs the consumer of the frame's stream on a message whose text is the payload's
        JSON; the message's own text is restored afterwards."""
        stream, payload = self._unwrap(content)
        original = self.message.content["text"]
        self.message.content["text"] = self.encode_json(payload)
        try:
            self._forward(stream, self.message, kwargs)
        finally:
            self.message.content["text"] = original

    def _unwrap(self, content: Any) -> tuple[str, dict[str, Any]]:
        """The stream and payload of a decoded frame; ValueError saying what is wrong."""
        name = type(self).__qualname__
        if not (isinstance(content, dict) and "stream" in content and "payload" in content):
            raise ValueError(
                "Invalid multiplexed **frame received (no channel/payload key): "
                f'{name} takes frames {{"stream": name, "payload": {{...}}}}, and the socket '
                f"on {self.path!r} sent {reprlib.repr(content)}"
            )
        stream, payload = content["stream"], content["payload"]
        if not isinstance(stream, Hashable) or stream not in self.consumers:
            raise ValueError(
                "Invalid multiplexed frame received (stream not mapped): "
                f"{name} has no consumer for stream {reprlib.repr(stream)} (sent by the socket "
                f"on {self.path!r}); its streams are {list(self.consumers)}"
            )
        if not isinstance(payload, dict):
            raise ValueError(
                "Multiplexed frame payload is not a dict: the payload of a frame on stream "
                f"{stream!r} must be a JSON object, and the socket on {self.path!r} sent "
                f"{reprlib.repr(payload)}"
            )
        return stream, payload

    def _forward(self, stream: str, message: Message, kwargs: dict[str, Any]) -> None:
        multiplexer = self.multiplexer_class(stream, self._reply_channel())
        consumer = _behind_demultiplexer(self.consumers[stream])
        consumer(message, **{**kwargs, "multiplexer": multiplexer})

    def send(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        """Refused: send on a stream with the ``multiplexer`` keyword argument."""
        _refuse_send(self)

    @classmethod
    def group_send(cls, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        """Refused: use ``WebsocketMultiplexer.group_send(name, stream, payload)``."""
        raise SendNotAvailableOnDemultiplexer(
            f"Use WebsocketMultiplexer.group_send: {cls.__qualname__}.group_send() is not "
            "available, as frames to a multiplexed socket need a stream; call "
            "WebsocketMultiplexer.group_send(name, stream, payload)"
        )


def _refuse_send(consumer: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise SendNotAvailableOnDemultiplexer(
        f"Use multiplexer.send of the multiplexer kwarg. {type(consumer).__qualname__}.send() "
        "is not available on a demultiplexer or behind one, as frames there need a stream: "
        "send with the multiplexer keyword argument, multiplexer.send(payload)"
    )


def _asks_for_strict_ordering(consumer: Consumer) -> bool:
    """True if ``consumer``, or the class a bound method belongs to (``Binding.consumer`` is
    a classmethod), sets ``strict_ordering``."""
    owner = getattr(consumer, "__self__", None)
    return bool(
        getattr(consumer, "strict_ordering", False) or getattr(owner, "strict_ordering", False)
    )


#: The subclass run for each consumer class behind a demultiplexer: one per class, with the
#: class's name, for logs.
_REFUSING_SEND: dict[type, type] = {}


def _behind_demultiplexer(consumer: Consumer) -> Consumer:
    """``consumer`` as the demultiplexer runs it: a consumer class is replaced by a subclass
    whose ``send`` raises SendNotAvailableOnDemultiplexer; functions and other callables run
    as they are (they need not be hashable)."""
    if not (isinstance(consumer, type) and issubclass(consumer, BaseConsumer)):
        return consumer
    subclass = _REFUSING_SEND.get(consumer)
    if subclass is None:
        namespace = {
            "__module__": consumer.__module__,
            "__qualname__": consumer.__qualname__,
            "send": _refuse_send,
        }
        subclass = _REFUSING_SEND.setdefault(
            consumer, type(consumer.__name__, (consumer,), namespace)
        )
    return subclass

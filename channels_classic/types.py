"""The shape of every message the interface server and the consumers exchange.

Messages onto the layer follow the ASGI 1.0 formats of Channels 1.x, so 1.x consumers read
them unchanged; ``websocket.connect`` also carries ``scheme`` and ``root_path``, which the
ASGI 1.0 spec listed and daphne 1 left out. ``docs/messages.md`` describes every key. Each
shape is built in one place (``interface.messages``).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

Headers = list[list[bytes]]
Address = list[str | int] | None


class WebsocketConnect(TypedDict):
    """``websocket.connect``: a client asks to open a socket; the reply decides."""

    reply_channel: str
    scheme: str
    path: str
    query_string: bytes
    root_path: str
    headers: Headers
    client: Address
    server: Address
    order: int


class WebsocketReceive(TypedDict):
    """``websocket.receive``: one frame; exactly one of ``text`` and ``bytes``."""

    reply_channel: str
    path: str
    order: int
    text: NotRequired[str]
    bytes: NotRequired[bytes]


class WebsocketDisconnect(TypedDict):
    """``websocket.disconnect``: the socket is gone; sends to its reply channel are dropped."""

    reply_channel: str
    path: str
    code: int
    order: int


class WebsocketReply(TypedDict, total=False):
    """What a consumer sends to a socket's reply channel (any subset of these keys)."""

    accept: bool
    text: str
    bytes: bytes
    close: bool | int


class HttpRequest(TypedDict):
    """``http.request``: one request; a body larger than one message continues as
    ``HttpBodyChunk`` messages on ``body_channel``."""

    reply_channel: str
    http_version: str
    method: str
    scheme: str
    path: str
    query_string: bytes
    root_path: str
    headers: Headers
    body: bytes
    body_channel: NotRequired[str]
    client: Address
    server: Address


class HttpBodyChunk(TypedDict):
    """A piece of a request body on its ``body_channel``; ``order`` counts from 1."""

    content: bytes
    more_content: bool
    order: int
    closed: NotRequired[bool]


class HttpResponse(TypedDict, total=False):
    """What a worker sends to an HTTP reply channel: the first message has ``status`` (and
    ``headers``); later ones only ``content`` and ``more_content``."""

    status: int
    headers: Headers
    content: bytes
    more_content: bool


class HttpDisconnect(TypedDict):
    """``http.disconnect``: the client left before its response was complete."""

    reply_channel: str
    path: str


class DelayRequest(TypedDict):
    """A message on ``asgi.delay``: send ``content`` to ``channel`` in ``delay`` ms."""

    channel: str
    content: dict[str, Any]
    delay: int | float

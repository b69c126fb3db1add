"""Class-based consumers: route them with ``route_class(Consumer, ...)`` or
``Consumer.as_route(...)``. Needs Django set up (it imports ``channels_classic.auth``)."""

from .base import BaseConsumer
from .multiplexing import WebsocketDemultiplexer, WebsocketMultiplexer
from .websockets import JsonWebsocketConsumer, WebsocketConsumer

__all__ = [
    "BaseConsumer",
    "JsonWebsocketConsumer",
    "WebsocketConsumer",
    "WebsocketDemultiplexer",
    "WebsocketMultiplexer",
]

"""The project's channel routing: which consumer runs for which message."""

from channels_classic.routing import route
from realtime.consumers import websocket_receive

channel_routing = [
    route("websocket.receive", websocket_receive, path=r"^/chat/"),
]

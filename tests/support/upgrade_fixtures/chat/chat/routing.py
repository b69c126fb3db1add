from channels.routing import route, route_class, include

from chat import consumers
from chat.bindings import Demultiplexer
from chat.generic import LobbyConsumer

room_routing = [
    route("websocket.connect", consumers.ws_connect),
    route("websocket.receive", consumers.ws_receive),
    route("websocket.disconnect", consumers.ws_disconnect),
]

channel_routing = [
    include(room_routing, path=r"^/rooms/(?P<room>[a-z0-9-]+)/$"),
    route_class(LobbyConsumer, path=r"^/lobby/$"),
    route_class(Demultiplexer, path=r"^/binding/$"),
    route("chat.reminder", consumers.reminder),
]

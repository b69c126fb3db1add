"""The project's channel routing: which consumer runs for which message."""

from channels_classic.routing import route
from realtime import consumers
from realtime.live import LIVE_PATH, RoomLive
from realtime.rooms import BAD_ROOM_PATH, ROOM_PATH

channel_routing = [
    route("websocket.receive", consumers.websocket_receive, path=r"^/chat/"),
    route("websocket.connect", consumers.room_connect, path=ROOM_PATH),
    route("websocket.receive", consumers.room_receive, path=ROOM_PATH),
    route("websocket.disconnect", consumers.room_disconnect, path=ROOM_PATH),
    RoomLive.as_route(path=LIVE_PATH),
    route("websocket.connect", consumers.bad_room_connect, path=BAD_ROOM_PATH),
]

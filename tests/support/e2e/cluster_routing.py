"""The end-to-end routes plus a broadcast room: every socket of /broadcast/ joins one group,
and a frame from any of them goes to the whole group."""

from channels_classic import Group
from channels_classic.routing import route
from tests.support.e2e.routing import channel_routing as e2e_routing

BROADCAST_GROUP = "cluster-broadcast"


def join(message):
    Group(BROADCAST_GROUP).add(message.reply_channel)
    message.reply_channel.send({"accept": True})


def broadcast(message):
    Group(BROADCAST_GROUP).send({"text": message.content["text"]})


def leave(message):
    Group(BROADCAST_GROUP).discard(message.reply_channel)


channel_routing = [
    route("websocket.connect", join, path=r"^/broadcast/$"),
    route("websocket.receive", broadcast, path=r"^/broadcast/$"),
    route("websocket.disconnect", leave, path=r"^/broadcast/$"),
    *e2e_routing,
]

"""The benchmark's routing: the demo's routes plus a broadcast group on /broadcast/.

A socket connecting on /broadcast/ is accepted and joins ``BROADCAST_GROUP``; each text
frame it sends goes to every member, itself included. ws_bench.py times how long one frame
takes to reach all of them.
"""

from channels_classic import Group
from channels_classic.routing import route
from routing import channel_routing as demo_routing

BROADCAST_GROUP = "bench-broadcast"
BROADCAST_PATH = r"^/broadcast/$"


def broadcast_connect(message):
    """Accepts the socket and adds its reply channel to the broadcast group."""
    Group(BROADCAST_GROUP).add(message.reply_channel)
    message.reply_channel.send({"accept": True})


def broadcast_receive(message):
    """Sends the frame's text to every member of the broadcast group (binary frames: none)."""
    text = message.content.get("text")
    if text is not None:
        Group(BROADCAST_GROUP).send({"text": text})


def broadcast_disconnect(message):
    """Removes the socket from the group, so that later broadcasts skip it."""
    Group(BROADCAST_GROUP).discard(message.reply_channel)


channel_routing = [
    route("websocket.connect", broadcast_connect, path=BROADCAST_PATH),
    route("websocket.receive", broadcast_receive, path=BROADCAST_PATH),
    route("websocket.disconnect", broadcast_disconnect, path=BROADCAST_PATH),
    *demo_routing,
]

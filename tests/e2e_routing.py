"""The demo's routes plus consumers the end-to-end tests drive."""

import os

from channels_classic import Channel
from channels_classic.routing import route
from routing import channel_routing as demo_routing

#: A channel the tests read directly, to see what consumers saw.
REPORTS = "test.reports"


def whoami(message):
    """Replies with the worker's PID, so a test can tell workers apart."""
    message.reply_channel.send({"text": str(os.getpid())})


def crash(message):
    raise RuntimeError(f"crash consumer raised on purpose for {message['text']!r}")


def bad_reply(message):
    """Sends a reply the interface server must refuse (unknown key) and a good one."""
    message.reply_channel.send({"txt": "typo"})
    message.reply_channel.send({"text": "after the bad reply"})


def report_disconnect(message):
    Channel(REPORTS).send(
        {"code": message["code"], "order": message["order"], "path": message["path"]}
    )


channel_routing = [
    route("websocket.receive", whoami, path=r"^/whoami/$"),
    route("websocket.receive", crash, path=r"^/crash/$"),
    route("websocket.receive", bad_reply, path=r"^/bad-reply/$"),
    route("websocket.disconnect", report_disconnect, path=r"^/report/$"),
    *demo_routing,
]

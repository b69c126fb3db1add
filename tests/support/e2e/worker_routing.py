"""The end-to-end test routes plus consumers for the worker's and handshake's own tests."""

import time

from channels_classic import Channel
from channels_classic.routing import route
from tests.support.e2e.routing import REPORTS
from tests.support.e2e.routing import channel_routing as e2e_routing

#: How long the slow consumer works on each frame, in seconds.
SLOW_FOR = 1.5


def never_answer(message):
    """Leaves the handshake to the interface's accept timeout."""


def slow_echo(message):
    """Reports that it started (at once), works for SLOW_FOR seconds, then echoes (buffered)."""
    Channel(REPORTS).send({"started": message["text"]}, immediately=True)
    time.sleep(SLOW_FOR)
    message.reply_channel.send({"text": f"slow: {message['text']}"})


channel_routing = [
    route("websocket.connect", never_answer, path=r"^/silent/$"),
    route("websocket.receive", slow_echo, path=r"^/slow/$"),
    *e2e_routing,
]

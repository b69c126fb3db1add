"""The demo's routes plus consumers the end-to-end tests drive."""

import os

from channels_classic import Channel, Group
from channels_classic.handler import AsgiHandler
from channels_classic.routing import route
from channels_classic.sessions import enforce_ordering
from routing import channel_routing as demo_routing
from tests.support.e2e.urls import POLLERS

#: A channel the tests read directly, to see what consumers saw.
REPORTS = "test.reports"


def whoami(message):
    """Replies with the worker's PID, so a test can tell workers apart."""
    message.reply_channel.send({"text": str(os.getpid())})


def tell_reply_channel(message):
    """Replies with the socket's reply channel, for tests that send to it directly."""
    message.reply_channel.send({"text": message.reply_channel.name})


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


@enforce_ordering
def ordered_connect(message):
    message.reply_channel.send({"accept": True})


@enforce_ordering
def ordered_receive(message):
    """Reports each frame's order as it runs (sent at once, so reports are in run order)."""
    Channel(REPORTS).send({"order": message["order"], "pid": os.getpid()}, immediately=True)


@enforce_ordering
def ordered_disconnect(message):
    pass


def answer_polls(message):
    """Answers every waiting /poll/wait/ request with this POST's body; 204 to the poster."""
    Group(POLLERS).send(
        {"status": 200, "headers": [[b"content-type", b"text/plain"]], "content": message["body"]}
    )
    message.reply_channel.send({"status": 204})


def report_http_disconnect(message):
    Channel(REPORTS).send({"http_disconnect": message["path"]})


class MarkedHandler(AsgiHandler):
    """A 1.x-style handler subclass: the views' response, marked with the handler's name."""

    def get_response(self, request):
        response = super().get_response(request)
        response["X-Handler"] = type(self).__name__
        return response


channel_routing = [
    route("http.request", MarkedHandler, path=r"^/handled/marked/$"),
    route("http.request", AsgiHandler, path=r"^/handled/"),
    route("websocket.connect", ordered_connect, path=r"^/ordered/$"),
    route("websocket.receive", ordered_receive, path=r"^/ordered/$"),
    route("websocket.disconnect", ordered_disconnect, path=r"^/ordered/$"),
    route("http.request", answer_polls, method=r"^POST$", path=r"^/poll/answer/$"),
    route("http.disconnect", report_http_disconnect),
    route("websocket.receive", whoami, path=r"^/whoami/$"),
    route("websocket.receive", crash, path=r"^/crash/$"),
    route("websocket.receive", tell_reply_channel, path=r"^/reply-channel/$"),
    route("websocket.receive", bad_reply, path=r"^/bad-reply/$"),
    route("websocket.disconnect", report_disconnect, path=r"^/report/$"),
    *demo_routing,
]

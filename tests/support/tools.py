"""What the tests of channels_classic.test share: consumers to route to, and running a test
case class as unittest does (class set-up included)."""

from __future__ import annotations

import json
import unittest

from django.contrib.auth.models import User

from channels_classic import Channel, route
from channels_classic.auth import channel_session_user, channel_session_user_from_http
from channels_classic.exceptions import DenyConnection, WebsocketCloseException
from channels_classic.sessions import channel_session
from channels_classic.signals import consumer_finished, consumer_started

REDIS_LAYER = "channels_classic.layers.redis.RedisChannelLayer"
IN_MEMORY_LAYER = "channels_classic.layers.inmemory.InMemoryChannelLayer"
MD5_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Consumers the tests route to


def reply_kwargs(message, **kwargs):
    """Replies with the consumer's keyword arguments and returns them."""
    message.reply_channel.send({"text": json.dumps(kwargs)})
    return kwargs


def peek_while_running(message):
    """Sends to test.out, then returns what test.out holds while the consumer still runs."""
    Channel("test.out").send({"n": 1})
    return message.channel_layer.receive(["test.out"])


def send_then_fail(message):
    Channel("test.out").send({"sent": "before the error"})
    raise RuntimeError("consumer failed on purpose")


def close_socket(message):
    raise WebsocketCloseException(4001)


def deny(message):
    raise DenyConnection()


def note_db_receivers(message):
    """Returns the dispatch uids of consumer signal receivers connected while it runs."""
    return {
        key[0] for signal in (consumer_started, consumer_finished) for key, *_ in signal.receivers
    }


def create_user(message):
    return User.objects.create_user(message["name"])


def accept_with_text(message):
    message.reply_channel.send({"accept": True, "text": "hello"})


@channel_session_user_from_http
def connect_user(message):
    message.reply_channel.send({"accept": True})
    message.reply_channel.send({"text": message.user.username})


@channel_session_user
def receive_user(message):
    message.reply_channel.send({"text": message.user.username})


@channel_session
def receive_session(message):
    message.reply_channel.send({"text": json.dumps(dict(message.channel_session))})


TOOL_ROUTES = [
    route("test.kwargs", reply_kwargs, path=r"^/(?P<room>\w+)/$"),
    route("test.peek", peek_while_running),
    route("test.fail", send_then_fail),
    route("test.close", close_socket),
    route("test.deny", deny),
    route("test.db", note_db_receivers),
    route("test.user", create_user),
    route("websocket.connect", accept_with_text, path=r"^/text-accept/$"),
    route("websocket.connect", connect_user, path=r"^/user/$"),
    route("websocket.receive", receive_user, path=r"^/user/$"),
    route("websocket.receive", receive_session, path=r"^/session/$"),
]


def run_tests(case: type[unittest.TestCase], *names: str) -> unittest.TestResult:
    """Runs the named tests of ``case`` as a unittest suite (class set-up included)."""
    result = unittest.TestResult()
    unittest.TestSuite([case(name) for name in names]).run(result)
    return result


def problems(result: unittest.TestResult) -> str:
    return "\n".join(text for _, text in result.errors + result.failures)

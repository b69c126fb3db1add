"""The test tools of channels_classic.test (SPEC T1–T10): test cases with fresh layers,
Client and WSClient running consumers as the worker does, apply_routes, and a live server of
real daphne and worker processes."""

from __future__ import annotations

import json
import os
import pickle
import unittest
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from websockets.sync.client import connect

from channels_classic import Channel, Group, route
from channels_classic.auth import channel_session_user, channel_session_user_from_http
from channels_classic.embedded_redis import EmbeddedRedis
from channels_classic.exceptions import (
    DenyConnection,
    InvalidChannelLayerError,
    WebsocketCloseException,
)
from channels_classic.interface import messages
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.layers.registry import channel_layers
from channels_classic.routing import Include
from channels_classic.sessions import channel_session, channel_session_key
from channels_classic.signals import consumer_finished, consumer_started
from channels_classic.test import (
    ChannelLiveServerTestCase,
    ChannelTestCase,
    Client,
    HttpClient,
    TransactionChannelTestCase,
    WSClient,
    apply_routes,
)
from channels_classic.test.base import install_test_layers, restore_layers
from channels_classic.test.process import DaphneProcess, LiveServerProcess, WorkerProcess
from tests.e2e_routing import REPORTS

REDIS_LAYER = "channels_classic.layers.redis.RedisChannelLayer"
IN_MEMORY_LAYER = "channels_classic.layers.inmemory.InMemoryChannelLayer"
MD5_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
#: The dispatch uids the app config connects close_old_connections with.
DB_CLOSE_UIDS = {"channels_classic.db_start", "channels_classic.db_end"}
#: Bounded waits on real sockets and processes.
SOCKET_TIMEOUT = 10


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


# ChannelTestCase and TransactionChannelTestCase


def test_channel_test_case_gives_each_test_a_fresh_layer_and_puts_the_old_one_back():
    """Each test gets a new in-memory layer routed like the configured one; a message left
    by one test is gone in the next; the configured layer is back afterwards."""
    configured = channel_layers["default"]
    seen: list[Any] = []

    class Probe(ChannelTestCase):
        databases = set()

        def test_one(self):
            seen.append(channel_layers["default"])
            Channel("test.left").send({"left": "behind"})

        def test_two(self):
            seen.append(channel_layers["default"])
            seen.append(self.get_next_message("test.left"))

    result = run_tests(Probe, "test_one", "test_two")
    assert result.wasSuccessful(), problems(result)
    first, second, leftover = seen
    assert first is not configured and second is not first
    assert isinstance(first.channel_layer, InMemoryChannelLayer)
    assert first.routing == configured.routing
    assert leftover is None
    assert channel_layers["default"] is configured


def test_transaction_channel_test_case_swaps_layers_for_its_first_test_too():
    """TransactionTestCase runs the first test's set-up in setUpClass; that test gets a test
    layer as well, and every layer is put back."""
    configured = channel_layers["default"]
    seen: list[Any] = []

    class Probe(TransactionChannelTestCase):
        databases = set()

        def test_one(self):
            seen.append(channel_layers["default"])

        def test_two(self):
            seen.append(channel_layers["default"])

    result = run_tests(Probe, "test_one", "test_two")
    assert result.wasSuccessful(), problems(result)
    assert configured not in seen and seen[0] is not seen[1]
    assert channel_layers["default"] is configured


def test_test_channel_aliases_swaps_every_alias_listed(settings):
    """test_channel_aliases names the layers swapped; the others stay as configured."""
    settings.CHANNEL_LAYERS = {
        **settings.CHANNEL_LAYERS,
        "other": {"BACKEND": IN_MEMORY_LAYER, "ROUTING": []},
        "third": {"BACKEND": IN_MEMORY_LAYER, "ROUTING": []},
    }
    configured = {alias: channel_layers[alias] for alias in ("default", "other", "third")}
    seen: dict[str, Any] = {}

    class Probe(ChannelTestCase):
        databases = set()
        test_channel_aliases = ["default", "other"]

        def test_it(self):
            seen.update({alias: channel_layers[alias] for alias in configured})

    result = run_tests(Probe, "test_it")
    assert result.wasSuccessful(), problems(result)
    assert seen["default"] is not configured["default"]
    assert seen["other"] is not configured["other"]
    assert seen["third"] is configured["third"]
    assert {alias: channel_layers[alias] for alias in configured} == configured


def test_test_channel_aliases_given_as_a_string_is_refused():
    """A single alias string (a common slip) is a TypeError naming it."""
    with pytest.raises(TypeError, match="list of layer aliases, got the string 'default'"):
        install_test_layers("default")


def test_an_unknown_alias_swaps_nothing():
    """An alias missing from CHANNEL_LAYERS is the registry's error, and the aliases before
    it are not left swapped."""
    configured = channel_layers["default"]
    with pytest.raises(InvalidChannelLayerError, match="No channel layer 'nowhere'"):
        install_test_layers(["default", "nowhere"])
    assert channel_layers["default"] is configured


def test_get_next_message_with_require_fails_the_test_when_empty():
    """require=True turns an empty channel into a test failure naming the channel."""

    class Probe(ChannelTestCase):
        databases = set()

        def test_it(self):
            self.get_next_message("test.empty", require=True)

    result = run_tests(Probe, "test_it")
    assert len(result.failures) == 1
    assert (
        "Expected a message on channel 'test.empty' of layer 'default', got none"
        in (result.failures[0][1])
    )


# Client


@apply_routes(TOOL_ROUTES)
class ClientTests(ChannelTestCase):
    def test_reply_channel_is_the_alias_and_five_letters(self):
        """A client's reply channel is its alias plus five random letters (as in 1.x)."""
        client, other = Client(), Client()
        assert client.reply_channel.startswith("default")
        assert len(client.reply_channel) == len("default") + 5
        assert client.reply_channel[len("default") :].isalpha()
        assert client.reply_channel != other.reply_channel

    def test_send_adds_the_reply_channel_to_a_copy(self):
        """send() sets reply_channel (unless given) on a copy of the content."""
        client = Client()
        content = {"nested": {"a": 1}}
        client.send("test.raw", content)
        content["nested"]["a"] = 2
        message = self.get_next_message("test.raw", require=True)
        assert message.content == {"nested": {"a": 1}, "reply_channel": client.reply_channel}
        client.send("test.raw", {"reply_channel": "elsewhere"})
        assert self.get_next_message("test.raw").content == {"reply_channel": "elsewhere"}

    def test_send_refuses_content_that_is_not_a_dict(self):
        """Content other than a dict is a TypeError naming the channel."""
        with pytest.raises(TypeError, match=r"send\(\) to 'test.raw' takes the message as a dict"):
            Client().send("test.raw", ["not", "a", "dict"])

    def test_consume_runs_the_routed_consumer_with_its_kwargs(self):
        """consume() runs the consumer the route names, with the filters' groups as keyword
        arguments, and returns what it returned."""
        client = Client()
        result = client.send_and_consume("test.kwargs", {"path": "/lobby/"})
        assert result == {"room": "lobby"}
        assert client.receive() == {"text": '{"room": "lobby"}'}
        assert client.receive() is None

    def test_consume_without_a_message(self):
        """No message: AssertionError, or None with fail_on_none=False."""
        client = Client()
        with pytest.raises(AssertionError, match="No message on channel 'test.kwargs' to consume"):
            client.consume("test.kwargs")
        assert client.consume("test.kwargs", fail_on_none=False) is None

    def test_consume_without_a_route_has_no_default_routes(self):
        """A message no route matches fails (tests get no default routes, DR3), or is
        dropped with fail_on_none=False."""
        client = Client()
        with pytest.raises(AssertionError, match=r"No route of channel layer 'default' matches"):
            client.send_and_consume("test.kwargs", {"path": "/no room here"})
        client.send("http.request", {"path": "/"})
        assert client.consume("http.request", fail_on_none=False) is None
        assert self.get_next_message("http.request") is None

    def test_sends_wait_until_the_consumer_returns(self):
        """Inside the consumer its sends are buffered (P1); they go out when it returns."""
        client = Client()
        assert client.send_and_consume("test.peek") == (None, None)
        assert self.get_next_message("test.out", require=True).content == {"n": 1}

    def test_sends_go_out_even_when_the_consumer_raises(self):
        """A consumer's exception reaches the test, and its buffered sends went out (P3)."""
        with pytest.raises(RuntimeError, match="consumer failed on purpose"):
            Client().send_and_consume("test.fail")
        assert self.get_next_message("test.out").content == {"sent": "before the error"}

    def test_consumer_signals_fire_around_the_consumer(self):
        """consumer_started (with environ) and consumer_finished fire, in that order."""
        fired = []

        def started(sender, environ, **kwargs):
            fired.append(("started", sender, environ))

        def finished(sender, **kwargs):
            fired.append(("finished", sender))

        consumer_started.connect(started)
        consumer_finished.connect(finished)
        try:
            Client().send_and_consume("test.peek")
        finally:
            consumer_started.disconnect(started)
            consumer_finished.disconnect(finished)
        assert fired == [("started", Client, {}), ("finished", Client)]

    def test_database_connections_are_left_open_around_the_consumer(self):
        """close_old_connections is off the consumer signals while the consumer runs (the
        test's transaction must survive) and back on afterwards."""
        connected_during = Client().send_and_consume("test.db")
        assert not connected_during & DB_CLOSE_UIDS
        after = {key[0] for s in (consumer_started, consumer_finished) for key, *_ in s.receivers}
        assert after >= DB_CLOSE_UIDS

    def test_consumer_writes_stay_in_the_test_transaction(self):
        """A consumer's database writes are visible to the test, inside its transaction."""
        user = Client().send_and_consume("test.user", {"name": "ada"})
        assert User.objects.get(username="ada") == user
        assert connection.in_atomic_block

    def test_channel_socket_exceptions_act_on_the_socket(self):
        """WebsocketCloseException closes the socket with its code instead of raising."""
        client = Client()
        assert client.send_and_consume("test.close") is None
        assert client.receive() == {"close": 4001}

    def test_deny_connection_reaches_the_test(self):
        """DenyConnection propagates from consume (T3), it is not turned into a close."""
        client = Client()
        with pytest.raises(DenyConnection):
            client.send_and_consume("test.deny")
        assert client.receive() is None

    def test_join_group_and_get_consumer_by_channel(self):
        """join_group adds the reply channel to a group; get_consumer_by_channel finds the
        consumer of a channel's routes (None when there is none)."""
        client = Client()
        client.join_group("test-group")
        Group("test-group").send({"text": "to all"})
        assert client.receive() == {"text": "to all"}
        assert client.get_consumer_by_channel("test.peek") is peek_while_running
        assert client.get_consumer_by_channel("test.nothing") is None


# WSClient


@override_settings(PASSWORD_HASHERS=MD5_HASHER)
@apply_routes(TOOL_ROUTES)
class WSClientTests(ChannelTestCase):
    def sent(self, client: WSClient, channel: str) -> dict[str, Any]:
        message = self.get_next_message(channel, require=True)
        return message.content

    def test_websocket_messages_have_the_interface_servers_shapes(self):
        """connect, receive and disconnect are built as the interface server builds them,
        numbered 0, 1, 2; only connect carries headers and the query string."""
        client = WSClient()
        client.set_header("Origin", "http://example.com")
        client.set_cookie("flavour", "oat meal")
        client.send("websocket.connect", path="/room/?a=1")
        client.send("websocket.receive", text="hi", path="/room/?a=1")
        client.send("websocket.receive", {"bytes": b"\x00\x01"}, path="/room/")
        client.send("websocket.disconnect", path="/room/")
        headers = [[b"origin", b"http://example.com"], [b"cookie", b'flavour="oat meal"']]
        scope = {"path": "/room/", "query_string": b"a=1", "headers": headers}
        assert self.sent(client, "websocket.connect") == messages.websocket_connect(
            scope, client.reply_channel
        )
        receives = [self.sent(client, "websocket.receive") for _ in range(2)]
        assert receives == [
            messages.websocket_receive(client.reply_channel, "/room/", 1, {"text": "hi"}),
            messages.websocket_receive(client.reply_channel, "/room/", 2, {"bytes": b"\x00\x01"}),
        ]
        assert self.sent(client, "websocket.disconnect") == messages.websocket_disconnect(
            client.reply_channel, "/room/", 1000, 3
        )

    def test_text_that_is_not_a_string_is_sent_as_json(self):
        """text given as a dict or list is JSON-dumped; a str is sent as is."""
        client = WSClient()
        client.send("websocket.receive", text={"a": [1, 2]})
        client.send("websocket.receive", {"text": "plain"})
        assert self.sent(client, "websocket.receive")["text"] == '{"a": [1, 2]}'
        assert self.sent(client, "websocket.receive")["text"] == "plain"

    def test_other_channels_get_path_headers_and_no_order(self):
        """A message to another channel gets reply_channel, path and headers (1.x), and an
        order only when the client is ordered."""
        client = WSClient()
        client.set_header("x-test", "1")
        client.send("test.raw", {"extra": True}, text="hi", path="/p/?q=1")
        assert self.sent(client, "test.raw") == {
            "reply_channel": client.reply_channel,
            "path": "/p/",
            "headers": [[b"x-test", b"1"]],
            "extra": True,
            "text": "hi",
        }

    def test_ordered_numbers_every_message_and_refuses_manual_orders(self):
        """WSClient(ordered=True) numbers messages to any channel; an order in the content
        is a ValueError."""
        client = WSClient(ordered=True)
        client.send("test.raw")
        client.send("websocket.receive", text="x")
        assert self.sent(client, "test.raw")["order"] == 0
        assert self.sent(client, "websocket.receive")["order"] == 1
        with pytest.raises(ValueError, match=r"numbers its messages itself.*order=7"):
            client.send("websocket.receive", {"order": 7})

    def test_unordered_client_takes_a_manual_order(self):
        """Without ordered, an order in the content replaces the client's number."""
        client = WSClient()
        client.send("websocket.receive", {"order": 5}, text="late")
        assert self.sent(client, "websocket.receive")["order"] == 5

    def test_the_cookie_header_is_built_from_cookies(self):
        """set_header('Cookie', ...) is a ValueError pointing at set_cookie."""
        with pytest.raises(ValueError, match=r"use set_cookie\(name, value\) for each cookie"):
            WSClient().set_header("Cookie", "a=b")

    def test_session_is_the_channel_session_of_the_reply_channel(self):
        """client.session is the reply channel's channel session; what the test saves there
        the consumer's @channel_session sees."""
        client = WSClient()
        assert client.session.session_key == channel_session_key(client.reply_channel)
        client.session["colour"] = "teal"
        client.session.save()
        client.send_and_consume("websocket.receive", path="/session/")
        assert client.receive() == {"colour": "teal"}

    def test_force_login_reaches_connect_and_later_messages(self):
        """After force_login, @channel_session_user_from_http finds the user on connect
        (through the session cookie) and @channel_session_user on later messages."""
        client = WSClient()
        client.force_login(User.objects.create_user("grace"))
        assert settings.SESSION_COOKIE_NAME in client.get_cookies()
        client.send_and_consume("websocket.connect", path="/user/")
        assert client.receive(json=False) == "grace"
        client.send_and_consume("websocket.receive", text="who am i", path="/user/")
        assert client.receive(json=False) == "grace"

    def test_login_with_credentials(self):
        """login() logs in with good credentials and refuses bad ones or inactive users."""
        User.objects.create_user("ada", password="lovelace")
        User.objects.create_user("idle", password="idle", is_active=False)
        client = WSClient()
        assert client.login(username="ada", password="wrong") is False
        assert client.login(username="idle", password="idle") is False
        assert client.get_cookies() == {}
        assert client.login(username="ada", password="lovelace") is True
        client.send_and_consume("websocket.receive", path="/user/")
        assert client.receive(json=False) == "ada"

    def test_anonymous_client_has_no_user(self):
        """A client that never logged in sends no session cookie: the consumer sees an
        anonymous user."""
        client = WSClient()
        client.send_and_consume("websocket.connect", path="/user/")
        assert client.receive(json=False) == ""

    def test_check_accept_wants_exactly_an_accept(self):
        """A connect whose first reply is not exactly {"accept": True} fails, unless
        check_accept=False."""
        client = WSClient()
        with pytest.raises(AssertionError, match=r"Connection rejected: the first reply .*"):
            client.send_and_consume("websocket.connect", path="/text-accept/")
        client.send_and_consume("websocket.connect", path="/text-accept/", check_accept=False)
        assert client.receive(json=False) == "hello"

    def test_receive_decodes_json_text(self):
        """receive() decodes JSON text; json=False gives the text; content without text
        comes whole; no message is None; text that is not JSON is a ValueError."""
        client = WSClient()
        for text in ('{"a": 1}', '{"a": 1}', "not json"):
            Channel(client.reply_channel).send({"text": text})
        Channel(client.reply_channel).send({"close": True})
        assert client.receive() == {"a": 1}
        assert client.receive(json=False) == '{"a": 1}'
        with pytest.raises(ValueError, match=r"The reply 'not json' .* is not JSON"):
            client.receive()
        assert client.receive() == {"close": True}
        assert client.receive() is None

    def test_http_client_is_a_deprecated_ws_client(self):
        """HttpClient warns that it is deprecated and works as a WSClient."""
        with pytest.warns(DeprecationWarning, match="HttpClient is deprecated: use"):
            client = HttpClient(ordered=True)
        assert isinstance(client, WSClient) and client.ordered


def test_session_needs_the_sessions_app(settings):
    """Without django.contrib.sessions, session is an OSError (1.x's EnvironmentError) and
    login() returns False."""
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "django.contrib.sessions"]
    client = WSClient()
    with pytest.raises(OSError, match="needs 'django.contrib.sessions' in INSTALLED_APPS"):
        _ = client.session
    assert client.login(username="nobody", password="x") is False


# apply_routes


@pytest.fixture
def layers(settings):
    """Test layers for "default" and "other", put back after the test."""
    settings.CHANNEL_LAYERS = {
        **settings.CHANNEL_LAYERS,
        "other": {"BACKEND": IN_MEMORY_LAYER, "ROUTING": []},
    }
    replaced = install_test_layers(["default", "other"])
    yield {alias: channel_layers[alias] for alias in replaced}
    restore_layers(replaced)


def test_apply_routes_replaces_the_routing_and_puts_the_router_back(layers):
    """Inside the block the layer routes only the given routes; afterwards its own router
    object (with routes added to it) is back."""
    layer = layers["default"]
    router = layer.router
    router.add_route(route("test.added", reply_kwargs))
    with apply_routes(route("test.peek", peek_while_running)):
        assert layer.router.channels == {"test.peek"}
        assert Client().get_consumer_by_channel("test.peek") is peek_while_running
    assert layer.router is router and "test.added" in layer.router.channels


def test_apply_routes_patches_the_aliases_given(layers):
    """aliases=["other"] routes the other layer and leaves the default one alone (1.x always
    patched the default layer: Q18, fixed)."""
    default_router = layers["default"].router
    with apply_routes([route("test.peek", peek_while_running)], aliases=["other"]):
        assert layers["other"].router.channels == {"test.peek"}
        assert layers["default"].router is default_router
    assert layers["other"].router.channels == frozenset()


def test_apply_routes_turns_lists_into_includes(layers):
    """A list of lists becomes a list of includes."""
    routes = [[route("test.a", reply_kwargs)], [route("test.b", peek_while_running)]]
    with apply_routes(routes):
        entries = layers["default"].router.root.routing
        assert [type(entry) for entry in entries] == [Include, Include]
        assert layers["default"].router.channels == {"test.a", "test.b"}


def test_apply_routes_decorates_functions_and_plain_classes(layers):
    """On a function the routes hold while it runs; on a class that is no TestCase, around
    each test method."""

    @apply_routes([route("test.peek", peek_while_running)])
    def routed_function():
        return sorted(channel_layers["default"].router.channels)

    @apply_routes([route("test.b", peek_while_running)])
    class RoutedClass:
        def test_it(self):
            return sorted(channel_layers["default"].router.channels)

    assert routed_function() == ["test.peek"]
    assert RoutedClass().test_it() == ["test.b"]
    assert channel_layers["default"].router.channels.isdisjoint({"test.peek", "test.b"})


def test_apply_routes_on_a_test_case_holds_from_set_up_to_tear_down():
    """On a TestCase the routes are in place in setUp, the test and tearDown."""
    seen = []

    @apply_routes([route("test.peek", peek_while_running)])
    class Probe(ChannelTestCase):
        databases = set()

        def setUp(self):
            seen.append(sorted(channel_layers["default"].router.channels))

        def test_it(self):
            seen.append(sorted(channel_layers["default"].router.channels))

        def tearDown(self):
            seen.append(sorted(channel_layers["default"].router.channels))

    result = run_tests(Probe, "test_it")
    assert result.wasSuccessful(), problems(result)
    assert seen == [["test.peek"]] * 3


def test_apply_routes_misuse_is_explained():
    """A string of aliases and decorating a non-callable are TypeErrors saying the fix."""
    with pytest.raises(TypeError, match=r"write aliases=\['other'\]"):
        apply_routes([], aliases="other")
    with pytest.raises(TypeError, match="decorates test functions and classes, got 42"):
        apply_routes([])(42)


# ChannelLiveServerTestCase


def live_layers(redis_url: str, **config: Any) -> dict[str, Any]:
    """CHANNEL_LAYERS with the default layer on Redis, its TEST_CONFIG on ``redis_url``."""
    layer = {
        "BACKEND": REDIS_LAYER,
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # never used: the tests use TEST_CONFIG
        "TEST_CONFIG": {"hosts": [redis_url], "prefix": "live"},
        "ROUTING": "tests.e2e_routing.channel_routing",
    }
    return {"default": {**layer, **config}}


class LiveServerTests(ChannelLiveServerTestCase):
    """Real daphne and worker processes on a Redis of this class's own."""

    databases = set()

    @classmethod
    def setUpClass(cls):
        cls.redis = EmbeddedRedis()
        cls.addClassCleanup(cls.redis.close)
        cls.enterClassContext(override_settings(CHANNEL_LAYERS=live_layers(cls.redis.start())))
        super().setUpClass()

    def test_a_websocket_reaches_the_worker_process(self):
        """A socket to live_server_ws_url is answered by a consumer in the worker process."""
        worker = self._live_server_processes[1]
        with connect(self.live_server_ws_url + "/whoami/", open_timeout=SOCKET_TIMEOUT) as ws:
            ws.send("who?")
            assert int(ws.recv(timeout=SOCKET_TIMEOUT)) == worker.pid, self.live_server_logs()
            ws.send("and you?")
            assert ws.recv(timeout=SOCKET_TIMEOUT) != str(os.getpid())

    def test_the_test_shares_the_live_layer(self):
        """The test's own layer is the live one (TEST_CONFIG): it reads what a consumer in
        the worker sent."""
        with connect(self.live_server_ws_url + "/report/", open_timeout=SOCKET_TIMEOUT):
            pass
        channel, report = channel_layers["default"].receive([REPORTS], block=True)
        assert (channel, report) == (REPORTS, {"code": 1000, "order": 1, "path": "/report/"}), (
            self.live_server_logs()
        )
        assert channel_layers["default"].channel_layer.prefix == "live"

    def test_http_and_static_files_go_through_the_worker(self):
        """live_server_url serves HTTP through the worker's default route, static files
        included (serve_static), on host "localhost"."""
        assert self.live_server_url.startswith("http://localhost:")
        url = self.live_server_url + settings.STATIC_URL + "realtime/chat.css"
        with urllib.request.urlopen(url, timeout=SOCKET_TIMEOUT) as response:
            body = response.read()
        css = Path(__file__).resolve().parent.parent / "realtime/static/realtime/chat.css"
        assert body == css.read_bytes()


def test_live_server_processes_are_stopped_and_cleaned_up(redis_url):
    """After a live-server test its processes are gone (stopped by PID), its run directory
    is removed and the configured layer is back."""
    recorded: dict[str, Any] = {}

    class Probe(ChannelLiveServerTestCase):
        databases = set()

        def test_it(self):
            recorded["pids"] = [p.pid for p in self._live_server_processes]
            recorded["run_directory"] = self._run_directory.path
            recorded["layer"] = channel_layers["default"]

    with override_settings(CHANNEL_LAYERS=live_layers(redis_url)):
        configured = channel_layers["default"]
        result = run_tests(Probe, "test_it")
        assert result.wasSuccessful(), problems(result)
        assert channel_layers["default"] is configured is not recorded["layer"]
    assert len(recorded["pids"]) == 2
    for pid in recorded["pids"]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not recorded["run_directory"].exists()


class _Probe(ChannelLiveServerTestCase):
    __test__ = False  # only its set-up is tried, by the tests below
    databases = set()

    def test_it(self):
        """Never run: the set-up is what these tests try."""


def test_live_server_processes_get_the_settings_the_test_sees(redis_url):
    """Every setting goes to the processes as the test sees it, overrides included, with the
    layers' TEST_CONFIG as their CONFIG, the live host allowed and the databases the test
    case does not use closed."""
    layers = live_layers(redis_url)
    with override_settings(CHANNEL_LAYERS=layers, TEST_MARKER=["seen"]):
        pickled = _Probe._settings_for_processes()
    values = {name: pickle.loads(data) for name, data in pickled.items()}
    assert values["TEST_MARKER"] == ["seen"]
    assert values["SECRET_KEY"] == settings.SECRET_KEY
    assert values["CHANNEL_LAYERS"] == {
        "default": {**layers["default"], "CONFIG": {"hosts": [redis_url], "prefix": "live"}}
    }
    assert values["ALLOWED_HOSTS"] == [*settings.ALLOWED_HOSTS, "localhost"]
    assert values["DATABASES"] == {"default": {"ENGINE": "django.db.backends.dummy"}}


def test_live_server_needs_a_test_config(redis_url):
    """Without TEST_CONFIG the error says what to add."""
    layers = live_layers(redis_url)
    del layers["default"]["TEST_CONFIG"]
    with override_settings(CHANNEL_LAYERS=layers):
        with pytest.raises(InvalidChannelLayerError, match=r"needs CHANNEL_LAYERS\['default'\] "):
            _Probe._pre_setup()


def test_live_server_refuses_an_in_memory_layer(redis_url):
    """An in-memory BACKEND cannot span processes: the error names the Redis layer."""
    layers = live_layers(redis_url, BACKEND=IN_MEMORY_LAYER, TEST_CONFIG={})
    with override_settings(CHANNEL_LAYERS=layers):
        with pytest.raises(InvalidChannelLayerError, match=f"BACKEND'\\] to '{REDIS_LAYER}'"):
            _Probe._pre_setup()


@pytest.mark.django_db
def test_live_server_refuses_an_in_memory_test_database(redis_url):
    """A test case that uses a database whose test database is SQLite in memory is told to
    give it a file (the processes could not open it)."""

    class UsesDatabase(_Probe):
        databases = {"default"}

    with override_settings(CHANNEL_LAYERS=live_layers(redis_url)):
        with pytest.raises(ImproperlyConfigured, match=r"SQLite in memory.*\['TEST'\]"):
            UsesDatabase._pre_setup()


def test_live_server_refuses_settings_that_do_not_pickle(redis_url):
    """Settings are handed to the processes pickled; one that cannot be is named."""
    with override_settings(CHANNEL_LAYERS=live_layers(redis_url), TEST_HOOK=lambda: None):
        with pytest.raises(ImproperlyConfigured, match=r"settings.TEST_HOOK = <function"):
            _Probe._pre_setup()


def test_live_server_start_failure_shows_the_output_and_stops_everything(redis_url):
    """A worker that cannot start fails the set-up with its output; daphne, already started,
    is stopped, the run directory removed and the configured layer is back."""
    started: list[LiveServerProcess] = []

    class RecordingDaphne(DaphneProcess):
        def start(self):
            super().start()
            started.append(self)

    class RecordingWorker(WorkerProcess):
        def start(self):
            super().start()
            started.append(self)

    class BadRouting(_Probe):
        ProtocolServerProcess = RecordingDaphne
        WorkerProcess = RecordingWorker

    layers = live_layers(redis_url, ROUTING="tests.no_such_module.channel_routing")
    with override_settings(CHANNEL_LAYERS=layers):
        configured = channel_layers["default"]
        with pytest.raises(RuntimeError, match=r"(?s)worker process exited.*no_such_module"):
            BadRouting._pre_setup()
        assert channel_layers["default"] is configured
    daphne, worker = started
    assert daphne.process is not None and daphne.process.poll() is not None
    assert worker.process is not None and worker.process.poll() not in (None, 0)
    assert not worker.run_directory.path.exists()

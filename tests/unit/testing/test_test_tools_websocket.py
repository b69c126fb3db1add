"""WSClient and HttpClient (channels_classic.test.websocket): messages
shaped as the interface server shapes them, cookies, headers and logins."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings

from channels_classic import Channel
from channels_classic.interface import messages
from channels_classic.sessions import channel_session_key
from channels_classic.test import ChannelTestCase, HttpClient, WSClient, apply_routes
from tests.support.tools import MD5_HASHER, TOOL_ROUTES

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
        with pytest.raises(
            ValueError,
            match=r"^Use set_cookie method for cookie header: .* set_cookie\(name, value\)",
        ):
            WSClient().set_header("Cookie", "a=b")

    def test_headers_may_be_set_as_str_or_bytes(self):
        """set_header takes str or bytes, as 1.x did; connect carries lower-case byte pairs."""
        client = WSClient()
        client.set_header("Origin", "http://example.com")
        client.set_header(b"X-Token", b"\x01")
        with pytest.raises(ValueError, match=r"^Use set_cookie method for cookie header"):
            client.set_header(b"cookie", b"a=b")
        client.send("websocket.connect")
        headers = self.sent(client, "websocket.connect")["headers"]
        assert [b"origin", b"http://example.com"] in headers and [b"x-token", b"\x01"] in headers

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
        with pytest.raises(
            AssertionError,
            match=r"^Connection rejected: .* != '\{accept: True\}' \(the first reply",
        ):
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
    with pytest.raises(
        OSError, match="^Add django.contrib.sessions to the INSTALLED_APPS to use session: "
    ):
        _ = client.session
    assert client.login(username="nobody", password="x") is False

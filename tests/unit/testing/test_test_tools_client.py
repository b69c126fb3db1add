"""Client (channels_classic.test.client): sends messages and runs their
consumers in the test as a worker runs them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection

from channels_classic import Group
from channels_classic.exceptions import DenyConnection
from channels_classic.signals import consumer_finished, consumer_started
from channels_classic.test import ChannelTestCase, Client, apply_routes
from tests.support.tools import TOOL_ROUTES, peek_while_running

#: The dispatch uids the app config connects close_old_connections with.
DB_CLOSE_UIDS = {"channels_classic.db_start", "channels_classic.db_end"}


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
        with pytest.raises(
            AssertionError,
            match="^No message for channel test.kwargs: there is none on 'test.kwargs' to consume",
        ):
            client.consume("test.kwargs")
        assert client.consume("test.kwargs", fail_on_none=False) is None

    def test_consume_without_a_route_has_no_default_routes(self):
        """A message no route matches fails (tests get no default routes), or is
        dropped with fail_on_none=False."""
        client = Client()
        with pytest.raises(
            AssertionError,
            match=r"^Can't find consumer for message .* no route of channel layer 'default'",
        ):
            client.send_and_consume("test.kwargs", {"path": "/no room here"})
        client.send("http.request", {"path": "/"})
        assert client.consume("http.request", fail_on_none=False) is None
        assert self.get_next_message("http.request") is None

    def test_sends_wait_until_the_consumer_returns(self):
        """Inside the consumer its sends are buffered; they go out when it returns."""
        client = Client()
        assert client.send_and_consume("test.peek") == (None, None)
        assert self.get_next_message("test.out", require=True).content == {"n": 1}

    def test_sends_go_out_even_when_the_consumer_raises(self):
        """A consumer's exception reaches the test, and its buffered sends went out."""
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
        """DenyConnection propagates from consume, it is not turned into a close."""
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

"""HTTP sessions for consumers (``http_session``, ``channel_and_http_session``): the
browser's Django session from the cookie or ``?session_key=``, in the db engine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.contrib.sessions.models import Session
from django.utils.crypto import get_random_string

from channels_classic.interface import messages
from channels_classic.message import Message
from channels_classic.sessions import (
    ORDERING_MARK_PREFIX,
    channel_and_http_session,
    channel_session,
    channel_session_key,
    derived_key,
    http_session,
)
from tests.support.sessions import (
    connect,
    db_sessions,  # noqa: F401 (an autouse fixture: importing it applies it here)
    http_session_with,
    make_layer,
    receive,
    store_session,
)


@pytest.mark.django_db
def test_http_session_comes_from_the_cookie_or_the_session_key_parameter(settings):
    """The session_key query parameter wins over the cookie; without either, or on a
    websocket.receive (no headers), http_session is None."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    by_cookie = http_session_with({"from": "cookie"})
    by_query = http_session_with({"from": "query"})
    cookie = f"{settings.SESSION_COOKIE_NAME}={by_cookie}; theme=dark"

    @http_session
    def consumer(message):
        return None if message.http_session is None else message.http_session.get("from")

    assert consumer(connect(layer, reply, cookie=cookie)) == "cookie"
    assert (
        consumer(connect(layer, reply, cookie=cookie, query=b"session_key=" + by_query.encode()))
        == "query"
    )
    assert consumer(connect(layer, reply)) is None
    assert consumer(receive(layer, reply, 1)) is None


@pytest.mark.django_db
def test_http_session_on_an_http_request():
    """http.request messages carry cookies too."""
    layer = make_layer()
    key = http_session_with({"cart": 3})
    scope = {"method": "GET", "path": "/", "headers": [[b"cookie", f"sessionid={key}".encode()]]}
    request = Message(
        dict(messages.http_request(scope, "http.response!x", b"", None)), "http.request", layer
    )
    assert http_session(lambda message: message.http_session["cart"])(request) == 3


@pytest.mark.django_db
def test_http_session_reads_dict_headers_as_1x_test_clients_sent_them(settings):
    """A dict of headers with a str cookie (1.1.8's WSClient) finds the session too."""
    key = http_session_with({"cart": 4})
    message = Message(
        {"reply_channel": "r", "path": "/", "headers": {"cookie": f"sessionid={key}"}},
        "websocket.connect",
        make_layer(),
    )
    assert http_session(lambda message: message.http_session["cart"])(message) == 4


@pytest.mark.django_db
def test_http_session_is_saved_only_when_the_consumer_returns():
    """Changes are saved when the consumer returns, and dropped when it raises."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    key = http_session_with({"n": 0})

    @http_session
    def consumer(message, fail):
        message.http_session["n"] += 1
        if fail:
            raise RuntimeError("boom")

    consumer(connect(layer, reply, query=f"session_key={key}".encode()), False)
    with pytest.raises(RuntimeError, match="boom"):
        consumer(connect(layer, reply, query=f"session_key={key}".encode()), True)
    assert DbSessionStore(session_key=key)["n"] == 1


@pytest.mark.django_db
def test_http_session_never_creates_a_session():
    """A forged key gives an empty session that is not saved however it is changed, and the
    key of a channel session is not accepted as an HTTP session key."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    channel_session(lambda message: message.channel_session.update({"secret": 1}))(
        connect(layer, reply)
    )

    @http_session
    def consumer(message):
        if message.http_session is not None:
            message.http_session["written"] = True
            return dict(message.http_session.items())
        return None

    before = Session.objects.count()
    assert consumer(connect(layer, reply, query=b"session_key=forgedforgedforged")) == {
        "written": True
    }
    assert Session.objects.count() == before
    other = layer.new_channel("daphne.response")
    query = f"session_key={channel_session_key(reply)}".encode()
    assert consumer(connect(layer, other, query=query)) is None


@pytest.mark.django_db
def test_django_keys_that_start_like_derived_keys_are_accepted(settings):
    """Real Django keys may start with 'chn' or 'cho' (1 in 46,656 each): they are accepted;
    only the exact shape of a derived key (the prefix and 29 hex digits) is refused."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")

    @http_session
    def consumer(message):
        return None if message.http_session is None else message.http_session.get("owner")

    for prefix in ("chn", "cho"):
        key = prefix + "z" + get_random_string(28, VALID_KEY_CHARS)
        store_session(key, {"owner": prefix}, expires_in=timedelta(hours=1))
        cookie = f"{settings.SESSION_COOKIE_NAME}={key}"
        assert consumer(connect(layer, reply, cookie=cookie)) == prefix
    mark = derived_key(ORDERING_MARK_PREFIX, f"{reply}#1")
    store_session(mark, {"owner": "a mark"}, expires_in=timedelta(hours=1))
    assert consumer(connect(layer, reply, query=f"session_key={mark}".encode())) is None


@pytest.mark.django_db
def test_channel_and_http_session_keeps_the_http_session_for_later_messages(settings):
    """The connect's HTTP session key is stored in the channel session, and later messages
    (which carry no cookies) get the same HTTP session back; a forged key is not stored."""
    layer = make_layer()
    reply, forged = layer.new_channel("daphne.response"), layer.new_channel("daphne.response")
    key = http_session_with({"name": "alice"})
    name = settings.SESSION_COOKIE_NAME

    @channel_and_http_session
    def consumer(message):
        http = message.http_session
        return (message.channel_session.get(name), None if http is None else http.get("name"))

    assert consumer(connect(layer, reply, cookie=f"{name}={key}")) == (key, "alice")
    assert consumer(receive(layer, reply, 1)) == (key, "alice")
    assert consumer(connect(layer, forged, cookie=f"{name}=forgedforgedforged")) == (None, None)
    assert consumer(receive(layer, forged, 1)) == (None, None)

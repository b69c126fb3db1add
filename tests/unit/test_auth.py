"""message.user from channel and HTTP sessions, with real logins in the db session engine."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from channels_classic import route
from channels_classic.auth import (
    channel_and_http_session_user_from_http,
    channel_session_user,
    channel_session_user_from_http,
    http_session_user,
    transfer_user,
)
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.message import Message
from channels_classic.sessions import channel_session_key, session_for_reply_channel
from channels_classic.worker import Worker
from tests.support.sessions import FAST_HASHERS, keep_sessions_in, receive, send_all
from tests.support.sessions import connect as socket_connect

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def db_sessions(settings):
    """HTTP and channel sessions in the db engine; a fast password hasher."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    return keep_sessions_in(settings)


@pytest.fixture
def layer() -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(), alias="test")


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice", password="wonderland")


def login(user: User) -> str:
    """Logs ``user`` in through Django's own login, as a browser would; returns the HTTP
    session key (the session cookie's value)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def connect(layer: ClassicLayer, reply: str, *, key: str = "", via: str = "cookie") -> Message:
    """A websocket.connect Message as the interface server builds it, carrying ``key`` in
    the session cookie or (cross-domain) in the ``session_key`` query parameter."""
    if key and via == "cookie":
        return socket_connect(layer, reply, cookie=f"{settings.SESSION_COOKIE_NAME}={key}")
    return socket_connect(layer, reply, query=f"session_key={key}".encode() if key else b"")


def expire(key: str) -> None:
    """Makes the db session ``key`` expired, its row left in place (until clearsessions)."""
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))


@http_session_user
def http_user(message: Any) -> Any:
    return message.user


@channel_session_user
def channel_user(message: Any) -> Any:
    return message.user


@channel_session_user_from_http
def connect_user(message: Any) -> Any:
    return message.user


def test_transfer_user_copies_a_whole_login_only():
    """The user id, backend and session hash are copied together, or not at all."""
    login = {SESSION_KEY: "7", BACKEND_SESSION_KEY: "b", HASH_SESSION_KEY: "h", "other": 1}
    source, target = DbSessionStore(), DbSessionStore()
    source.update(login)
    transfer_user(source, target)
    assert dict(target.items()) == {
        SESSION_KEY: "7",
        BACKEND_SESSION_KEY: "b",
        HASH_SESSION_KEY: "h",
    }
    partial, untouched = DbSessionStore(), DbSessionStore()
    partial.update({SESSION_KEY: "7", BACKEND_SESSION_KEY: "b"})
    transfer_user(partial, untouched)
    assert dict(untouched.items()) == {}


def test_http_session_user_from_the_cookie_or_the_session_key_parameter(layer, alice):
    """The user logged in over HTTP is message.user, whether the key comes in the cookie or,
    for cross-domain pages, in ?session_key= on the WebSocket URL."""
    key = login(alice)
    reply = layer.new_channel("daphne.response")
    assert http_user(connect(layer, reply, key=key)) == alice
    assert http_user(connect(layer, reply, key=key, via="query")) == alice
    assert http_user(connect(layer, reply)).is_anonymous


def test_forged_expired_and_channel_session_keys_give_anonymous(layer, alice):
    """A made-up key, an expired session, and the key of another socket's channel session
    (which holds alice's login) all give AnonymousUser."""
    key = login(alice)
    alices_socket, reply = layer.new_channel("daphne.response"), layer.new_channel("x")
    assert connect_user(connect(layer, alices_socket, key=key)) == alice
    assert http_user(connect(layer, reply, key="forgedforgedforgedforged")).is_anonymous
    stolen = channel_session_key(alices_socket)
    assert http_user(connect(layer, reply, key=stolen, via="query")).is_anonymous
    expire(key)
    assert http_user(connect(layer, reply, key=key)).is_anonymous
    assert connect_user(connect(layer, reply, key=key)).is_anonymous
    assert channel_user(receive(layer, reply, 1)).is_anonymous


def test_the_login_moves_from_http_to_the_channel_session(layer, alice):
    """channel_session_user_from_http on connect stores the login in the channel session,
    where channel_session_user finds it on the socket's later messages; another socket with
    no login stays anonymous."""
    key = login(alice)
    reply, stranger = layer.new_channel("daphne.response"), layer.new_channel("daphne.response")
    assert connect_user(connect(layer, reply, key=key)) == alice
    assert channel_user(receive(layer, reply, 1)) == alice
    assert connect_user(connect(layer, stranger)).is_anonymous
    assert channel_user(receive(layer, stranger, 1)).is_anonymous


def test_a_password_change_logs_the_socket_out(layer, alice):
    """The session's auth hash is checked as for requests: after a password change the
    socket's user is anonymous, and the stale login is wiped from its channel session."""
    reply = layer.new_channel("daphne.response")
    connect_user(connect(layer, reply, key=login(alice)))
    alice.set_password("looking-glass")
    alice.save()
    assert channel_user(receive(layer, reply, 1)).is_anonymous
    assert SESSION_KEY not in session_for_reply_channel(reply)


def test_a_logout_on_the_channel_session_sticks(layer, alice):
    """Flushing the channel session logs the socket out for its later messages too."""
    reply = layer.new_channel("daphne.response")
    connect_user(connect(layer, reply, key=login(alice)))

    @channel_session_user
    def log_out(message):
        message.channel_session.flush()

    log_out(receive(layer, reply, 1))
    assert channel_user(receive(layer, reply, 2)).is_anonymous


def test_channel_and_http_session_user_keeps_the_user_on_later_messages(layer, alice):
    """With channel_and_http_session_user_from_http, later messages (no cookies) still have
    the HTTP session and message.user from it."""
    key = login(alice)
    reply = layer.new_channel("daphne.response")

    @channel_and_http_session_user_from_http
    def consumer(message):
        return message.user, message.http_session.session_key

    assert consumer(connect(layer, reply, key=key)) == (alice, key)
    assert consumer(receive(layer, reply, 1)) == (alice, key)
    assert channel_user(receive(layer, reply, 2)) == alice


@pytest.mark.django_db(transaction=True)
def test_a_worker_gives_each_socket_its_own_user(alice):
    """Run by a real worker, a socket's messages see the user its connect logged in with,
    and a socket without a login, or with an expired one, sees AnonymousUser."""
    seen: dict[str, list[str]] = {}
    lock = threading.Lock()

    def record(message):
        with lock:
            seen.setdefault(message.reply_channel.name, []).append(str(message.user))

    layer = ClassicLayer(
        InMemoryChannelLayer(),
        alias="test",
        routing=[
            route("websocket.connect", channel_session_user_from_http(record)),
            route("websocket.receive", channel_session_user(record)),
        ],
    )
    key, expired_key = login(alice), login(alice)
    expire(expired_key)
    alices, strangers, expired = (layer.new_channel("daphne.response") for _ in range(3))
    sockets_keys = ((alices, key), (strangers, ""), (expired, expired_key))
    send_all(layer, *(connect(layer, reply, key=k) for reply, k in sockets_keys))
    Worker(layer, install_signals=False, stop_when_idle=True).run()
    send_all(layer, *(receive(layer, reply, 1) for reply, _ in sockets_keys))
    Worker(layer, install_signals=False, stop_when_idle=True).run()
    anonymous = ["AnonymousUser", "AnonymousUser"]
    assert seen == {alices: ["alice", "alice"], strangers: anonymous, expired: anonymous}

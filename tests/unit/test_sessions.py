"""Channel sessions on Django's real session engines (db, cached_db, cache), called directly
and run by a real worker; the engine setting."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models.signals import post_init
from django.utils import timezone

from channels_classic import route
from channels_classic.exceptions import ConsumeLater, UnsuitableSessionEngine
from channels_classic.message import Message
from channels_classic.sessions import (
    channel_session,
    channel_session_engine,
    channel_session_key,
    session_for_reply_channel,
)
from channels_classic.worker import Worker
from tests.support.sessions import (
    CACHE_ENGINE,
    CACHED_DB_ENGINE,
    DB_ENGINE,
    SIGNED_COOKIES_ENGINE,
    connect,
    db_sessions,  # noqa: F401 (an autouse fixture: importing it applies it here)
    make_layer,
    receive,
    send_all,
    store_session,
)

# session_for_reply_channel


def test_channel_session_key_and_engine(settings):
    """The key is 'chn' plus 29 hex digits of SHA-1(reply channel), kept although no record
    exists yet (Django's stores drop such keys); CHANNEL_SESSION_ENGINE wins over
    SESSION_ENGINE; what is saved under the key comes back."""
    settings.CHANNEL_SESSION_ENGINE = CACHE_ENGINE
    reply = "daphne.response.abc!def"
    session = session_for_reply_channel(reply)
    assert session.session_key == "chn" + hashlib.sha1(reply.encode()).hexdigest()[:29]
    assert session.session_key == channel_session_key(reply)
    assert type(session).__module__ == CACHE_ENGINE
    assert dict(session.items()) == {}
    session["room"] = "lobby"
    session.save(must_create=True)
    assert dict(session_for_reply_channel(reply).items()) == {"room": "lobby"}


@pytest.mark.parametrize("setting", ["CHANNEL_SESSION_ENGINE", "SESSION_ENGINE"])
def test_signed_cookie_sessions_are_refused_for_channel_sessions(settings, setting):
    """The signed-cookies engine cannot hold channel sessions; the error says why and what
    to use, and is both ImproperlyConfigured and (as in 1.x) ValueError."""
    setattr(settings, setting, SIGNED_COOKIES_ENGINE)
    with pytest.raises(
        UnsuitableSessionEngine,
        match=rf"settings\.{setting} = .*signed_cookies.* cannot hold channel sessions.*"
        r"Set CHANNEL_SESSION_ENGINE to a server-side engine",
    ) as caught:
        session_for_reply_channel("daphne.response.abc!def")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ImproperlyConfigured)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", r"it does not import \(ValueError: Empty module name\)"),
        ("no_such_app.sessions", r"it does not import \(ModuleNotFoundError: No module named"),
        (".backends.db", r"it does not import \(TypeError: "),
        ("json", r"the module has no SessionStore class"),
    ],
)
def test_a_bad_channel_session_engine_is_refused_naming_the_setting(settings, value, problem):
    """A CHANNEL_SESSION_ENGINE that is not a session engine's module is ImproperlyConfigured
    naming the setting, the bad value and what is wrong with it."""
    settings.CHANNEL_SESSION_ENGINE = value
    with pytest.raises(
        ImproperlyConfigured,
        match=rf"settings\.CHANNEL_SESSION_ENGINE = {re.escape(repr(value))} is not a session "
        rf"engine: {problem}.*Give the dotted path of a session engine module",
    ):
        session_for_reply_channel("daphne.response.abc!def")


def test_a_bad_session_engine_is_named_when_channel_sessions_fall_back_to_it(settings):
    """Without CHANNEL_SESSION_ENGINE the error names SESSION_ENGINE, the setting in use."""
    settings.SESSION_ENGINE = "no_such_app.sessions"
    with pytest.raises(
        ImproperlyConfigured, match=r"settings\.SESSION_ENGINE = 'no_such_app\.sessions' is not"
    ):
        session_for_reply_channel("daphne.response.abc!def")


# @channel_session


@pytest.mark.django_db
def test_channel_session_persists_across_the_messages_of_a_socket():
    """The first message creates the record; what a consumer stores is there for the
    socket's next message, and not for another socket's."""
    layer = make_layer()

    @channel_session
    def consumer(message):
        message.channel_session["visits"] = message.channel_session.get("visits", 0) + 1
        return message.channel_session["visits"]

    reply, other = layer.new_channel("daphne.response"), layer.new_channel("daphne.response")
    assert consumer(connect(layer, reply)) == 1
    assert Session.objects.filter(session_key=channel_session_key(reply)).exists()
    assert consumer(receive(layer, reply, 1)) == 2
    assert consumer(connect(layer, other)) == 1


@pytest.mark.django_db
def test_an_emptied_channel_session_is_saved():
    """Clearing the session (say, logging the socket out) persists (1.x did not save an emptied
    channel session)."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")

    @channel_session
    def consumer(message, action):
        if action == "login":
            message.channel_session["user"] = "alice"
        elif action == "logout":
            message.channel_session.clear()
        return dict(message.channel_session.items())

    assert consumer(connect(layer, reply), "login") == {"user": "alice"}
    assert consumer(receive(layer, reply, 1), "logout") == {}
    assert consumer(receive(layer, reply, 2), "look") == {}


@pytest.mark.django_db
def test_a_flushed_channel_session_stays_under_its_reply_channels_key():
    """flush() (what logout does) empties the session but does not move it to a new key, so
    no stray session record is left and the socket keeps one session."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")

    @channel_session
    def consumer(message, flush):
        if flush:
            message.channel_session.flush()
        message.channel_session["after"] = flush

    consumer(connect(layer, reply), False)
    consumer(receive(layer, reply, 1), True)
    assert list(Session.objects.values_list("session_key", flat=True)) == [
        channel_session_key(reply)
    ]
    assert dict(session_for_reply_channel(reply).items()) == {"after": True}


@pytest.mark.django_db
def test_channel_session_is_saved_when_the_consumer_raises():
    """Changes made before an exception are saved (the save is in a finally)."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")

    @channel_session
    def consumer(message):
        message.channel_session["step"] = "before the crash"
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        consumer(connect(layer, reply))
    assert session_for_reply_channel(reply)["step"] == "before the crash"


@pytest.mark.django_db
def test_channel_session_works_on_methods_and_nests():
    """The message may be the second argument (methods); a nested @channel_session shares the
    outer session object."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    sessions = []

    @channel_session
    def inner(message):
        sessions.append(message.channel_session)
        message.channel_session["inner"] = True

    class Consumer:
        @channel_session
        def connect(self, message):
            sessions.append(message.channel_session)
            inner(message)

    Consumer().connect(connect(layer, reply))
    assert sessions[0] is sessions[1]
    assert session_for_reply_channel(reply)["inner"] is True


def test_channel_session_needs_a_message_with_a_reply_channel():
    """No Message in the first two arguments, or no reply_channel, is a ValueError that
    says what the decorator needs."""
    consumer = channel_session(lambda *args: None)
    with pytest.raises(ValueError, match=r"^channel_session called without Message .*got str, int"):
        consumer("websocket.connect", 1)
    layer = make_layer()
    with pytest.raises(ValueError, match=r"^No reply_channel sent to consumer;.*'test\.plain' has"):
        consumer(Message({"x": 1}, "test.plain", layer))


def test_a_message_that_has_its_channel_session_passes_through_without_a_reply_channel(db):
    """As in 1.x, a message that already carries a channel session (given by an outer
    decorator or by the caller) runs without a reply channel, and a change is saved."""
    session = channel_session_engine().SessionStore()
    session.create()
    message = Message({"x": 1}, "test.plain", make_layer())
    message.channel_session = session

    @channel_session
    def consumer(message):
        message.channel_session["seen"] = message["x"]

    consumer(message)
    stored = channel_session_engine().SessionStore(session_key=session.session_key)
    assert stored["seen"] == 1


@contextmanager
def another_worker_creates_it_first(reply: str) -> Iterator[list[str]]:
    """Makes another worker (another thread, with its own database connection) create the
    channel session of ``reply`` just before this one's first create (as its row is built,
    before its transaction begins); yields a list that records that race."""
    key = channel_session_key(reply)
    raced: list[str] = []

    def create_in_another_connection():
        other = session_for_reply_channel(reply)
        other["created by"] = "the other worker"
        other.save(must_create=True)
        connection.close()

    def create_first(sender, instance, **kwargs):
        if instance.session_key == key and not raced:
            raced.append("other worker")
            thread = threading.Thread(target=create_in_another_connection)
            thread.start()
            thread.join()

    post_init.connect(create_first, sender=Session)
    try:
        yield raced
    finally:
        post_init.disconnect(create_first, sender=Session)


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_session_create_raises_consume_later():
    """When another worker creates the socket's session between the existence check and the
    create, the message is handed back with ConsumeLater instead of overwriting it."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    ran: list[str] = []
    with another_worker_creates_it_first(reply) as raced, pytest.raises(ConsumeLater):
        channel_session(lambda message: ran.append("consumer"))(connect(layer, reply))
    assert (raced, ran) == (["other worker"], [])
    assert dict(session_for_reply_channel(reply).items()) == {"created by": "the other worker"}


@pytest.mark.django_db(transaction=True)
def test_the_worker_retries_a_message_that_lost_the_session_create_race():
    """Run by a real worker, the message that lost the race is requeued and its consumer
    runs once, on the retry, with the session the other worker created."""
    runs = []

    @channel_session
    def consumer(message):
        runs.append((message.get("__retries__", 0), dict(message.channel_session.items())))

    layer = make_layer(route("websocket.connect", consumer))
    reply = layer.new_channel("daphne.response")
    with another_worker_creates_it_first(reply) as raced:
        send_all(layer, connect(layer, reply))
        Worker(layer, threads=2, install_signals=False, stop_when_idle=True).run()
    assert raced == ["other worker"]
    assert runs == [(1, {"created by": "the other worker"})]


@pytest.mark.parametrize("engine", [DB_ENGINE, CACHED_DB_ENGINE])
@pytest.mark.django_db(transaction=True)
def test_an_expired_channel_session_is_replaced_by_an_empty_one(settings, engine):
    """A socket whose channel session expired (the db engines keep the row until
    clearsessions, and neither load nor overwrite it) runs its messages on a real worker
    with a fresh, empty session, instead of having each one retried and dropped."""
    settings.SESSION_ENGINE = engine
    runs = []

    @channel_session
    def consumer(message):
        runs.append((message.get("__retries__", 0), dict(message.channel_session.items())))
        message.channel_session["seen"] = message.channel_session.get("seen", 0) + 1

    layer = make_layer(route("websocket.connect", consumer), route("websocket.receive", consumer))
    reply = layer.new_channel("daphne.response")
    key = channel_session_key(reply)
    store_session(key, {"user": "someone else"}, expires_in=-timedelta(minutes=1))
    for message in (connect(layer, reply), receive(layer, reply, 1)):
        send_all(layer, message)
        Worker(layer, threads=2, install_signals=False, stop_when_idle=True).run()
    assert runs == [(0, {}), (0, {"seen": 1})]
    assert Session.objects.get(session_key=key).expire_date > timezone.now()

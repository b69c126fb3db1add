"""Channel and HTTP sessions on Django's real session engines, and enforce_ordering on the
in-memory layer, called directly and run by a real worker."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models.signals import pre_save

from channels_classic import route
from channels_classic.exceptions import ConsumeLater, UnsuitableSessionEngine
from channels_classic.interface import messages
from channels_classic.layers.facade import NON_BLOCKING_RECEIVE_TIMEOUT, ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.layers.sync import runner
from channels_classic.message import Message
from channels_classic.names import check_channel_name
from channels_classic.ordering import CHECK_KEY, ORIGINAL_CHANNEL, wait_channel_name
from channels_classic.sessions import (
    NEXT_ORDER_KEY,
    channel_and_http_session,
    channel_session,
    channel_session_key,
    enforce_ordering,
    http_session,
    session_for_reply_channel,
)
from channels_classic.worker import Worker

CACHE_ENGINE = "django.contrib.sessions.backends.cache"
DB_ENGINE = "django.contrib.sessions.backends.db"
SIGNED_COOKIES_ENGINE = "django.contrib.sessions.backends.signed_cookies"


@pytest.fixture(autouse=True)
def session_settings(settings):
    """Sessions in the db engine unless a test says otherwise, and an in-process cache."""
    settings.SESSION_ENGINE = DB_ENGINE
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if hasattr(settings, "CHANNEL_SESSION_ENGINE"):
        del settings.CHANNEL_SESSION_ENGINE
    return settings


def make_layer(*routes: Any) -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(), alias="test", routing=list(routes))


def connect(
    layer: ClassicLayer, reply: str, *, query: bytes = b"", cookie: str | None = None
) -> Message:
    """A websocket.connect Message as the interface server builds it."""
    headers = [[b"host", b"testserver"]]
    if cookie is not None:
        headers.append([b"cookie", cookie.encode("latin-1")])
    scope = {"path": "/chat/", "query_string": query, "headers": headers, "scheme": "ws"}
    return Message(messages.websocket_connect(scope, reply), "websocket.connect", layer)


def receive(layer: ClassicLayer, reply: str, order: int, text: str = "hi") -> Message:
    content = messages.websocket_receive(reply, "/chat/", order, {"text": text})
    return Message(dict(content), "websocket.receive", layer)


def disconnect(layer: ClassicLayer, reply: str, order: int) -> Message:
    content = messages.websocket_disconnect(reply, "/chat/", 1000, order)
    return Message(dict(content), "websocket.disconnect", layer)


def http_session_with(data: dict[str, Any]) -> str:
    """Creates a session in the db engine (as SessionMiddleware would) and returns its key."""
    session = DbSessionStore()
    session.update(data)
    session.create()
    return session.session_key


@contextmanager
def running_worker(layer: ClassicLayer, threads: int, **options: Any) -> Iterator[Worker]:
    """A real worker on ``layer`` in a thread of its own, stopped (through its loop) after."""
    worker = Worker(layer, threads=threads, install_signals=False, **options)
    thread = threading.Thread(target=worker.run, name="test-worker")
    thread.start()
    try:
        yield worker
    finally:
        runner.loop.call_soon_threadsafe(worker.stop)
        thread.join(10)
        assert not thread.is_alive()


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
    """Clearing the session (say, logging the socket out) persists (fixed 1.x quirk Q11)."""
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
    with pytest.raises(ValueError, match=r"@channel_session found no Message .*got str, int"):
        consumer("websocket.connect", 1)
    layer = make_layer()
    with pytest.raises(ValueError, match=r"needs a reply_channel.*'test\.plain' has none"):
        consumer(Message({"x": 1}, "test.plain", layer))


@pytest.mark.django_db
def test_a_concurrent_session_create_raises_consume_later():
    """When another worker creates the socket's session between the existence check and the
    create, the message is handed back with ConsumeLater instead of overwriting it."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    key = channel_session_key(reply)
    ran = []

    def first_create_loses(sender, instance, **kwargs):
        if instance.session_key == key and not ran:
            ran.append("other worker")
            DbSessionStore(session_key=key).save(must_create=True)

    pre_save.connect(first_create_loses, sender=Session)
    try:
        with pytest.raises(ConsumeLater):
            channel_session(lambda message: ran.append("consumer"))(connect(layer, reply))
    finally:
        pre_save.disconnect(first_create_loses, sender=Session)
    assert ran == ["other worker"]


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
    key = channel_session_key(reply)
    raced = []

    def create_in_another_connection():
        other = session_for_reply_channel(reply)
        other["created by"] = "the other worker"
        other.save(must_create=True)
        connection.close()

    def another_worker_creates_it_first(sender, instance, **kwargs):
        if instance.session_key == key and not raced:
            raced.append(True)
            thread = threading.Thread(target=create_in_another_connection)
            thread.start()
            thread.join()

    pre_save.connect(another_worker_creates_it_first, sender=Session)
    try:
        layer.send("websocket.connect", dict(connect(layer, reply).content))
        Worker(layer, threads=2, install_signals=False, stop_when_idle=True).run()
    finally:
        pre_save.disconnect(another_worker_creates_it_first, sender=Session)
    assert raced == [True]
    assert runs == [(1, {"created by": "the other worker"})]


# @http_session and @channel_and_http_session


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


# @enforce_ordering


@pytest.fixture
def cache_sessions(settings):
    """Channel sessions in the cache engine (LocMemCache: shared by the worker's threads)."""
    settings.CHANNEL_SESSION_ENGINE = CACHE_ENGINE
    return settings


def test_wait_channels_are_valid_normal_channel_names():
    """A parked message's wait channel is a normal channel (no '!' or '?', X5) any worker can
    receive on, of one per socket and order, short enough for any reply channel."""
    for reply in ("daphne.response.abc!def", "r!" + "x" * 97):
        name = wait_channel_name(reply, 12345)
        assert check_channel_name(name) == name
        assert name.startswith("__wait__.") and name.endswith(".12345") and "!" not in name
    assert (
        len({wait_channel_name("a!1", 1), wait_channel_name("a!2", 1), wait_channel_name("a!1", 2)})
        == 3
    )


def test_enforce_ordering_refuses_slight_ordering_and_messages_without_order(cache_sessions):
    """slight=True was removed in 1.0; a message with no integer order cannot be ordered."""
    with pytest.raises(ValueError, match=r"slight=True\) was removed in Channels 1\.0"):
        enforce_ordering(slight=True)
    consumer = enforce_ordering()(lambda message: None)
    layer = make_layer()
    message = Message({"reply_channel": "r!1"}, "test.unordered", layer)
    with pytest.raises(
        ValueError, match=r"needs an integer 'order' key.*'test\.unordered' has None"
    ):
        consumer(message)


def ordered_recorder(seen: list[int]) -> Callable[[Message], None]:
    @enforce_ordering
    def consumer(message):
        seen.append(message["order"])

    return consumer


def test_an_early_message_waits_for_the_one_before_it(cache_sessions):
    """An early message is parked in the wait channel, not run; the consumer of the message
    before it sends it back to its channel, without the parking key."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    seen: list[int] = []
    consumer = ordered_recorder(seen)
    consumer(connect(layer, reply))
    consumer(receive(layer, reply, 2, "second"))
    assert seen == [0]
    consumer(receive(layer, reply, 1, "first"))
    channel, released = layer.receive(["websocket.receive"], block=True)
    assert (channel, released["order"], released["text"]) == ("websocket.receive", 2, "second")
    assert ORIGINAL_CHANNEL not in released
    consumer(Message(released, channel, layer))
    assert seen == [0, 1, 2]
    assert session_for_reply_channel(reply)[NEXT_ORDER_KEY] == 3


def test_a_message_whose_turn_is_past_is_dropped_with_a_warning(cache_sessions, caplog):
    """A duplicate (or a message that was skipped as missing and came late) does not run."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    seen: list[int] = []
    consumer = ordered_recorder(seen)
    for message in (connect(layer, reply), receive(layer, reply, 1), receive(layer, reply, 1)):
        consumer(message)
    assert seen == [0, 1]
    assert "dropped a message with order 1 on websocket.receive: the socket had moved on to 2" in (
        caplog.text
    )


def test_more_early_messages_than_a_channel_holds_all_wait(cache_sessions):
    """150 messages coming before the socket's connect (more than the 100 a channel holds)
    all wait, then run in order: each waits in a channel of its own."""
    cache_sessions.CHANNELS_ORDERING_GAP_TIMEOUT = 60
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    seen: list[int] = []
    consumer = ordered_recorder(seen)
    for order in range(150, 0, -1):
        consumer(receive(layer, reply, order))
    assert seen == []
    consumer(connect(layer, reply))
    while len(seen) < 151:
        channel, released = layer.receive(["websocket.receive"], block=True)
        consumer(Message(released, channel, layer))
    assert seen == list(range(151))


def test_consume_later_keeps_the_socket_at_its_order(cache_sessions):
    """A consumer's ConsumeLater does not move the socket on: later messages wait for the
    retried one."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    cache_sessions.CHANNELS_ORDERING_GAP_TIMEOUT = 60
    seen: list[int] = []
    tries: list[int] = []

    @enforce_ordering
    def consumer(message):
        if message["order"] == 1:
            tries.append(1)
            if len(tries) == 1:
                raise ConsumeLater
        seen.append(message["order"])

    consumer(connect(layer, reply))
    with pytest.raises(ConsumeLater):
        consumer(receive(layer, reply, 1))
    consumer(receive(layer, reply, 2))
    consumer(receive(layer, reply, 1))
    channel, released = layer.receive(["websocket.receive"], block=True)
    consumer(Message(released, channel, layer))
    assert seen == [0, 1, 2]


def test_a_gap_check_comes_back_on_the_channel_and_skips_the_missing_message(
    cache_sessions, caplog
):
    """An early message arms a check that arrives on its channel after the gap timeout; if the
    socket still waits for the same order, that order is skipped with a warning and the
    early message is released."""
    cache_sessions.CHANNELS_ORDERING_GAP_TIMEOUT = 0.2
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    seen: list[int] = []
    consumer = ordered_recorder(seen)
    consumer(connect(layer, reply))
    start = time.monotonic()
    consumer(receive(layer, reply, 2))
    channel, check = layer.receive(["websocket.receive"], block=True)
    assert time.monotonic() - start >= 0.19
    assert (check[CHECK_KEY], check["order"], check["reply_channel"]) == (1, 2, reply)
    consumer(Message(check, channel, layer))
    assert seen == [0]
    assert "no message with order 1 came within 0.2 s of a later one; skipped" in caplog.text
    channel, released = layer.receive(["websocket.receive"], block=True)
    assert CHECK_KEY not in released
    consumer(Message(released, channel, layer))
    assert seen == [0, 2]


@pytest.mark.parametrize("value", [0, -1, "soon", float("inf")])
def test_the_gap_timeout_setting_is_checked(cache_sessions, value):
    """A gap timeout that is not a positive number is refused, naming the setting."""
    cache_sessions.CHANNELS_ORDERING_GAP_TIMEOUT = value
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    consumer = ordered_recorder([])
    consumer(connect(layer, reply))
    with pytest.raises(
        ImproperlyConfigured, match=r"settings\.CHANNELS_ORDERING_GAP_TIMEOUT = .* is invalid"
    ):
        consumer(receive(layer, reply, 2))


def test_a_worker_runs_each_sockets_messages_in_order(cache_sessions, caplog):
    """Messages sent shuffled, for several sockets, reach the consumers of a multi-threaded
    worker in each socket's order, connect and disconnect included, with no gap skipped."""
    cache_sessions.CHANNELS_ORDERING_GAP_TIMEOUT = 60
    lock = threading.Lock()
    seen: dict[str, list[tuple[str, int]]] = defaultdict(list)
    done = threading.Event()
    total = 4 * 6

    @enforce_ordering
    def consumer(message):
        time.sleep(0.002)  # widen the window in which other threads run other sockets
        with lock:
            seen[message.reply_channel.name].append((message.channel.name, message["order"]))
            if sum(map(len, seen.values())) == total:
                done.set()

    layer = make_layer(
        route("websocket.connect", consumer),
        route("websocket.receive", consumer),
        route("websocket.disconnect", consumer),
    )
    sent = []
    for _ in range(4):
        reply = layer.new_channel("daphne.response")
        sent += [connect(layer, reply), *(receive(layer, reply, n) for n in range(1, 5))]
        sent.append(disconnect(layer, reply, 5))
    random.Random(7).shuffle(sent)
    for message in sent:
        layer.send(message.channel.name, dict(message.content))
    dispatched: dict[str, list[int]] = defaultdict(list)

    def record_dispatch(channel, message):
        if CHECK_KEY not in message.content:
            dispatched[message.reply_channel.name].append(message["order"])

    with running_worker(layer, threads=4, callback=record_dispatch):
        assert done.wait(10), dict(seen)
    assert any(orders != sorted(orders) for orders in dispatched.values())
    expected = [("websocket.connect", 0)]
    expected += [("websocket.receive", n) for n in range(1, 5)]
    expected.append(("websocket.disconnect", 5))
    assert len(seen) == 4
    assert all(messages_seen == expected for messages_seen in seen.values()), dict(seen)
    assert "skipped" not in caplog.text


def test_two_workers_never_run_one_sockets_messages_at_once(cache_sessions):
    """Two workers taking one socket's messages from the same channels run them one at a
    time and in order, which a single worker's own serialisation cannot give."""
    cache_sessions.CHANNELS_ORDERING_GAP_TIMEOUT = 60
    lock = threading.Lock()
    running: dict[str, int] = defaultdict(int)
    overlaps: list[str] = []
    seen: dict[str, list[int]] = defaultdict(list)

    @enforce_ordering
    def consumer(message):
        reply = message.reply_channel.name
        with lock:
            running[reply] += 1
            overlaps.extend([reply] if running[reply] > 1 else [])
        time.sleep(0.002)
        with lock:
            seen[reply].append(message["order"])
            running[reply] -= 1

    layer = make_layer(route("websocket.connect", consumer), route("websocket.receive", consumer))
    sent = []
    for _ in range(3):
        reply = layer.new_channel("daphne.response")
        sent += [connect(layer, reply), *(receive(layer, reply, n) for n in range(1, 9))]
    random.Random(3).shuffle(sent)
    for message in sent:
        layer.send(message.channel.name, dict(message.content))
    workers = [
        Worker(layer, threads=3, install_signals=False, stop_when_idle=True) for _ in range(2)
    ]
    threads = [threading.Thread(target=worker.run) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert all(worker.handled for worker in workers)
    assert overlaps == []
    assert list(seen.values()) == [list(range(9))] * 3


def test_an_in_order_message_does_not_look_in_an_empty_wait_channel(cache_sessions):
    """Only a mark left by a parked successor makes the consumer receive on the wait
    channel, so in-order messages do not each pay a non-blocking receive's wait."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    consumer = ordered_recorder([])
    start = time.monotonic()
    for order in range(20):
        consumer(connect(layer, reply) if order == 0 else receive(layer, reply, order))
    assert time.monotonic() - start < 20 * NON_BLOCKING_RECEIVE_TIMEOUT / 2


def test_a_worker_skips_a_missing_message_after_the_gap_timeout(cache_sessions, caplog):
    """With order 1 lost, the worker runs 0, then after the configured wait logs the skip and
    runs the waiting 2 and 3 in order."""
    cache_sessions.CHANNELS_ORDERING_GAP_TIMEOUT = 0.3
    ran: list[tuple[int, float]] = []
    done = threading.Event()

    @enforce_ordering
    def consumer(message):
        ran.append((message["order"], time.monotonic()))
        if message["order"] == 3:
            done.set()

    layer = make_layer(route("websocket.connect", consumer), route("websocket.receive", consumer))
    reply = layer.new_channel("daphne.response")
    sent_at = time.monotonic()
    for message in (connect(layer, reply), receive(layer, reply, 3), receive(layer, reply, 2)):
        layer.send(message.channel.name, dict(message.content))
    with running_worker(layer, threads=2):
        assert done.wait(10)
    assert [order for order, _ in ran] == [0, 2, 3]
    assert ran[1][1] - sent_at >= 0.3
    assert f"socket {reply}: no message with order 1 came within 0.3 s of a later one" in (
        caplog.text
    )

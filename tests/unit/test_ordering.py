"""enforce_ordering on the in-memory layer: called directly, and run by real workers."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from channels_classic import route, sessions
from channels_classic.defaults import ORDERING_GAP_TIMEOUT
from channels_classic.exceptions import ConsumeLater
from channels_classic.layers.facade import NON_BLOCKING_RECEIVE_TIMEOUT
from channels_classic.message import Message
from channels_classic.names import check_channel_name
from channels_classic.ordering import (
    CHECK_KEY,
    NEXT_ORDER_KEY,
    ORIGINAL_CHANNEL,
    enforce_ordering,
    gap_timeout,
    wait_channel_name,
)
from channels_classic.sessions import session_for_reply_channel
from channels_classic.worker import Worker
from tests.support.sessions import (
    CACHE_ENGINE,
    connect,
    disconnect,
    keep_sessions_in,
    make_layer,
    receive,
    running_worker,
    send_all,
)


@pytest.fixture(autouse=True)
def cache_sessions(settings):
    """Channel sessions in the cache engine (LocMemCache: shared by the worker's threads)."""
    return keep_sessions_in(settings, channel_engine=CACHE_ENGINE)


def test_wait_channels_are_valid_normal_channel_names():
    """A parked message's wait channel is a normal channel (no '!', and no '?', which channels 4
    refuses) any worker can receive on, of one per socket and order, short enough for any
    reply channel."""
    for reply in ("daphne.response.abc!def", "r!" + "x" * 97):
        name = wait_channel_name(reply, 12345)
        assert check_channel_name(name) == name
        assert name.startswith("__wait__.") and name.endswith(".12345") and "!" not in name
    assert (
        len({wait_channel_name("a!1", 1), wait_channel_name("a!2", 1), wait_channel_name("a!1", 2)})
        == 3
    )


def test_enforce_ordering_is_importable_from_sessions_as_in_1x():
    """``channels.sessions.enforce_ordering`` was its 1.x home; it is the same decorator."""
    assert sessions.enforce_ordering is enforce_ordering
    with pytest.raises(
        AttributeError, match=r"channels_classic\.sessions' has no attribute 'nope'"
    ):
        sessions.nope  # noqa: B018


def test_enforce_ordering_refuses_slight_ordering_and_messages_without_order():
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


def test_an_early_message_waits_for_the_one_before_it():
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


def test_a_message_whose_turn_is_past_is_dropped_with_a_warning(caplog):
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


def test_more_early_messages_than_a_channel_holds_all_wait(settings):
    """150 messages coming before the socket's connect (more than the 100 a channel holds)
    all wait, then run in order: each waits in a channel of its own."""
    settings.CHANNELS_ORDERING_GAP_TIMEOUT = 60
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


def test_consume_later_keeps_the_socket_at_its_order(settings):
    """A consumer's ConsumeLater does not move the socket on: later messages wait for the
    retried one."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    settings.CHANNELS_ORDERING_GAP_TIMEOUT = 60
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


def test_a_gap_check_comes_back_on_the_channel_and_skips_the_missing_message(settings, caplog):
    """An early message arms a check that arrives on its channel after the gap timeout; if the
    socket still waits for the same order, that order is skipped with a warning and the
    early message is released."""
    settings.CHANNELS_ORDERING_GAP_TIMEOUT = 0.2
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
    assert "is the websocket.connect consumer decorated" not in caplog.text
    channel, released = layer.receive(["websocket.receive"], block=True)
    assert CHECK_KEY not in released
    consumer(Message(released, channel, layer))
    assert seen == [0, 2]


def test_a_missing_connect_is_skipped_with_a_hint_about_its_decorator(settings, caplog):
    """When order 0 is the one missing, the skip warning asks whether the websocket.connect
    consumer is decorated too (the usual mistake, SE6)."""
    settings.CHANNELS_ORDERING_GAP_TIMEOUT = 0.1
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    seen: list[int] = []
    consumer = ordered_recorder(seen)
    consumer(receive(layer, reply, 1))
    channel, check = layer.receive(["websocket.receive"], block=True)
    consumer(Message(check, channel, layer))
    assert (
        f"ordering: socket {reply}: no message with order 0 came within 0.1 s of a later one; "
        "skipped, running the waiting messages from order 1 (is the websocket.connect "
        "consumer decorated with @enforce_ordering too?)"
    ) in caplog.text
    channel, released = layer.receive(["websocket.receive"], block=True)
    consumer(Message(released, channel, layer))
    assert seen == [1]


def test_the_gap_timeout_follows_overridden_settings(settings):
    """The gap timeout is read once, and read again when the setting changes (tests)."""
    assert gap_timeout() == ORDERING_GAP_TIMEOUT
    settings.CHANNELS_ORDERING_GAP_TIMEOUT = "2.5"
    assert gap_timeout() == 2.5
    with override_settings(CHANNELS_ORDERING_GAP_TIMEOUT=4):
        assert gap_timeout() == 4.0
    assert gap_timeout() == 2.5


@pytest.mark.parametrize("value", [0, -1, "soon", float("inf")])
def test_the_gap_timeout_setting_is_checked(settings, value):
    """A gap timeout that is not a positive number is refused, naming the setting."""
    settings.CHANNELS_ORDERING_GAP_TIMEOUT = value
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    consumer = ordered_recorder([])
    consumer(connect(layer, reply))
    with pytest.raises(
        ImproperlyConfigured, match=r"settings\.CHANNELS_ORDERING_GAP_TIMEOUT = .* is invalid"
    ):
        consumer(receive(layer, reply, 2))


def test_a_worker_runs_each_sockets_messages_in_order(settings, caplog):
    """Messages sent shuffled, for several sockets, reach the consumers of a multi-threaded
    worker in each socket's order, connect and disconnect included, with no gap skipped."""
    settings.CHANNELS_ORDERING_GAP_TIMEOUT = 60
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
    send_all(layer, *sent)
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


def test_two_workers_never_run_one_sockets_messages_at_once(settings):
    """Two workers taking one socket's messages from the same channels run them one at a
    time and in order, which a single worker's own serialisation cannot give."""
    settings.CHANNELS_ORDERING_GAP_TIMEOUT = 60
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
    send_all(layer, *sent)
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


def test_an_in_order_message_does_not_look_in_an_empty_wait_channel():
    """Only a mark left by a parked successor makes the consumer receive on the wait
    channel, so in-order messages do not each pay a non-blocking receive's wait."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    consumer = ordered_recorder([])
    start = time.monotonic()
    for order in range(20):
        consumer(connect(layer, reply) if order == 0 else receive(layer, reply, order))
    assert time.monotonic() - start < 20 * NON_BLOCKING_RECEIVE_TIMEOUT / 2


def test_a_worker_skips_a_missing_message_after_the_gap_timeout(settings, caplog):
    """With order 1 lost, the worker runs 0, then after the configured wait logs the skip and
    runs the waiting 2 and 3 in order."""
    settings.CHANNELS_ORDERING_GAP_TIMEOUT = 0.3
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
    send_all(layer, connect(layer, reply), receive(layer, reply, 3), receive(layer, reply, 2))
    with running_worker(layer, threads=2):
        assert done.wait(10)
    assert [order for order, _ in ran] == [0, 2, 3]
    assert ran[1][1] - sent_at >= 0.3
    assert f"socket {reply}: no message with order 1 came within 0.3 s of a later one" in (
        caplog.text
    )


def test_the_1x_helpers_are_importable_from_sessions():
    """requeue_messages() sends back the parked message whose turn it is; wait_channel_name()
    without an order names no channel here and says what to pass."""
    assert sessions.wait_channel_name is wait_channel_name
    with pytest.raises(ValueError, match=r"names no channel: each early message .* give its"):
        sessions.wait_channel_name("daphne.response.a!b")
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    seen: list[int] = []
    consumer = ordered_recorder(seen)
    consumer(receive(layer, reply, 2, "early"))
    assert seen == [] and layer.receive(["websocket.receive"]) == (None, None)
    session = session_for_reply_channel(reply)
    session[NEXT_ORDER_KEY] = 2  # orders 0 and 1 ran elsewhere
    session.save()
    sessions.requeue_messages(receive(layer, reply, 3))
    channel, released = layer.receive(["websocket.receive"], block=True)
    assert (channel, released["order"], released["text"]) == ("websocket.receive", 2, "early")

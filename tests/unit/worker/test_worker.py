"""The worker loop, run for real on the in-memory layer and bounded with stop_when_idle."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from channels_classic import Channel, route
from channels_classic.exceptions import ConsumeLater, DenyConnection
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.signals import consumer_finished, consumer_started, worker_ready
from channels_classic.worker import base as worker_module
from channels_classic.worker.base import (
    REQUEUE_ATTEMPTS,
    REQUEUE_RETRY_WAIT,
    Worker,
    select_channels,
)


def make_layer(*routes, **config) -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(**config), alias="test", routing=list(routes))


def run(layer: ClassicLayer, **options) -> Worker:
    worker = Worker(layer, install_signals=False, stop_when_idle=True, **options)
    worker.run()
    return worker


def replies(layer: ClassicLayer, channel: str) -> list[dict]:
    received = []
    while (message := layer.receive([channel])[1]) is not None:
        received.append(message)
    return received


def test_routed_consumer_runs_and_its_sends_are_flushed():
    """A message on a routed channel reaches its consumer with the route's kwargs; what it
    sends reaches the reply channel after it returns."""

    def echo(message, room):
        message.reply_channel.send({"text": f"{room}: {message['text']}"})

    layer = make_layer(route("websocket.receive", echo, path=r"^/chat/(?P<room>\w+)/$"))
    layer.send("websocket.receive", {"reply_channel": "r!1", "path": "/chat/lobby/", "text": "hi"})
    worker = run(layer)
    assert worker.handled == 1
    assert replies(layer, "r!1") == [{"text": "lobby: hi"}]


def test_sends_are_flushed_even_when_the_consumer_raises(caplog):
    """A crashing consumer is logged with its name and channel; its sends still go out and
    the worker carries on with the next message."""

    def crash(message):
        message.reply_channel.send({"text": "before the crash"})
        raise RuntimeError("boom")

    layer = make_layer(route("test.crash", crash))
    layer.send("test.crash", {"reply_channel": "r!1"})
    layer.send("test.crash", {"reply_channel": "r!2"})
    worker = run(layer)
    assert worker.handled == 2
    assert replies(layer, "r!1") == [{"text": "before the crash"}]
    assert ".<locals>.crash failed on a message from test.crash" in caplog.text
    assert "RuntimeError: boom" in caplog.text


def test_deny_connection_closes_the_socket(caplog):
    """DenyConnection on websocket.connect sends close; elsewhere it is logged, not fatal."""

    def deny(message):
        raise DenyConnection

    layer = make_layer(route("websocket.connect", deny), route("websocket.receive", deny))
    layer.send("websocket.connect", {"reply_channel": "r!1", "path": "/"})
    layer.send("websocket.receive", {"reply_channel": "r!2", "path": "/", "text": "x"})
    run(layer)
    assert replies(layer, "r!1") == [{"close": True}]
    assert replies(layer, "r!2") == []
    assert "it only refuses sockets from websocket.connect consumers" in caplog.text


def test_consume_later_requeues_up_to_the_retry_limit(caplog):
    """ConsumeLater puts the message back; after message_retries it is dropped with a
    warning."""
    attempts = []

    def later(message):
        attempts.append(message.get("__retries__", 0))
        raise ConsumeLater

    layer = make_layer(route("test.later", later))
    layer.send("test.later", {})
    run(layer, message_retries=3)
    assert attempts == [0, 1, 2, 3]
    assert "dropped after 3 ConsumeLater retries" in caplog.text


def test_the_last_allowed_retry_is_marked_doomed():
    """A message on its last allowed ConsumeLater retry has __doomed__ set."""
    doomed = []

    def later(message):
        doomed.append(getattr(message, "__doomed__", False))
        raise ConsumeLater

    layer = make_layer(route("test.later", later))
    layer.send("test.later", {})
    run(layer, message_retries=2)
    assert doomed == [False, False, True]


def test_consume_later_waits_for_room_on_a_full_channel(caplog):
    """A ConsumeLater message whose channel is full is put back once room is made within the
    retries, not dropped at the first ChannelFull."""
    attempts = []
    drained = []

    def later(message):
        attempts.append(message.get("__retries__", 0))
        if len(attempts) == 1:
            layer.send("test.later", {"filler": True})  # the channel (capacity 1) is full now
            delay = REQUEUE_RETRY_WAIT * REQUEUE_ATTEMPTS / 4
            threading.Timer(delay, lambda: drained.append(layer.receive(["test.later"]))).start()
            raise ConsumeLater

    layer = make_layer(route("test.later", later), channel_capacity={"test.later": 1})
    layer.send("test.later", {})
    run(layer)
    assert drained == [("test.later", {"filler": True})]
    assert attempts == [0, 1]
    assert "could not" not in caplog.text and "dropped" not in caplog.text


def test_unrouted_messages_are_logged_and_dropped(caplog):
    """A message no route matches is reported with a hint at channel_routing."""
    layer = make_layer(route("test.only", lambda message: None, path=r"^/x/"))
    layer.send("test.only", {"path": "/y/"})
    assert run(layer).handled == 1
    assert "no route matches a message on test.only (keys: path); check channel_routing" in (
        caplog.text
    )


def test_consumer_signals_fire_around_each_consumer():
    """consumer_started and consumer_finished fire in the consumer's thread, in order."""
    events = []

    def started(**kwargs):
        events.append(("started", threading.current_thread().name))

    def finished(**kwargs):
        events.append(("finished", threading.current_thread().name))

    def consumer(message):
        events.append(("consumer", threading.current_thread().name))

    consumer_started.connect(started)
    consumer_finished.connect(finished)
    try:
        layer = make_layer(route("test.signals", consumer))
        layer.send("test.signals", {})
        run(layer)
    finally:
        consumer_started.disconnect(started)
        consumer_finished.disconnect(finished)
    assert [name for name, _ in events] == ["started", "consumer", "finished"]
    assert len({thread for _, thread in events}) == 1


def test_one_connection_never_runs_twice_at_once():
    """With several threads, messages of one reply channel run one after the other, in
    order, while other connections run alongside."""
    lock = threading.Lock()
    running: dict[str, int] = {}
    overlaps = []
    order: dict[str, list[int]] = {}

    def slow(message):
        reply = message.reply_channel.name
        with lock:
            running[reply] = running.get(reply, 0) + 1
            if running[reply] > 1:
                overlaps.append(reply)
            order.setdefault(reply, []).append(message["order"])
        time.sleep(0.01)
        with lock:
            running[reply] -= 1

    layer = make_layer(route("websocket.receive", slow))
    for n in range(10):
        for reply in ("a!1", "b!1"):
            layer.send("websocket.receive", {"reply_channel": reply, "order": n, "path": "/"})
    worker = run(layer, threads=4)
    assert worker.handled == 20
    assert overlaps == []
    assert order == {"a!1": list(range(10)), "b!1": list(range(10))}


def test_a_busy_socket_s_queue_does_not_hold_the_threads():
    """With two threads, a socket whose consumer is busy and that has many more messages
    queued does not keep another socket's message waiting: those wait without a thread."""
    ran = []
    b_ran = threading.Event()
    released = []

    def consumer(message):
        ran.append((message.reply_channel.name, message["order"]))
        if message.reply_channel.name == "b!1":
            b_ran.set()
        elif message["order"] == 0:
            released.append(b_ran.wait(5))

    layer = make_layer(route("websocket.receive", consumer))
    for n in range(6):
        layer.send("websocket.receive", {"reply_channel": "a!1", "order": n, "path": "/"})
    layer.send("websocket.receive", {"reply_channel": "b!1", "order": 0, "path": "/"})
    worker = run(layer, threads=2)
    assert worker.handled == 7
    assert released == [True]
    assert ran.index(("b!1", 0)) < ran.index(("a!1", 1))
    assert [order for reply, order in ran if reply == "a!1"] == list(range(6))


def test_max_messages_bounds_the_loop():
    """max_messages stops the worker after that many messages; the rest stay queued."""
    layer = make_layer(route("test.bounded", lambda message: None))
    for n in range(5):
        layer.send("test.bounded", {"n": n})
    worker = Worker(layer, install_signals=False, max_messages=3)
    worker.run()
    assert worker.handled == 3
    assert len(replies(layer, "test.bounded")) == 2


def test_channel_selection_and_no_channels_error():
    """--only-channels and --exclude-channels globs filter the routed channels; nothing left
    to listen on is an error that says why."""
    assert select_channels(
        ["http.request", "websocket.connect", "websocket.receive"],
        only=["websocket.*"],
        exclude=["*.connect"],
    ) == ["websocket.receive"]
    layer = make_layer(route("test.a", lambda message: None))
    with pytest.raises(ValueError, match="no channels to listen on"):
        run(layer, only_channels=["nothing.*"])


def test_sends_from_a_consumer_outside_the_outbox_use_the_worker_loop():
    """Channel.send(immediately=True) from a consumer thread goes out before it returns."""
    seen = []

    def immediate(message):
        Channel("test.side", channel_layer=message.channel_layer).send({"n": 1}, immediately=True)
        seen.append(message.channel_layer.receive(["test.side"], block=True))

    layer = make_layer(route("test.immediate", immediate))
    layer.send("test.immediate", {})
    run(layer)
    assert seen == [("test.side", {"n": 1})]


@pytest.mark.parametrize("own_loop", [True, False], ids=["run", "serve on another loop"])
def test_an_idle_worker_s_own_loop_stands_aside_for_its_consumer(monkeypatch, own_loop):
    """Run with run(), an idle worker's loop waits while the consumer it started runs (up to
    LEND_LOOP_FOR): a callback the consumer puts on the loop runs only after the consumer.
    Served on a loop that someone else runs (runserver's), it never waits."""
    monkeypatch.setattr(worker_module, "LEND_LOOP_FOR", 30.0)
    loops: list[asyncio.AbstractEventLoop] = []
    loop_ran_meanwhile: list[bool] = []

    def on_ready(sender, **kwargs):
        loops.append(asyncio.get_running_loop())

    def consumer(message):
        ran = threading.Event()
        loops[0].call_soon_threadsafe(ran.set)
        loop_ran_meanwhile.append(ran.wait(0.5))

    layer = make_layer(route("test.job", consumer))
    layer.send("test.job", {})
    worker = Worker(layer, install_signals=False, stop_when_idle=True)
    worker_ready.connect(on_ready)
    try:
        if own_loop:
            worker.run()
        else:
            asyncio.run(worker.serve())
    finally:
        worker_ready.disconnect(on_ready)
    assert worker.handled == 1
    assert loop_ran_meanwhile == [not own_loop]


def test_messages_taken_together_start_together_on_an_idle_worker(monkeypatch):
    """The loop stands aside only for a message taken alone: of two taken in one batch, the
    second starts without waiting for the first to finish."""
    monkeypatch.setattr(worker_module, "LEND_LOOP_FOR", 30.0)
    second_started = threading.Event()
    first_saw_second: list[bool] = []

    def first(message):
        first_saw_second.append(second_started.wait(5))

    def second(message):
        second_started.set()

    layer = make_layer(route("test.first", first), route("test.second", second))
    layer.send("test.first", {})
    layer.send("test.second", {})
    worker = run(layer, threads=2)
    assert worker.handled == 2
    assert first_saw_second == [True]

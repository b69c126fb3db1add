"""The worker's life around its consumers: ready signal, stopping while busy, consumers that
end the process, database connections (on the in-memory layer, the real loop)."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection

from channels_classic import route
from channels_classic.signals import consumer_finished, worker_ready
from channels_classic.worker import Worker
from tests.unit.worker.test_worker import make_layer, replies, run


def test_worker_ready_fires_with_the_worker_once_it_listens():
    """worker_ready is sent once, with the worker as sender, before any consumer runs."""
    events = []

    def ready(sender, **kwargs):
        events.append(("ready", sender))

    layer = make_layer(route("test.a", lambda message: events.append(("consumer", None))))
    layer.send("test.a", {})
    worker_ready.connect(ready)
    try:
        worker = run(layer)
    finally:
        worker_ready.disconnect(ready)
    assert events == [("ready", worker), ("consumer", None)]


def test_stopping_a_busy_worker_finishes_and_flushes_what_it_took():
    """stop() while a consumer runs: the consumer finishes, its buffered reply goes out, run()
    returns, and the messages the worker had not taken stay on the layer."""
    started, proceed = threading.Event(), threading.Event()

    def slow(message):
        started.set()
        proceed.wait(5)
        message.reply_channel.send({"text": "done"})

    layer = make_layer(route("test.slow", slow))
    for n in range(3):
        layer.send("test.slow", {"reply_channel": f"r!{n}"})
    worker = Worker(layer, install_signals=False, threads=1)

    def stop_while_busy() -> None:
        started.wait(5)
        worker.stop()
        proceed.set()

    stopper = threading.Thread(target=stop_while_busy)
    stopper.start()
    worker.run()
    stopper.join()
    assert worker.handled == 1
    assert replies(layer, "r!0") == [{"text": "done"}]
    assert [message["reply_channel"] for message in replies(layer, "test.slow")] == ["r!1", "r!2"]


@pytest.mark.parametrize("escape", [SystemExit(3), KeyboardInterrupt()])
def test_a_consumer_ending_the_process_has_its_sends_flushed_first(escape, caplog):
    """SystemExit or KeyboardInterrupt from a consumer: its buffered sends go out, the
    worker takes nothing more, finishes, and re-raises it (they are not a consumer's failure to
    log: they end the process)."""

    def leave(message):
        message.reply_channel.send({"text": "bye"})
        raise escape

    layer = make_layer(route("test.leave", leave))
    layer.send("test.leave", {"reply_channel": "r!1"})
    layer.send("test.leave", {"reply_channel": "r!2"})
    worker = Worker(layer, install_signals=False)
    with pytest.raises(type(escape)) as raised:
        worker.run()
    assert raised.value is escape
    assert replies(layer, "r!1") == [{"text": "bye"}]
    assert worker.handled == 1
    assert [message["reply_channel"] for message in replies(layer, "test.leave")] == ["r!2"]
    assert f"raised {type(escape).__name__}; stopping once what was taken is done" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_database_connections_are_checked_before_and_after_each_consumer():
    """Django's close_old_connections runs in the consumer's thread before and after every
    consumer, as around a request: a connection left in doubt (a failed query) is checked,
    and closed if it is broken or past CONN_MAX_AGE."""
    seen = []

    def failing_query(message):
        seen.append(("start", connection.errors_occurred))
        with pytest.raises(DatabaseError):
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table")

    def after(**kwargs):
        seen.append(("finished", connection.errors_occurred))
        connection.errors_occurred = True  # left in doubt for the next consumer's start

    layer = make_layer(route("test.db", failing_query))
    layer.send("test.db", {})
    layer.send("test.db", {})
    consumer_finished.connect(after)
    try:
        run(layer, threads=1)
    finally:
        consumer_finished.disconnect(after)
    assert seen == [("start", False), ("finished", False)] * 2

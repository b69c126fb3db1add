"""The delay server: request rules, storage, and the loop run for real on the in-memory layer
and the test database (bounded with stop_when_idle and wait_for)."""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from channels_classic.delay import (
    DELAY_CHANNEL,
    InvalidDelayRequest,
    delay_request,
    send_delayed,
)
from channels_classic.delay.models import DelayedMessage, pack_content, unpack_content
from channels_classic.delay.protocol import check_delay_request
from channels_classic.delay.server import CLAIM_TIME, SEND_LIMIT, DelayServer
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.layers.registry import channel_layers

#: Content a JSON column would have mangled (1.x stored delayed content as JSON).
BINARY_CONTENT = {"bytes": b"\x00\xffraw", "text": "caf\u00e9", "nested": {"parts": [b"a", "a"]}}
#: Any single test's loop or wait ends within this many seconds.
BOUND = 10


def make_layer(**capacities: int) -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(channel_capacity=capacities), alias="test")


def request(channel: str, content: dict, delay: float) -> dict:
    return {"channel": channel, "content": content, "delay": delay}


async def serve_until_idle(layer: ClassicLayer) -> DelayServer:
    server = DelayServer(layer, install_signals=False, stop_when_idle=True)
    await asyncio.wait_for(server.serve(), BOUND)
    return server


async def receive(layer: ClassicLayer, channel: str) -> dict:
    return await asyncio.wait_for(layer.channel_layer.receive(channel), BOUND)


# The request rules


def test_a_1x_request_is_accepted_as_it_is():
    """The 1.x shape passes the rules unchanged; delay_request builds the same dict."""
    message = request("test.dest", {"text": "hi"}, 1500)
    assert check_delay_request(message) == message
    assert delay_request("test.dest", {"text": "hi"}, 1500) == message


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (["test.dest"], r"must be a dict \{'channel': .*\}, got list \['test.dest'\]"),
        (
            {"channel": "test.dest", "content": {}},
            r"has keys \['channel', 'content'\] \(missing \['delay'\], unknown \[\]\)",
        ),
        (
            request("test.dest", {}, 5) | {"interval": 5},
            r"\(missing \[\], unknown \['interval'\]\); send \{'channel'",
        ),
        (request("no spaces", {}, 5), r"Bad 'channel' .*: Channel name 'no spaces' is invalid"),
        (
            request("test.dest", "hi", 5),
            r"must be the dict to deliver to 'test.dest', got str 'hi'",
        ),
        (request("test.dest", {}, -1), r"'delay' .* milliseconds, 0 or more, got -1$"),
        (request("test.dest", {}, True), r"'delay' .* got True$"),
        (request("test.dest", {}, "10"), r"'delay' .* got '10'$"),
        (request("test.dest", {}, float("inf")), r"'delay' .* got inf$"),
    ],
)
def test_bad_requests_are_refused_with_the_value_and_the_shape(message, error):
    """Each broken rule raises InvalidDelayRequest (a ValueError) showing the bad value."""
    with pytest.raises(InvalidDelayRequest, match=error) as refused:
        check_delay_request(message)
    assert isinstance(refused.value, ValueError)


def test_send_delayed_sends_a_checked_request_to_asgi_delay():
    """send_delayed puts the request on asgi.delay of the alias; a bad one raises at the call
    and sends nothing."""
    layer = make_layer()
    channel_layers.set("delaytest", layer)
    try:
        send_delayed("test.dest", BINARY_CONTENT, 250, alias="delaytest")
        with pytest.raises(InvalidDelayRequest, match="got -5"):
            send_delayed("test.dest", {}, -5, alias="delaytest")
    finally:
        channel_layers.layers.pop("delaytest")
    assert layer.receive([DELAY_CHANNEL]) == (
        DELAY_CHANNEL,
        request("test.dest", BINARY_CONTENT, 250),
    )
    assert layer.receive([DELAY_CHANNEL]) == (None, None)


# Storage


def test_stored_content_keeps_bytes_and_str_apart():
    """Packed and unpacked, bytes stay bytes and str stays str, at every depth."""
    stored = pack_content(BINARY_CONTENT)
    assert isinstance(stored, bytes)
    content = unpack_content(memoryview(stored))
    assert content == BINARY_CONTENT
    assert type(content["bytes"]) is bytes and type(content["text"]) is str
    assert [type(part) for part in content["nested"]["parts"]] == [bytes, str]


def test_content_msgpack_cannot_hold_is_refused():
    """A message holding e.g. a datetime (the in-memory layer carries one) cannot be stored."""
    with pytest.raises(InvalidDelayRequest, match=r"'content' cannot be stored \(.*datetime"):
        pack_content({"when": datetime.datetime(2030, 1, 1)})


def test_a_delay_past_year_9999_is_refused():
    """A delay whose due date cannot be represented is refused, not an OverflowError."""
    with pytest.raises(InvalidDelayRequest, match="ends past the year 9999; send a shorter one"):
        DelayedMessage.from_request(request("test.dest", {}, 1e17), timezone.now())


@pytest.mark.django_db
def test_due_messages_come_earliest_first_and_in_arrival_order():
    """due(now) leaves out later messages and orders by due date, then by arrival."""
    now = timezone.now()
    for name, offset in [("later", 2), ("b", -1), ("a", -3), ("c", -1)]:
        DelayedMessage.objects.create(
            due_date=now + timedelta(seconds=offset),
            channel_name=f"test.{name}",
            content=pack_content({}),
        )
    due = DelayedMessage.objects.due(now)
    assert [row.channel_name for row in due] == ["test.a", "test.b", "test.c"]


# The server


@pytest.mark.django_db(transaction=True)
async def test_bytes_survive_the_delay():
    """A delayed message with bytes and str values arrives as it was sent; the stored row
    holds msgpack, not text."""
    layer = make_layer()
    server = DelayServer(layer, install_signals=False)
    assert await server.accept([request("test.dest", BINARY_CONTENT, 0)]) == 1
    row = await DelayedMessage.objects.aget()
    assert bytes(row.content) == pack_content(BINARY_CONTENT)
    await serve_until_idle(layer)
    content = await receive(layer, "test.dest")
    assert content == BINARY_CONTENT
    assert type(content["bytes"]) is bytes and type(content["text"]) is str
    assert await DelayedMessage.objects.acount() == 0


@pytest.mark.django_db(transaction=True)
async def test_messages_arrive_when_due_in_due_order():
    """Requests with delays 400, 0 and 200 ms arrive in due order, none before its delay."""
    layer = make_layer()
    sent_at = time.monotonic()
    for delay in (400, 0, 200):
        await layer.channel_layer.send(DELAY_CHANNEL, request("test.dest", {"delay": delay}, delay))
    serving = asyncio.ensure_future(serve_until_idle(layer))
    arrivals = []
    for _ in range(3):
        content = await receive(layer, "test.dest")
        arrivals.append((content["delay"], time.monotonic() - sent_at))
    server = await serving
    assert [delay for delay, _ in arrivals] == [0, 200, 400]
    for delay, elapsed in arrivals:
        assert delay / 1000 <= elapsed < delay / 1000 + 1
    assert (server.stored, server.sent) == (3, 3)


@pytest.mark.django_db(transaction=True)
async def test_a_full_destination_is_retried_a_second_later(caplog):
    """A message meeting a full channel stays stored, due 1 s later, with a warning; it is
    sent once the channel has room and that second has passed."""
    layer = make_layer(**{"test.full": 1})
    await layer.channel_layer.send("test.full", {"n": 0})
    server = DelayServer(layer, install_signals=False)
    await server.accept([request("test.full", {"n": 1}, 0)])
    before = timezone.now()
    next_due = await server.send_due()
    after = timezone.now()
    row = await DelayedMessage.objects.aget()
    assert next_due == row.due_date
    assert before + timedelta(seconds=1) <= row.due_date <= after + timedelta(seconds=1)
    assert "delay: channel 'test.full' is full; its message is retried in 1.0 s" in caplog.text
    assert await receive(layer, "test.full") == {"n": 0}
    assert await server.send_due() == row.due_date  # not due yet: nothing sent
    started = time.monotonic()
    await serve_until_idle(layer)
    assert await receive(layer, "test.full") == {"n": 1}
    assert 0.5 < time.monotonic() - started < 2
    assert await DelayedMessage.objects.acount() == 0


@pytest.mark.django_db(transaction=True)
async def test_bad_messages_are_logged_and_skipped(caplog):
    """Bad requests and an unreadable stored row are logged and dropped; the messages around
    them are delivered and the server goes on."""
    layer = make_layer()
    await DelayedMessage.objects.acreate(
        due_date=timezone.now(), channel_name="test.dest", content=b"\xc1"
    )
    for message in [
        request("test.dest", {"n": 1}, 0),
        {"channel": "test.dest", "content": {"n": "no delay"}},
        request("test.dest", "not a dict", 0),
        request("test.dest", {"when": datetime.datetime(2030, 1, 1)}, 0),
        request("test.dest", {"n": 2}, 0),
    ]:
        await layer.channel_layer.send(DELAY_CHANNEL, message)
    server = await serve_until_idle(layer)
    assert [await receive(layer, "test.dest") for _ in range(2)] == [{"n": 1}, {"n": 2}]
    assert (server.stored, server.sent) == (2, 2)
    assert await DelayedMessage.objects.acount() == 0
    skipped = [r.getMessage() for r in caplog.records if "skipped a message" in r.getMessage()]
    assert len(skipped) == 3
    assert "(missing ['delay'], unknown [])" in skipped[0]
    assert "must be the dict to deliver to 'test.dest', got str 'not a dict'" in skipped[1]
    assert "'content' cannot be stored" in skipped[2]
    assert "delay: dropped the message for 'test.dest': it cannot be sent" in caplog.text


@pytest.mark.django_db(transaction=True)
async def test_stop_ends_a_waiting_server_without_taking_more():
    """stop() while the server waits ends it at once; a request sent afterwards stays on the
    layer for the next server."""
    layer = make_layer()
    server = DelayServer(layer, install_signals=False)
    serving = asyncio.ensure_future(server.serve())
    await layer.channel_layer.send(DELAY_CHANNEL, request("test.dest", {"n": 1}, 0))
    assert await receive(layer, "test.dest") == {"n": 1}
    server.stop()
    await asyncio.wait_for(serving, 1)
    await layer.channel_layer.send(DELAY_CHANNEL, request("test.dest", {"n": 2}, 0))
    assert await receive(layer, DELAY_CHANNEL) == request("test.dest", {"n": 2}, 0)
    assert await DelayedMessage.objects.acount() == 0


def due_rows(count: int, channel: str = "test.dest") -> list[DelayedMessage]:
    """``count`` stored messages {"n": 0...}, all due now."""
    now = timezone.now()
    return [
        DelayedMessage(due_date=now, channel_name=channel, content=pack_content({"n": n}))
        for n in range(count)
    ]


def drain(layer: ClassicLayer, channel: str) -> list[dict]:
    received = []
    while (content := layer.receive([channel])[1]) is not None:
        received.append(content)
    return received


@pytest.mark.django_db(transaction=True)
async def test_two_servers_on_one_database_send_each_message_once():
    """Two servers sending the same due messages at once (both read all of them) each claim
    a message before sending it: every message arrives once, and the table is empty."""
    layer = make_layer(**{"test.dest": 1000})
    await DelayedMessage.objects.abulk_create(due_rows(60))
    first, second = (DelayServer(layer, install_signals=False) for _ in range(2))
    await asyncio.wait_for(asyncio.gather(first.send_due(), second.send_due()), BOUND)
    received = await sync_to_async(drain)(layer, "test.dest")
    assert sorted(content["n"] for content in received) == list(range(60))
    assert first.sent + second.sent == 60
    assert await DelayedMessage.objects.acount() == 0


@pytest.mark.django_db(transaction=True)
async def test_a_claimed_message_is_left_to_its_server_until_the_claim_is_over():
    """A message another server claimed is not sent; once its claim is over (that server
    died) it is due again and sent."""
    layer = make_layer()
    (row,) = await DelayedMessage.objects.abulk_create(due_rows(1))
    claiming, other = (DelayServer(layer, install_signals=False) for _ in range(2))
    assert await claiming._claim(row)
    claimed = await DelayedMessage.objects.aget()
    assert claimed.due_date >= row.due_date + CLAIM_TIME
    assert await other.send_due() == claimed.due_date
    assert other.sent == 0
    await DelayedMessage.objects.filter(pk=row.pk).aupdate(due_date=timezone.now())
    await other.send_due()
    assert (other.sent, await receive(layer, "test.dest")) == (1, {"n": 0})


@pytest.mark.django_db(transaction=True)
async def test_a_round_with_a_backlog_still_takes_the_waiting_requests():
    """While more messages are due than one round sends, each round still takes (without
    waiting) the requests waiting on asgi.delay, so the channel cannot fill up."""
    layer = make_layer(**{"test.dest": 1000})
    await DelayedMessage.objects.abulk_create(due_rows(SEND_LIMIT + 5))
    await layer.channel_layer.send(DELAY_CHANNEL, request("test.later", {"n": "new"}, 60_000))
    server = DelayServer(layer, install_signals=False)
    started = time.monotonic()
    assert await asyncio.wait_for(server._round(), BOUND) is False
    assert time.monotonic() - started < BOUND / 2
    assert (server.sent, server.stored) == (SEND_LIMIT, 1)
    assert await layer.channel_layer.receive_ready([DELAY_CHANNEL]) == []
    assert await DelayedMessage.objects.filter(channel_name="test.later").aexists()


class _LogSeen(logging.Handler):
    """Sets ``seen`` when a record containing ``text`` is logged (in the loop's thread)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


@pytest.mark.django_db(transaction=True)
async def test_requests_that_cannot_be_stored_are_put_back_on_stop(caplog):
    """While the database refuses inserts, the round is retried with the error logged; on
    stop the requests taken are put back on asgi.delay, not lost."""
    table = DelayedMessage._meta.db_table
    refuse = f"CREATE TRIGGER refuse BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'no'); END"
    await sync_to_async(_execute)(refuse)
    layer = make_layer()
    server = DelayServer(layer, install_signals=False)
    watcher = _LogSeen("delay: IntegrityError: no; retrying in 0.2 s")
    logging.getLogger("channels_classic.delay.server").addHandler(watcher)
    try:
        serving = asyncio.ensure_future(server.serve())
        await layer.channel_layer.send(DELAY_CHANNEL, request("test.dest", {"n": 1}, 0))
        await asyncio.wait_for(watcher.seen.wait(), BOUND)
        server.stop()
        await asyncio.wait_for(serving, BOUND)
    finally:
        logging.getLogger("channels_classic.delay.server").removeHandler(watcher)
        await sync_to_async(_execute)("DROP TRIGGER refuse")
    assert "delay: IntegrityError: no; retrying in 0.1 s" in caplog.text
    assert await receive(layer, DELAY_CHANNEL) == request("test.dest", {"n": 1}, 0)
    assert server.stored == 0


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


# The command


def test_rundelay_refuses_the_in_memory_layer(settings):
    """rundelay explains that an in-memory layer cannot be shared with other processes."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_classic.layers.inmemory.InMemoryChannelLayer",
            "ROUTING": [],
        }
    }
    with pytest.raises(
        CommandError,
        match="^You cannot span multiple processes .*inside one process.*configure a Redis",
    ):
        call_command("rundelay")

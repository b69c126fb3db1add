"""End to end: a private Redis, daphne and runworker processes, real WebSocket clients."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from channels_classic.layers.redis import RedisChannelLayer
from tests.support.e2e.routing import REPORTS
from tests.support.processes import DEVELOPMENT_ENV, ROOT, Stack, run_manage


async def ask(socket, text: str, timeout: float = 5) -> str:
    await socket.send(text)
    return await asyncio.wait_for(socket.recv(), timeout)


async def refused_handshake(url: str) -> tuple[int, float]:
    """The HTTP status a refused handshake to ``url`` got, and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(InvalidStatus) as refused:
        await connect(url, open_timeout=15)
    return refused.value.response.status_code, time.monotonic() - started


async def test_seed_echo(stack):
    """A /chat/ socket sending hello gets 'You said: hello' back through a worker."""
    stack.start_worker()
    stack.start_daphne()
    async with connect(stack.url("/chat/")) as socket:
        assert await ask(socket, "hello") == "You said: hello"


async def test_unrouted_paths_are_accepted_and_their_frames_dropped(stack):
    """A socket on a path with no route is accepted by the default connect consumer; its
    frames are dropped quietly and it stays open."""
    stack.start_worker()
    stack.start_daphne()
    async with connect(stack.url("/nowhere/")) as socket:
        await socket.send("anyone?")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.recv(), 0.5)
        await socket.ping()
    assert "no route matches" not in stack.logs()


async def test_a_hundred_messages_come_back_in_order(stack):
    """100 frames sent at once on one socket are answered in order (one worker, 4 threads)."""
    stack.start_worker("--threads", "4")
    stack.start_daphne()
    async with connect(stack.url("/chat/")) as socket:
        for n in range(100):
            await socket.send(f"m{n}")
        answers = [await asyncio.wait_for(socket.recv(), 10) for _ in range(100)]
    assert answers == [f"You said: m{n}" for n in range(100)]


async def test_two_workers_both_take_work(stack):
    """With two workers, messages from many sockets are shared between them."""
    workers = {stack.start_worker().pid, stack.start_worker().pid}
    stack.start_daphne()
    sockets = [await connect(stack.url("/whoami/")) for _ in range(20)]
    try:
        for _ in range(5):
            for socket in sockets:
                await socket.send("who?")
        answers = [
            int(await asyncio.wait_for(socket.recv(), 10)) for socket in sockets for _ in range(5)
        ]
    finally:
        for socket in sockets:
            await socket.close()
    assert set(answers) == workers


async def test_disconnect_reaches_the_consumer_with_its_code(stack):
    """Closing with 4321 after two frames gives websocket.disconnect with code 4321 and
    order 3 to the routed consumer."""
    stack.start_worker()
    stack.start_daphne()
    async with connect(stack.url("/report/")) as socket:
        await socket.send("one")
        await socket.send("two")
        await socket.close(code=4321)
    reports = RedisChannelLayer(hosts=[stack.redis_url])
    report = await asyncio.wait_for(reports.receive(REPORTS), 10)
    assert report == {"code": 4321, "order": 3, "path": "/report/"}
    await reports.close()


async def test_a_crashing_consumer_does_not_kill_the_worker(stack):
    """The crash is logged with the consumer's name; the same worker answers the next
    message."""
    worker = stack.start_worker()
    stack.start_daphne()
    async with connect(stack.url("/crash/")) as socket:
        await socket.send("please")
    async with connect(stack.url("/chat/")) as socket:
        assert await ask(socket, "still there?") == "You said: still there?"
    assert worker.alive()
    assert (
        "consumer tests.support.e2e.routing.crash failed on a message from websocket.receive"
        in (worker.log())
    )


async def test_a_bad_reply_is_logged_not_fatal(stack):
    """A reply with an unknown key is refused with a logged error; the socket stays open and
    later replies arrive."""
    stack.start_worker()
    daphne = stack.start_daphne()
    async with connect(stack.url("/bad-reply/")) as socket:
        assert await ask(socket, "x") == "after the bad reply"
        assert await ask(socket, "y") == "after the bad reply"
    assert "unknown keys ['txt'] in WebSocket reply" in daphne.log()
    assert daphne.alive()


async def test_replacing_a_worker_drops_no_socket(stack):
    """A worker stopped with SIGTERM exits 0 after finishing its work; sockets stay open
    through the gap, and every message sent after the new worker started is answered."""
    old = stack.start_worker()
    stack.start_daphne()
    sockets = [await connect(stack.url("/chat/")) for _ in range(10)]
    try:
        for n, socket in enumerate(sockets):
            assert await ask(socket, f"before {n}") == f"You said: before {n}"
        old.signal(signal.SIGTERM)
        assert old.process.wait(10) == 0
        stack.start_worker()
        for n, socket in enumerate(sockets):
            assert await ask(socket, f"after {n}") == f"You said: after {n}"
    finally:
        for socket in sockets:
            await socket.close()


async def test_no_worker_means_refused_after_the_accept_timeout(private_redis, tmp_path):
    """With nobody to answer websocket.connect, the handshake is refused (403) after the
    configured accept timeout, and daphne keeps serving."""
    stack = Stack(private_redis().url, tmp_path)
    stack.env["TEST_ACCEPT_TIMEOUT"] = "1"
    daphne = stack.start_daphne()
    try:
        status, waited = await refused_handshake(stack.url("/chat/"))
        assert status == 403
        assert 0.9 < waited < 3
        assert "no answer to websocket.connect for /chat/ within 1.0 s" in daphne.log()
        stack.start_worker()
        async with connect(stack.url("/chat/")) as socket:
            assert await ask(socket, "now?") == "You said: now?"
    finally:
        stack.stop()
        print(stack.logs())


async def test_daphne_and_the_worker_outlive_a_redis_restart(private_redis, tmp_path):
    """Redis going away ends neither process: the worker logs its failed receive and
    retries, the interface logs the layer unavailable and when it answers again, and once
    Redis is back on its port a new socket is answered again."""
    redis = private_redis()
    stack = Stack(redis.url, tmp_path)
    worker = stack.start_worker()
    daphne = stack.start_daphne()
    try:
        async with connect(stack.url("/chat/")) as socket:
            assert await ask(socket, "before") == "You said: before"
        redis.stop()
        worker.wait_for_log("failed (", timeout=10)
        daphne.wait_for_log("the channel layer is unavailable", timeout=10)
        redis.start()
        deadline = time.monotonic() + 15
        while True:  # the back-off may hold each process up to a few seconds
            try:
                async with connect(stack.url("/chat/"), open_timeout=10) as socket:
                    assert await ask(socket, "after") == "You said: after"
                break
            except (InvalidStatus, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        assert worker.alive() and daphne.alive()
        assert "worker: receiving on" in worker.log() and "retrying in" in worker.log()
        assert "the channel layer answers again" in daphne.log()
    finally:
        stack.stop()
        print(stack.logs())


def test_runworker_refuses_the_in_memory_layer(tmp_path):
    """runworker explains that an in-memory layer cannot be shared with another process."""
    env = {
        **os.environ,
        **DEVELOPMENT_ENV,
        "DJANGO_SETTINGS_MODULE": "tests.support.e2e.inmemory_settings",
        "PYTHONPATH": str(ROOT),
    }
    result = run_manage(env, "runworker")
    assert result.returncode == 1
    assert "only works inside one process" in result.stderr


async def test_a_full_receive_channel_holds_frames_until_a_worker_takes_them(
    private_redis, tmp_path
):
    """When websocket.receive is at capacity, the socket's frames wait in the interface (its
    reads paused) and reach a worker, in order, once one takes from the channel; the socket
    is never closed."""
    stack = Stack(private_redis().url, tmp_path)
    stack.env["TEST_INGRESS_CAPACITY"] = "2"
    stack.start_worker("--only-channels", "websocket.connect")
    daphne = stack.start_daphne()
    try:
        async with connect(stack.url("/chat/")) as socket:
            for n in range(6):
                await socket.send(f"frame {n}")
            daphne.wait_for_log("websocket.receive: full; holding messages", timeout=5)
            stack.start_worker("--only-channels", "websocket.receive")
            answers = [await asyncio.wait_for(socket.recv(), 10) for _ in range(6)]
            assert answers == [f"You said: frame {n}" for n in range(6)]
            assert socket.close_code is None
    finally:
        stack.stop()
        print(stack.logs())


async def test_frames_held_past_the_hold_timeout_close_their_socket_with_1013(
    private_redis, tmp_path
):
    """A channel that stays full longer than CHANNELS_WEBSOCKET_HOLD_TIMEOUT: the socket
    whose frame waited is closed with 1013 (try again later), and the server goes on
    accepting sockets."""
    stack = Stack(private_redis().url, tmp_path)
    stack.env["TEST_INGRESS_CAPACITY"] = "2"
    stack.env["TEST_HOLD_TIMEOUT"] = "1"
    stack.start_worker("--only-channels", "websocket.connect")
    daphne = stack.start_daphne()
    try:
        async with connect(stack.url("/chat/")) as socket:
            started = time.monotonic()
            for n in range(3):
                await socket.send(f"frame {n}")
            await asyncio.wait_for(socket.wait_closed(), 5)
            assert socket.close_code == 1013
            assert 0.9 < time.monotonic() - started < 4
        assert "a socket was closed with 1013" in daphne.log()
        async with connect(stack.url("/chat/")) as socket:
            await socket.ping()
    finally:
        stack.stop()
        print(stack.logs())


@pytest.fixture
def worker_stack(private_redis, tmp_path):
    """A stack on the worker tests' settings (extra routes, subprotocols); not started yet."""
    running = Stack(private_redis().url, tmp_path, settings="tests.support.e2e.worker_settings")
    yield running
    running.stop()
    print(running.logs())


async def test_an_accept_timeout_longer_than_daphnes_is_honoured(worker_stack):
    """With the accept timeout at 6 s (daphne's own --websocket_connect_timeout is 5) and a
    connect consumer that never answers, the handshake is refused with 403 at ~6 s, not
    dropped by daphne or autobahn at 5."""
    worker_stack.env["TEST_ACCEPT_TIMEOUT"] = "6"
    worker_stack.start_worker()
    daphne = worker_stack.start_daphne()
    status, waited = await refused_handshake(worker_stack.url("/silent/"))
    assert status == 403
    assert 5.9 < waited < 8
    assert "no answer to websocket.connect for /silent/ within 6.0 s" in daphne.log()


async def test_a_full_connect_channel_answers_503(worker_stack):
    """When websocket.connect is at capacity, a new socket's handshake is answered with HTTP
    503 'Connection queue at capacity' at once, and the socket whose connect was queued is
    still waiting for its answer."""
    worker_stack.env["TEST_INGRESS_CAPACITY"] = "1"
    worker_stack.env["TEST_ACCEPT_TIMEOUT"] = "20"
    daphne = worker_stack.start_daphne()
    attempts = [
        asyncio.ensure_future(connect(worker_stack.url("/chat/"), open_timeout=30))
        for _ in range(2)
    ]
    try:
        done, pending = await asyncio.wait(attempts, timeout=10, return_when="FIRST_COMPLETED")
        assert len(done) == 1 and len(pending) == 1
        with pytest.raises(InvalidStatus) as refused:
            done.pop().result()
        assert refused.value.response.status_code == 503
        assert refused.value.response.body == b"Connection queue at capacity"
        assert "websocket.connect could not take a message" in daphne.log()
        worker_stack.start_worker()
        async with await pending.pop() as socket:
            assert await ask(socket, "queued") == "You said: queued"
    finally:
        for attempt in attempts:
            attempt.cancel()


async def test_the_client_s_first_agreed_subprotocol_is_chosen(worker_stack):
    """The server picks the first subprotocol the client offers that it agrees to,
    not the first of its own list; none agreed means no subprotocol."""
    worker_stack.start_worker()
    worker_stack.start_daphne()
    url = worker_stack.url("/chat/")
    async with connect(url, subprotocols=["chat.v3", "chat.v1", "chat.v2"]) as socket:
        assert socket.subprotocol == "chat.v1"
    async with connect(url, subprotocols=["chat.v2", "chat.v1"]) as socket:
        assert socket.subprotocol == "chat.v2"
    async with connect(url) as socket:
        assert socket.subprotocol is None

"""End to end: Redis killed and restarted under traffic. Every process keeps running. With
persistence nothing is lost: frames sent meanwhile wait in the interface and replies in the
workers, and all arrive once Redis is back. Without it, the groups are gone with the rest,
so the interface closes its sockets with 1012 for their clients to reconnect and rejoin.
Meanwhile handshakes and requests get 503 saying that the layer is unavailable."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.processes import Stack

CLIENTS = 10
#: Each client sends a frame this often (seconds), replies or not.
SEND_EVERY = 0.02
#: How long Redis stays down.
OUTAGE = 1.0
#: How long a client waits, once it stopped sending, for the replies still owed to it.
SETTLE = 10.0


class Chatter:
    """Sends a numbered frame every SEND_EVERY seconds and collects the replies apart."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent = 0
        self.replies: list[str] = []
        self.close_code: int | None = None
        self.stop = asyncio.Event()

    async def run(self) -> None:
        async with connect(self.url) as socket:
            reading = asyncio.ensure_future(self._read(socket))
            try:
                while not self.stop.is_set():
                    self.sent += 1
                    await socket.send(str(self.sent))
                    await asyncio.sleep(SEND_EVERY)
            except ConnectionClosed:
                pass
            try:
                await asyncio.wait_for(reading, SETTLE)
            except TimeoutError:
                pass  # what never came is counted as lost

    async def _read(self, socket) -> None:
        try:
            async for reply in socket:
                self.replies.append(reply)
                if self.stop.is_set() and len(self.replies) >= self.sent:
                    return
        except ConnectionClosed:
            pass
        self.close_code = socket.close_code

    def lost_and_duplicated(self) -> tuple[int, int]:
        expected = {f"You said: {n}" for n in range(1, self.sent + 1)}
        return len(expected - set(self.replies)), len(self.replies) - len(set(self.replies))


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def start(stack: Stack):
    workers = [stack.start_worker("--threads", "8") for _ in range(2)]
    return workers, stack.start_daphne()


async def refused_while_down(stack: Stack) -> None:
    """A handshake and a request during the outage: 503, saying the layer is unavailable."""
    with pytest.raises(InvalidStatus) as refused:
        await connect(stack.url("/chat/"), open_timeout=5)
    assert refused.value.response.status_code == 503
    assert b"channel layer is unavailable" in refused.value.response.body
    status, body = await asyncio.to_thread(fetch, stack.url("/", "http"))
    assert status == 503 and b"channel layer is unavailable" in body


async def test_a_short_outage_with_persistence_loses_nothing(private_redis, tmp_path):
    """Redis (append-only, synced on every write) is killed and restarted after 1 s while 10
    clients send every 20 ms: no socket is closed, no reply lost or doubled, and daphne and
    the workers are the same processes."""
    redis = private_redis(persistent=True)
    stack = Stack(redis.url, tmp_path)
    try:
        workers, daphne = start(stack)
        chatters = [Chatter(stack.url("/chat/")) for _ in range(CLIENTS)]
        running = [asyncio.ensure_future(c.run()) for c in chatters]
        await asyncio.sleep(2)
        redis.kill()
        daphne.wait_for_log("the channel layer is unavailable", timeout=5)
        await refused_while_down(stack)
        await asyncio.sleep(max(0.0, OUTAGE - 0.5))
        redis.start()
        daphne.wait_for_log("the channel layer answers again", timeout=10)
        await asyncio.sleep(3)
        for chatter in chatters:
            chatter.stop.set()
        await asyncio.wait_for(asyncio.gather(*running), SETTLE + 5)
        results = [c.lost_and_duplicated() for c in chatters]
        print(f"sent {sum(c.sent for c in chatters)}; (lost, duplicated) per client: {results}")
        assert [c.close_code for c in chatters] == [None] * CLIENTS
        assert results == [(0, 0)] * CLIENTS
        assert all(process.alive() for process in (*workers, daphne))
        assert "without its data" not in daphne.log()
    finally:
        stack.stop()
        print(stack.logs())


async def test_a_restart_without_persistence_closes_sockets_with_1012(private_redis, tmp_path):
    """Redis without persistence is killed and restarted: its groups are gone, so every open
    socket is closed with 1012 (service restart) and its consumers told; a client that
    reconnects is answered again, by the same processes."""
    redis = private_redis()
    stack = Stack(redis.url, tmp_path)
    try:
        workers, daphne = start(stack)
        chatters = [Chatter(stack.url("/chat/")) for _ in range(CLIENTS)]
        running = [asyncio.ensure_future(c.run()) for c in chatters]
        await asyncio.sleep(1)
        redis.kill()
        daphne.wait_for_log("the channel layer is unavailable", timeout=5)
        await asyncio.sleep(OUTAGE)
        restarted = time.monotonic()
        redis.start()
        await asyncio.wait_for(asyncio.gather(*running), 15)
        assert [c.close_code for c in chatters] == [1012] * CLIENTS
        assert time.monotonic() - restarted < 5
        assert "came back without its data" in daphne.log()
        async with connect(stack.url("/chat/")) as socket:
            await socket.send("again")
            assert await asyncio.wait_for(socket.recv(), 10) == "You said: again"
        assert all(process.alive() for process in (*workers, daphne))
    finally:
        stack.stop()
        print(stack.logs())

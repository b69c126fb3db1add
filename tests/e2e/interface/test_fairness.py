"""End to end: one client never hurts another. A socket that floods the server is slowed,
not its neighbours; a socket that does not read is closed before it grows the server.

Real Redis, daphne and two runworker processes (8 threads each), the demo's /chat/ echo.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time

import psutil
import pytest
import redis as redis_client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.processes import ROOT, Stack

#: Each well-behaved client sends a frame this often (seconds).
ECHO_EVERY = 0.02
#: How long latencies are measured before the flood, and after it starts.
WINDOW = 5.0
#: The flood: this many small frames in one burst.
FLOOD_FRAMES = 20_000
#: The reader that never reads: this many frames of this size.
HEAVY_FRAMES, HEAVY_SIZE = 3000, 64 * 1024
#: How far daphne's memory may grow while it is sent to.
MEMORY_ALLOWANCE = 64 * 1024 * 1024


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


class EchoClient:
    """Sends a numbered frame every ECHO_EVERY seconds and times each reply; a reply that
    does not come, comes twice or out of order is counted."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[tuple[float, float]] = []  # (sent at, seconds)
        self.sent = 0
        self.wrong = 0
        self.close_code: int | None = None

    async def run(self, until: float) -> None:
        async with connect(self.url) as socket:
            try:
                while time.monotonic() < until:
                    started = time.monotonic()
                    self.sent += 1
                    await socket.send(str(self.sent))
                    reply = await asyncio.wait_for(socket.recv(), 10)
                    if reply != f"You said: {self.sent}":
                        self.wrong += 1
                    self.latencies.append((started, time.monotonic() - started))
                    await asyncio.sleep(max(0.0, started + ECHO_EVERY - time.monotonic()))
            except (ConnectionClosed, TimeoutError):
                self.close_code = socket.close_code if socket.close_code is not None else -1

    def during(self, start: float, end: float) -> list[float]:
        return [took for sent_at, took in self.latencies if start <= sent_at < end]


async def flood(url: str, seconds: float) -> tuple[int, int]:
    """Writes FLOOD_FRAMES small frames in one burst, reading the replies meanwhile (so that
    only the input side is tested), for at most ``seconds``; returns (frames written, replies
    read). Run in a process of its own (``__main__``), as a real client would be: in the test's
    own event loop the burst would delay the well-behaved clients' timings, not the server."""
    replies = written = 0
    async with connect(url) as socket:

        async def read() -> None:
            nonlocal replies
            async for _ in socket:
                replies += 1

        async def write() -> None:
            nonlocal written
            for n in range(FLOOD_FRAMES):
                await socket.send(f"f{n}")
                written += 1

        reading = asyncio.ensure_future(read())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(write(), seconds)
        await asyncio.sleep(max(0.0, seconds))
        reading.cancel()
    return written, replies


def start_flood(url: str, seconds: float) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.e2e.interface.test_fairness", url, str(seconds)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)


@pytest.fixture
def chat_stack(private_redis, tmp_path):
    stack = Stack(private_redis().url, tmp_path)
    stack.start_worker("--threads", "8")
    stack.start_worker("--threads", "8")
    stack.daphne = stack.start_daphne()
    yield stack
    stack.stop()
    print(stack.logs())


async def test_a_flooding_socket_is_slowed_and_its_neighbours_are_not(chat_stack):
    """Five clients echo every 20 ms; one socket writes 20 000 frames in one burst. None of
    the five is closed or loses a reply, and their p99 round trip in the 5 s after the
    flood starts is at most 5 times their p99 before it (or 50 ms, whichever is larger)."""
    url = chat_stack.url("/chat/")
    started = time.monotonic()
    flood_at = started + 1.0 + WINDOW
    clients = [EchoClient(url) for _ in range(5)]
    running = [asyncio.ensure_future(c.run(flood_at + WINDOW)) for c in clients]
    await asyncio.sleep(flood_at - time.monotonic())
    flooding = start_flood(url, WINDOW)
    await asyncio.gather(*running)
    output, _ = await asyncio.to_thread(flooding.communicate, timeout=WINDOW + 30)
    written, replies = json.loads(output)
    before = [t for c in clients for t in c.during(started + 1.0, flood_at)]
    after = [t for c in clients for t in c.during(flood_at, flood_at + WINDOW)]
    limit = max(5 * p99(before), 0.050)
    paused = "a socket sends faster than the workers take" in chat_stack.daphne.log()
    print(
        f"p99 before {p99(before) * 1000:.1f} ms, during the flood {p99(after) * 1000:.1f} ms "
        f"(limit {limit * 1000:.1f}); flood wrote {written} frames, read {replies} replies; "
        f"its reads paused: {paused}"
    )
    assert [c.close_code for c in clients] == [None] * 5
    assert [c.wrong for c in clients] == [0] * 5
    assert all(len(c.latencies) == c.sent for c in clients)
    assert len(after) > 5 * WINDOW / ECHO_EVERY * 0.5
    assert p99(after) <= limit
    assert written > 1000  # the flood was a flood: not refused outright


async def test_a_socket_that_does_not_read_is_closed_before_it_grows_the_server(chat_stack):
    """A client sends 3000 frames of 64 KiB and never reads the echoes: its socket is closed
    (logged once, naming the limit), daphne's memory stays within 64 MiB of where it
    started, and another socket is still answered."""
    daphne = psutil.Process(chat_stack.daphne.pid)
    async with connect(chat_stack.url("/chat/")) as bystander:
        await bystander.send("warm up")
        await asyncio.wait_for(bystander.recv(), 10)
        baseline = daphne.memory_info().rss
        peak = baseline
        frame = "x" * HEAVY_SIZE
        sent = 0
        async with connect(chat_stack.url("/chat/"), max_queue=1) as heavy:
            try:
                for sent in range(1, HEAVY_FRAMES + 1):  # noqa: B007
                    await asyncio.wait_for(heavy.send(frame), 30)
                    if sent % 50 == 0:
                        peak = max(peak, daphne.memory_info().rss)
            except ConnectionClosed:
                pass
        peak = max(peak, daphne.memory_info().rss)
        await bystander.send("still there?")
        assert await asyncio.wait_for(bystander.recv(), 10) == "You said: still there?"
    grew = peak - baseline
    print(f"the heavy client sent {sent} frames; daphne grew by {grew / 2**20:.1f} MiB")
    assert grew <= MEMORY_ALLOWANCE
    log = chat_stack.daphne.log()
    assert log.count("closed with 1008") == 1
    assert "CHANNELS_WEBSOCKET_MAX_OUTPUT" in log


async def test_a_socket_has_no_more_frames_waiting_than_its_bound(private_redis, tmp_path):
    """With CHANNELS_WEBSOCKET_MAX_OUTSTANDING at 4 and no worker taking websocket.receive, a
    socket that sends 50 frames has 4 of them on the channel and the rest still with the
    client (its reads paused); once a worker takes them, all 50 are answered, in order."""
    redis = private_redis()
    stack = Stack(redis.url, tmp_path)
    stack.env["TEST_MAX_OUTSTANDING"] = "4"
    stack.start_worker("--only-channels", "websocket.connect")
    daphne = stack.start_daphne()
    client = redis_client.Redis.from_url(redis.url)
    try:
        async with connect(stack.url("/chat/")) as socket:
            for n in range(50):
                await socket.send(f"frame {n}")
            daphne.wait_for_log("reading it is paused", timeout=10)
            await asyncio.sleep(0.5)
            assert client.zcard("asgiwebsocket.receive") == 4
            stack.start_worker("--only-channels", "websocket.receive")
            answers = [await asyncio.wait_for(socket.recv(), 10) for _ in range(50)]
        assert answers == [f"You said: frame {n}" for n in range(50)]
    finally:
        client.close()
        stack.stop()
        print(stack.logs())


if __name__ == "__main__":
    print(json.dumps(asyncio.run(flood(sys.argv[1], float(sys.argv[2])))))

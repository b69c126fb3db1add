"""End to end: one client never hurts another. A socket that floods the server is slowed,
not its neighbours; a socket that does not read is closed before it grows the server.

Real Redis, daphne and two runworker processes (8 threads each), the demo's /chat/ echo.
"""

from __future__ import annotations

import asyncio
import time

import psutil
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.processes import Stack

pytestmark = pytest.mark.e2e

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


async def flood(url: str, stop: asyncio.Event) -> tuple[int, int]:
    """Writes FLOOD_FRAMES small frames in one burst (reading the replies meanwhile, so that
    only the input side is tested); returns (frames written, replies read)."""
    replies = 0
    async with connect(url) as socket:

        async def read() -> None:
            nonlocal replies
            async for _ in socket:
                replies += 1

        reading = asyncio.ensure_future(read())
        written = 0
        for n in range(FLOOD_FRAMES):
            if stop.is_set():
                break
            await socket.send(f"f{n}")
            written += 1
        await stop.wait()
        reading.cancel()
    return written, replies


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
    stop = asyncio.Event()
    flooding = asyncio.ensure_future(flood(url, stop))
    await asyncio.gather(*running)
    stop.set()
    written, replies = await flooding
    before = [t for c in clients for t in c.during(started + 1.0, flood_at)]
    after = [t for c in clients for t in c.during(flood_at, flood_at + WINDOW)]
    limit = max(5 * p99(before), 0.050)
    print(
        f"p99 before {p99(before) * 1000:.1f} ms, during the flood {p99(after) * 1000:.1f} ms "
        f"(limit {limit * 1000:.1f}); flood wrote {written} frames, read {replies} replies"
    )
    assert [c.close_code for c in clients] == [None] * 5
    assert [c.wrong for c in clients] == [0] * 5
    assert all(len(c.latencies) == c.sent for c in clients)
    assert len(after) > 5 * WINDOW / ECHO_EVERY * 0.5
    assert p99(after) <= limit
    assert written > 1000  # the flood was a flood: not refused outright
    assert "a socket sends faster than the workers take its frames" in chat_stack.daphne.log()


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

"""End to end: the interface server shuts down gracefully on SIGTERM. Every socket is
closed with 1001 and its consumers hear of it, requests in flight are answered or get 503
within the shutdown timeout, and daphne exits 0."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
import urllib.error
import urllib.request

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

#: The shutdown timeout these tests give daphne (CHANNELS_SHUTDOWN_TIMEOUT).
SHUTDOWN_TIMEOUT = 3.0


def presence_rows(stack) -> int:
    with sqlite3.connect(stack.env["DJANGO_DATABASE"]) as database:
        return database.execute("SELECT COUNT(*) FROM realtime_presence").fetchone()[0]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def close_code(socket) -> int | None:
    try:
        async for _ in socket:
            pass
    except ConnectionClosed:
        pass
    return socket.close_code


async def test_sigterm_closes_every_socket_with_1001_and_tells_the_workers(stack):
    """13 sockets open (3 of them in a room), a slow streamed response and a long poll in
    flight: on SIGTERM every client sees 1001, the room's presence rows are gone within 5 s
    (the workers ran websocket.disconnect for each), the streamed response is finished, the
    long poll gets 503, and daphne exits 0 within the shutdown timeout."""
    stack.manage("migrate", "--noinput")
    stack.env["TEST_SHUTDOWN_TIMEOUT"] = str(SHUTDOWN_TIMEOUT)
    stack.start_worker("--threads", "8")
    stack.start_worker("--threads", "8")
    daphne = stack.start_daphne()
    origin = {"Origin": f"http://127.0.0.1:{stack.port}"}
    chats = [await connect(stack.url("/chat/")) for _ in range(10)]
    rooms = [await connect(stack.url("/rooms/lobby/"), additional_headers=origin) for _ in range(3)]
    for socket in chats:
        await socket.send("hello")
        assert await asyncio.wait_for(socket.recv(), 10) == "You said: hello"
    deadline = time.monotonic() + 10
    while presence_rows(stack) < 3:
        assert time.monotonic() < deadline, "the room sockets never joined"
        await asyncio.sleep(0.05)
    streaming = asyncio.ensure_future(asyncio.to_thread(fetch, stack.url("/slow-stream/", "http")))
    polling = asyncio.ensure_future(asyncio.to_thread(fetch, stack.url("/poll/wait/", "http")))
    await asyncio.sleep(0.3)  # both requests are in flight

    signalled = time.monotonic()
    daphne.signal(signal.SIGTERM)
    codes = await asyncio.wait_for(
        asyncio.gather(*(close_code(socket) for socket in chats + rooms)), 10
    )
    assert codes == [1001] * 13
    while presence_rows(stack):
        assert time.monotonic() - signalled < 5, "presence rows outlived the shutdown"
        await asyncio.sleep(0.05)
    status, body = await asyncio.wait_for(streaming, 15)
    assert status == 200 and body == b"".join(f"slow {n}\n".encode() for n in range(10))
    status, body = await asyncio.wait_for(polling, 15)
    assert status == 503 and b"shutting down" in body
    assert daphne.process.wait(SHUTDOWN_TIMEOUT + 5) == 0
    assert time.monotonic() - signalled < SHUTDOWN_TIMEOUT + 3
    assert "shutting down: closing 13 sockets, 2 requests in flight" in daphne.log()

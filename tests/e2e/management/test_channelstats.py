"""End to end: ``manage.py channelstats`` shows the backlog of each routed channel from the
layer, and, given the workers' metrics endpoints, how many messages they take and finish."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect

from channels_classic.embedded_redis import free_port
from tests.support.processes import Stack

pytestmark = pytest.mark.e2e


def rows(output: str) -> dict[str, list[str]]:
    """The table's rows by channel (the header and error lines left out)."""
    found = {}
    for line in output.splitlines():
        cells = line.split()
        if cells and "." in cells[0] and cells[0] != "channel":
            found[cells[0]] = cells[1:]
    return found


async def test_it_shows_a_backlog(stack: Stack):
    """With no worker taking websocket.receive, the 5 frames a socket sent wait there."""
    stack.start_worker("--only-channels", "websocket.connect")
    stack.start_daphne()
    async with connect(stack.url("/chat/")) as socket:
        for n in range(5):
            await socket.send(f"frame {n}")
        await asyncio.sleep(0.5)
        result = await asyncio.to_thread(stack.manage, "channelstats", "--count", "1")
    table = rows(result.stdout)
    assert table["websocket.receive"][0] == "5"
    assert table["http.request"][0] == "0"


async def test_it_shows_rates_from_the_metrics(stack: Stack):
    """While echoes flow, two refreshes 1 s apart: the second shows a rate of messages taken
    and finished on websocket.receive, read from the worker's metrics."""
    port = free_port()
    stack.start_worker("--metrics-port", str(port))
    stack.start_daphne()
    url = f"http://127.0.0.1:{port}/metrics"
    async with connect(stack.url("/chat/")) as socket:
        done = asyncio.Event()

        async def echo_until_done() -> None:
            while not done.is_set():
                await socket.send("x")
                await asyncio.wait_for(socket.recv(), 10)
                await asyncio.sleep(0.01)

        traffic = asyncio.ensure_future(echo_until_done())
        await asyncio.sleep(0.5)
        result = await asyncio.to_thread(
            stack.manage,
            "channelstats",
            "--count",
            "2",
            "--interval",
            "1",
            "--metrics",
            url,
        )
        done.set()
        await traffic
    header, *_ = [line for line in result.stdout.splitlines() if line.startswith("channel")]
    assert header.split() == ["channel", "waiting", "change/s", "taken/s", "done/s"]
    last = rows(result.stdout.rsplit("channel ", 1)[-1])
    taken, done = float(last["websocket.receive"][2]), float(last["websocket.receive"][3])
    assert taken > 5 and done > 5
    assert "unavailable" not in result.stdout

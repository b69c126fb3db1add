"""End to end: a worker (``runworker --metrics-port``) and daphne (``CHANNELS_METRICS_PORT``)
serve Prometheus metrics, scraped here during real traffic; several workers of one host share
a port with PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from channels_classic.embedded_redis import free_port
from tests.support.processes import Stack

pytestmark = pytest.mark.e2e


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample the endpoint serves, by (name, labels)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def echo(socket, text: str) -> str:
    await socket.send(text)
    return await asyncio.wait_for(socket.recv(), 10)


async def test_worker_and_interface_metrics_during_traffic(stack: Stack):
    """20 echoes and 5 frames to a consumer that raises, 3 sockets open while scraped: the
    worker counts the messages per channel, times its consumers, counts the failing one and
    samples its channels' depths; daphne counts the open sockets and the frames both ways."""
    worker_port, interface_port = free_port(), free_port()
    stack.env["TEST_METRICS_PORT"] = str(interface_port)
    stack.start_worker("--metrics-port", str(worker_port))
    stack.start_daphne()
    async with connect(stack.url("/chat/")) as chat, connect(stack.url("/crash/")) as crash:
        async with connect(stack.url("/chat/")):
            for n in range(20):
                assert await echo(chat, f"m{n}") == f"You said: m{n}"
            for n in range(5):
                await crash.send(f"boom {n}")
            await asyncio.sleep(1)
            worker, interface = scrape(worker_port), scrape(interface_port)
    received = sample(worker, "channels_messages_received_total", channel="websocket.receive")
    consumed = sample(worker, "channels_messages_consumed_total", channel="websocket.receive")
    assert received == consumed == 25
    echo_runs = sample(
        worker,
        "channels_consumer_duration_seconds_count",
        consumer="realtime.consumers.websocket_receive",
    )
    assert echo_runs == 20
    crashes = sample(
        worker, "channels_consumer_errors_total", consumer="tests.support.e2e.routing.crash"
    )
    assert crashes == 5
    depth = ("channels_channel_depth", frozenset({("channel", "websocket.receive")}))
    assert worker[depth] == 0  # sampled as the worker started: nothing waits
    assert sample(interface, "channels_open_sockets") == 3
    assert sample(interface, "channels_frames_received_total") == 25
    assert sample(interface, "channels_frames_sent_total") == 20


async def test_a_paused_socket_is_counted_as_backpressure(stack: Stack):
    """A socket past its bound of outstanding frames (no worker takes websocket.receive):
    daphne counts the pause."""
    port = free_port()
    stack.env |= {"TEST_METRICS_PORT": str(port), "TEST_MAX_OUTSTANDING": "2"}
    stack.start_worker("--only-channels", "websocket.connect")
    stack.start_daphne()
    async with connect(stack.url("/chat/")) as socket:
        for n in range(10):
            await socket.send(f"frame {n}")
        await asyncio.sleep(1)
        samples = scrape(port)
    paused = sample(
        samples, "channels_backpressure_events_total", channel="websocket.receive", event="paused"
    )
    assert paused >= 1


async def test_workers_of_one_host_share_a_port(stack: Stack, tmp_path):
    """Two workers told the same --metrics-port with PROMETHEUS_MULTIPROC_DIR set both run;
    the one holding the port serves the sum of both workers' counts."""
    port = free_port()
    directory = tmp_path / "prometheus"
    directory.mkdir()
    stack.env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    first = stack.start_worker("--metrics-port", str(port), "--threads", "4")
    second = stack.start_worker("--metrics-port", str(port), "--threads", "4")
    stack.start_daphne()
    sockets = [await connect(stack.url("/whoami/")) for _ in range(10)]
    try:
        pids = {await echo(socket, "who?") for socket in sockets for _ in range(3)}
    finally:
        for socket in sockets:
            await socket.close()
    assert pids == {str(first.pid), str(second.pid)}
    await asyncio.sleep(0.5)
    samples = scrape(port)
    assert sample(samples, "channels_messages_consumed_total", channel="websocket.receive") == 30
    assert "served by another process of this host" in first.log() + second.log()

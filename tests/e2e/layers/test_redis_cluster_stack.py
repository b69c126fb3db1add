"""End to end on a Redis Cluster: daphne and two workers whose channel layer is a private
3-master cluster: the echo, a broadcast to a 100-socket group, and a rolling deploy of the
workers under traffic."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.protocol import State

import tests.e2e.worker.test_rolling_deploy as rolling_deploy
from channels_classic.embedded_cluster import EmbeddedRedisCluster
from channels_classic.embedded_redis import EmbeddedRedis
from tests.support.processes import Stack

pytestmark = pytest.mark.e2e

SOCKETS = 100
PROMPTLY = 10.0


@pytest.fixture
def cluster_stack(
    private_redis: Callable[[], EmbeddedRedis],
    private_cluster: Callable[[], EmbeddedRedisCluster],
    tmp_path: Path,
) -> Iterator[Stack]:
    """A stack (it starts its processes) whose channel layer is a cluster of its own."""
    running = Stack(private_redis().url, tmp_path, settings="tests.support.e2e.cluster_settings")
    running.env["TEST_CLUSTER_URL"] = private_cluster().url
    yield running
    running.stop()
    print(running.logs())


async def test_echo_on_a_cluster(cluster_stack: Stack):
    """Five sockets each send 20 frames through two workers: every one comes back once."""
    cluster_stack.start_worker()
    cluster_stack.start_worker()
    cluster_stack.start_daphne()
    sockets = [await connect(cluster_stack.url("/chat/")) for _ in range(5)]
    for index, socket in enumerate(sockets):
        for n in range(20):
            await socket.send(f"{index}.{n}")
    for index, socket in enumerate(sockets):
        async with asyncio.timeout(PROMPTLY):
            replies = sorted([await socket.recv() for _ in range(20)])
        assert replies == sorted(f"You said: {index}.{n}" for n in range(20))
        await socket.close()
    assert "redis layer" not in cluster_stack.logs()


async def test_a_broadcast_reaches_a_hundred_sockets_once(cluster_stack: Stack):
    """100 sockets join one group; a frame from one reaches every one of them exactly once."""
    cluster_stack.start_worker()
    cluster_stack.start_worker()
    cluster_stack.start_daphne()
    sockets = [await connect(cluster_stack.url("/broadcast/")) for _ in range(SOCKETS)]
    await sockets[0].send("to everyone")
    for socket in sockets:
        async with asyncio.timeout(PROMPTLY):
            assert await socket.recv() == "to everyone"
    for socket in sockets:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await socket.recv()
        await socket.close()


async def test_a_rolling_deploy_on_a_cluster_loses_nothing(cluster_stack: Stack):
    """The rolling deploy of tests/e2e/worker/test_rolling_deploy.py (ten rounds of one of two
    workers stopped and replaced under 20 echoing clients), on the cluster."""
    await rolling_deploy.test_a_rolling_deploy_loses_nothing(cluster_stack)


async def test_a_master_killed_under_traffic_is_survived(
    private_redis: Callable[[], EmbeddedRedis],
    private_cluster: Callable[[], EmbeddedRedisCluster],
    tmp_path: Path,
):
    """20 clients echo through daphne and two workers while a master of the cluster is
    killed: no process restarts or exits, each logs the outage once (and the workers that
    it is over), no socket closes, no frame comes back twice, and every frame sent after
    the failover is answered."""
    cluster = private_cluster()
    stack = Stack(private_redis().url, tmp_path, settings="tests.support.e2e.cluster_settings")
    stack.env["TEST_CLUSTER_URL"] = cluster.url
    try:
        workers = [stack.start_worker("--threads", "8") for _ in range(2)]
        daphne = stack.start_daphne()
        clients = [rolling_deploy.EchoClient(await connect(stack.url("/chat/"))) for _ in range(20)]
        readers = [asyncio.ensure_future(client.read()) for client in clients]
        traffic = rolling_deploy.Traffic(clients)
        sending = asyncio.ensure_future(traffic.run())
        await asyncio.sleep(1)
        await asyncio.to_thread(cluster.kill_master, 0)
        failed_over_at = [client.sent for client in clients]
        await asyncio.sleep(3)
        traffic.stopped.set()
        await sending
        await rolling_deploy.wait_for_replies(clients)
        closed = [c.socket.close_code for c in clients if c.socket.state is not State.OPEN]
        for client in clients:
            await client.socket.close()
        await asyncio.gather(*readers, return_exceptions=True)
        sent = sum(client.sent for client in clients)
        lost = [n for client in clients for n in client.lost()]
        late_lost = [
            n
            for client, since in zip(clients, failed_over_at, strict=True)
            for n in client.lost()
            if n >= since
        ]
        outages = daphne.log().count("the channel layer is unavailable")
        retries = [worker.log().count("worker: receiving on") for worker in workers]
        print(
            f"failover end to end: {sent} frames sent, {len(lost)} lost, daphne logged the "
            f"outage {outages} time(s), the workers logged {retries} receive retries"
        )
        assert all(process.alive() for process in (daphne, *workers))
        assert closed == []
        assert [client.duplicated() for client in clients if client.duplicated()] == []
        assert late_lost == []
        assert outages <= 1
        assert all(count <= 1 for count in retries)
        assert len(lost) <= sent // 100
    finally:
        stack.stop()
        print(stack.logs())

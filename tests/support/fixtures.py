"""Fixtures shared by the whole suite (the root conftest loads them): the session's Redis
and layers on it, Redis servers of a test's own, daphne and workers, users."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from channels_classic import failure_log
from channels_classic.embedded_cluster import EmbeddedRedisCluster
from channels_classic.embedded_redis import EmbeddedRedis
from channels_classic.layers.redis import RedisChannelLayer
from tests.support.processes import Stack
from tests.support.tcp_proxy import ReplyLosingProxy


@pytest.fixture(autouse=True)
def fresh_failure_logs() -> None:
    """Each test sees its failures logged in full, whatever earlier tests logged."""
    failure_log.forget_all()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """One private Redis for the session; tests keep apart by using their own key prefix.
    Unit tests may use it (no test stops, restarts or reconfigures it)."""
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> str:
    return redis_server.url


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[EmbeddedRedisCluster]:
    """One private Redis Cluster (3 masters, a replica each) for the session, shared by unit
    tests too; tests keep apart by their key prefix. Tests that kill or reshape nodes use
    ``private_cluster``."""
    with EmbeddedRedisCluster() as cluster:
        yield cluster


@pytest.fixture(params=["one-host", "cluster"])
def host_or_cluster_url(request: pytest.FixtureRequest, redis_server: EmbeddedRedis) -> str:
    """The session Redis's URL, then the session cluster's: a module whose ``redis_url`` is
    this runs its layer tests on both."""
    if request.param == "cluster":
        cluster: EmbeddedRedisCluster = request.getfixturevalue("redis_cluster")
        return cluster.url
    return redis_server.url


@pytest.fixture
def private_cluster() -> Iterator[Callable[[], EmbeddedRedisCluster]]:
    """Starts Redis Clusters of the test's own (to kill masters in, or move slots); stops
    them after. End-to-end tests only."""
    clusters: list[EmbeddedRedisCluster] = []

    def start() -> EmbeddedRedisCluster:
        cluster = EmbeddedRedisCluster()
        clusters.append(cluster)
        cluster.start()
        return cluster

    yield start
    for cluster in clusters:
        cluster.close()


@pytest.fixture
def private_redis() -> Iterator[Callable[..., EmbeddedRedis]]:
    """Starts Redis servers of the test's own (to stop, restart or freeze; ``persistent=True``
    for one that keeps its data over a restart); stops them after. End-to-end tests only."""
    servers: list[EmbeddedRedis] = []

    def start(persistent: bool = False) -> EmbeddedRedis:
        server = EmbeddedRedis(persistent=persistent)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def stack(private_redis: Callable[[], EmbeddedRedis], tmp_path: Path) -> Iterator[Stack]:
    """daphne and workers of the test's own (it starts them), on a Redis of its own; stopped
    after the test, their logs printed (pytest shows them when the test fails)."""
    running = Stack(private_redis().url, tmp_path)
    yield running
    running.stop()
    print(running.logs())


@pytest.fixture
def demo_site(stack: Stack) -> Stack:
    """The demo as deployed: daphne and two workers, a migrated database, the demo users."""
    stack.manage("migrate", "--noinput")
    stack.manage("demo_users")
    stack.start_worker()
    stack.start_worker()
    stack.start_daphne()
    return stack


@pytest.fixture
def alice(transactional_db: None) -> User:
    """A user that a worker's threads see (committed)."""
    return User.objects.create_user("alice", password="wonderland")


@pytest.fixture
def reply_losing_proxy(redis_server: EmbeddedRedis) -> Iterator[ReplyLosingProxy]:
    """A proxy in front of the session Redis that loses a reply on demand (``tcp_proxy``)."""
    with ReplyLosingProxy(("127.0.0.1", redis_server.port)) as proxy:
        yield proxy


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses."""
    return f"test{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def layer(redis_url: str, prefix: str) -> AsyncIterator[RedisChannelLayer]:
    """The project's Redis layer on the session Redis, flushed and closed after the test."""
    channel_layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    yield channel_layer
    await channel_layer.flush()
    await channel_layer.close()

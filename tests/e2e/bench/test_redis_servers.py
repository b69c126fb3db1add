"""The benchmarks' Redis servers (bench/redis_servers.py) started for real: a single Redis
and a 3-master cluster side by side, stopped afterwards."""

from __future__ import annotations

import psutil
import redis

from bench.redis_servers import CLUSTER_MASTERS, started
from djchan.redis_urls import cluster_client


def test_both_kinds_run_at_once_and_stop_afterwards():
    """A single Redis and a cluster of 3 masters (no replicas) answer side by side; their
    processes are the PIDs given, and are gone afterwards."""
    with started(["single", "cluster", "single"]) as servers:
        assert list(servers) == ["single", "cluster"]
        single, cluster = servers["single"], servers["cluster"]
        assert len(single.pids) == 1 and len(cluster.pids) == CLUSTER_MASTERS
        assert redis.Redis.from_url(single.url).ping()
        client = cluster_client(cluster.url)
        assert len(client.get_primaries()) == CLUSTER_MASTERS
        assert client.get_replicas() == []
        client.close()
        pids = [*single.pids, *cluster.pids]
        assert all(psutil.pid_exists(pid) for pid in pids)
    assert not any(psutil.pid_exists(pid) for pid in pids)

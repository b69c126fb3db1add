"""The Redis a benchmark runs its stacks on: a private single Redis, and with ``--redis
single,cluster`` a private Redis Cluster beside it, so that the same rounds run on both in
one run, interleaved, and their figures compare side by side.

The cluster has 3 masters and no replicas: the single Redis has none either, so both sides
pay for the same work (a replica's copy of every write would cost the cluster's side CPU on
the same cores). Each stack that can run on a cluster gets a twin named ``NAME (cluster)``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from channels_classic.embedded_cluster import EmbeddedRedisCluster
from channels_classic.embedded_redis import EmbeddedRedis

#: What ``--redis`` may list: the single Redis and the cluster.
SINGLE, CLUSTER = "single", "cluster"
KINDS = (SINGLE, CLUSTER)
CLUSTER_MASTERS = 3
#: What a stack's name gets on the cluster.
CLUSTER_SUFFIX = " (cluster)"


@dataclass(frozen=True)
class RedisServer:
    """A running Redis of one kind: its URL, and the PIDs of its server processes (empty
    for a Redis the benchmark did not start)."""

    kind: str
    url: str
    pids: tuple[int, ...]


def kinds_argument(text: str) -> list[str]:
    """``--redis``'s value, a comma list of KINDS, in its order."""
    kinds = [kind.strip() for kind in text.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"{text!r}: list one or both of {', '.join(KINDS)} (e.g. --redis single,cluster)"
        )
    return list(dict.fromkeys(kinds))


def cluster_name(name: str) -> str:
    return f"{name}{CLUSTER_SUFFIX}"


@contextmanager
def started(
    kinds: Iterable[str], single_url: str | None = None, cluster_shards: int | None = None
) -> Iterator[dict[str, RedisServer]]:
    """Starts a private Redis of each of ``kinds`` (``single_url``: use that one instead of
    starting a single Redis); stops them afterwards. Yields them by kind; the cluster's URL
    asks for ``cluster_shards`` shards when given."""
    servers: dict[str, RedisServer] = {}
    with ExitStack() as stack:
        for kind in dict.fromkeys(kinds):
            if kind == SINGLE and single_url:
                servers[kind] = RedisServer(kind, single_url, ())
            elif kind == SINGLE:
                single = stack.enter_context(EmbeddedRedis())
                assert single.process is not None
                servers[kind] = RedisServer(kind, single.url, (single.process.pid,))
            else:
                cluster = stack.enter_context(EmbeddedRedisCluster(CLUSTER_MASTERS, replicas=0))
                pids = tuple(node.process.pid for node in cluster.nodes if node.process)
                url = cluster.url
                if cluster_shards is not None:
                    url += f"?shards={cluster_shards}"
                servers[kind] = RedisServer(kind, url, pids)
        yield servers

"""Where the layer's shards are: the ``hosts`` setting read into one connection setting per
shard, and the key layout that places keys on them.

One or more hosts (or Sentinel masters) are a shard each, with channels_redis's key names.
A Redis Cluster is cut into a fixed number of shards (its entry's ``shards``), each one hash
slot, so that every process agrees where a key goes whatever the cluster's shape; each
shard's connections go to the node serving its slot now (``wire.cluster``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .keys import ClusterKeyLayout, KeyLayout, cluster_tags
from .wire.cluster import shard_servers
from .wire.connection_settings import ConnectionSettings
from .wire.redis_py import cluster_of, decode_hosts


@dataclass(frozen=True, slots=True)
class Shards:
    """Each shard's server (a shard's index is its place here), and the key layout."""

    servers: tuple[ConnectionSettings, ...]
    keys: KeyLayout
    #: The Redis Cluster's label, or None for hosts of their own.
    cluster: str | None = None


def shards_of(hosts: Sequence[Any] | None, prefix: str) -> Shards:
    """Reads ``hosts``; raises ValueError naming a bad entry and what is wrong with it."""
    cluster = cluster_of(hosts)
    if cluster is None:
        servers = tuple(decode_hosts(hosts))
        return Shards(servers, KeyLayout(prefix, len(servers)))
    count = cluster.shard_count
    keys = ClusterKeyLayout(prefix, count, cluster_tags(count))
    return Shards(tuple(shard_servers(cluster, keys.slots)), keys, cluster.label)

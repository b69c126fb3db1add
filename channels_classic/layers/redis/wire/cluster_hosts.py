"""How a ``hosts`` entry names a Redis Cluster: a ``redis+cluster://`` URL or a dict.

``redis+cluster://[user:password@]host:port[,host2:port2...][?option=value...]`` names one or
more nodes to discover the cluster from (``rediss+cluster://`` for TLS); its user, password
and options are those of a single host's URL and hold for every node. The dict form is
``{"cluster": ["host:port", (host, port), ...], **options}`` with redis-py's connection
options. Either may say ``shards``: how many parts the layer cuts the cluster into (see
``docs/redis-layer.md``). The adapter (``redis_py``) reads the options; this module only
takes the entry apart and says what does not fit a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: The URL schemes that name a Redis Cluster, and the scheme of one of its nodes.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
#: How many shards the layer cuts a cluster into when the entry does not say (``shards``).
DEFAULT_CLUSTER_SHARDS = 16
#: At most one shard per hash slot.
MAX_CLUSTER_SHARDS = 16384
#: Options of a single host that make no sense for a cluster, and what to do instead.
NOT_FOR_A_CLUSTER = {
    "master_name": "a Redis Cluster needs no Sentinel: name its nodes only",
    "unix_socket_path": "cluster nodes are reached over TCP: name host:port pairs",
}


def names_cluster(entry: Any) -> bool:
    """True for a ``hosts`` entry that names a Redis Cluster."""
    if isinstance(entry, dict):
        return "cluster" in entry or names_cluster(entry.get("address"))
    return isinstance(entry, str) and urlsplit(entry).scheme in CLUSTER_SCHEMES


@dataclass(frozen=True, slots=True)
class ClusterURL:
    """A ``redis+cluster://`` URL taken apart: its nodes, and the URL of its first node
    (credentials, database and options included) for the adapter to read."""

    seeds: tuple[tuple[str, int], ...]
    node_url: str
    tls: bool


def split_cluster_url(url: str) -> ClusterURL:
    parts = urlsplit(url)
    if parts.scheme not in CLUSTER_SCHEMES:
        raise ValueError(f"{url!r} is not a cluster URL: write redis+cluster://host:port")
    credentials, _, nodes = parts.netloc.rpartition("@")
    named = [node for node in nodes.split(",") if node]
    if not named:
        raise ValueError("name at least one node: redis+cluster://host:port[,host2:port2]")
    seeds = tuple(node_address(node) for node in named)
    netloc = f"{credentials}@{named[0]}" if credentials else named[0]
    node_url = urlunsplit((CLUSTER_SCHEMES[parts.scheme], netloc, parts.path, parts.query, ""))
    return ClusterURL(seeds, node_url, tls=parts.scheme == "rediss+cluster")


def node_list(nodes: Any) -> tuple[tuple[str, int], ...]:
    """The nodes of a dict entry's ``cluster`` list."""
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, (list, tuple)) or not nodes:
        raise ValueError(
            f"cluster must be a non-empty list of nodes ('host:port' or (host, port)), got "
            f"{nodes!r}"
        )
    return tuple(node_address(node) for node in nodes)


def node_address(node: Any) -> tuple[str, int]:
    """(host, port) of a node given as 'host:port' (an IPv6 address in brackets) or a pair."""
    if isinstance(node, (tuple, list)) and len(node) == 2:
        return str(node[0]), int(node[1])
    if isinstance(node, str):
        parts = urlsplit(f"redis://{node}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.hostname and port and not parts.path:
            return parts.hostname, port
    raise ValueError(f"{node!r} is not a cluster node: write 'host:port' or (host, port)")


def shard_count_of(value: Any) -> int:
    """The ``shards`` option, checked."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if isinstance(value, bool) or not 1 <= count <= MAX_CLUSTER_SHARDS or count != float(value):
        raise ValueError(
            f"shards must be a whole number from 1 to {MAX_CLUSTER_SHARDS}, got {value!r}"
        )
    return count


def check_cluster_options(options: dict[str, Any]) -> None:
    """Refuses the options of a single host that a cluster cannot honour, saying why."""
    for name, why in NOT_FOR_A_CLUSTER.items():
        if options.get(name):
            raise ValueError(f"{name!r} does not apply to a cluster: {why}")
    if int(options.get("db") or 0):
        raise ValueError(
            f"a Redis Cluster has database 0 only, got db {options['db']!r}: use a key "
            "prefix to keep sites apart"
        )


def cluster_label(options: dict[str, Any]) -> str:
    """How errors and logs name the cluster: its scheme and nodes, never its password."""
    address = options.get("address")
    if isinstance(address, str):
        parts = urlsplit(address)
        return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], "", "", ""))
    nodes = options.get("cluster")
    if isinstance(nodes, (list, tuple)):
        shown = ",".join(
            f"{node[0]}:{node[1]}" if isinstance(node, (tuple, list)) else str(node)
            for node in nodes
        )
        return f"redis+cluster://{shown}"
    return "redis+cluster"

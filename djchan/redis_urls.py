"""Redis URLs from the environment, checked where they are read.

A URL redis-py cannot read (``127.0.0.1:6379`` without its scheme, a port or database that
is not a number) would otherwise fail later and far away, as a bare ``ValueError`` from the
settings or from the first connection. Read through ``redis_url_setting``, it stops at once
with the variable's name, the value and the forms it may take.

A Redis Cluster is named by a ``redis+cluster://host:port`` URL (``rediss+cluster://`` with
TLS): one node or several (``redis+cluster://host:port,host2:port2``), from which the others
are found. The channel layer takes it as it is; ``cluster_client`` makes redis-py's cluster
client of it (for the demo's cache). A cluster has database 0 only, so such a URL names no
other.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import parse_url

#: The forms a Redis URL may take, as the errors show them.
REDIS_URL_FORMS = (
    "redis://host:port/db (e.g. redis://127.0.0.1:6379/0), rediss://host:port/db for TLS, "
    "unix:///path/to/redis.sock?db=0, or redis+cluster://host:port[,host2:port2] for a Redis "
    "Cluster (rediss+cluster:// with TLS)"
)
#: Cluster URL schemes, each with the scheme redis-py reads for one of the cluster's nodes.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def is_cluster_url(url: str) -> bool:
    """True if ``url`` names a Redis Cluster (``redis+cluster://``, ``rediss+cluster://``)."""
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def cluster_node_url(url: str) -> str:
    """The URL of a cluster URL's first node as redis-py reads it: ``redis+cluster://h:p,h2:p2``
    is ``redis://h:p`` (``rediss+cluster://`` is ``rediss://``), credentials, path and query
    kept."""
    parts = urlsplit(url)
    credentials, at, nodes = parts.netloc.rpartition("@")
    first = nodes.split(",")[0]
    return urlunsplit(
        parts._replace(scheme=CLUSTER_SCHEMES[parts.scheme], netloc=credentials + at + first)
    )


def cluster_nodes(url: str) -> list[tuple[str, int]]:
    """(host, port) of each node a cluster URL names; ValueError for one without both."""
    nodes = []
    for node in urlsplit(url).netloc.rpartition("@")[2].split(","):
        parts = urlsplit(f"//{node}")
        if not parts.hostname or parts.port is None:
            raise ValueError(
                f"{node!r} is not a cluster node: name each as host:port, "
                "redis+cluster://host:port[,host2:port2]"
            )
        nodes.append((parts.hostname, parts.port))
    return nodes


def cluster_client(url: str, **options: Any) -> RedisCluster:
    """redis-py's cluster client for the cluster ``url`` names, found from any of its nodes
    (it connects at once: RedisClusterException when no node answers)."""
    nodes = [ClusterNode(host, port) for host, port in cluster_nodes(url)]
    return RedisCluster.from_url(cluster_node_url(url), startup_nodes=nodes, **options)


def check_redis_url(name: str, url: str) -> str:
    """``url`` if redis-py can connect with it; ImproperlyConfigured naming the variable
    ``name`` otherwise."""
    try:
        if is_cluster_url(url):
            _check_cluster_url(url)
        else:
            parse_url(url)
            _check_database_path(url)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"{name}={url!r} is not a Redis URL ({error}). Set {name} to {REDIS_URL_FORMS}."
        ) from None
    return url


def _check_database_path(url: str) -> None:
    database = urlsplit(url).path.strip("/")
    if not url.startswith("unix:") and database and not database.isdigit():
        raise ValueError(f"the path must be a database number, got {database!r}")


def _check_cluster_url(url: str) -> None:
    """ValueError unless ``url`` names nodes of a cluster as host:port, with database 0 if
    any."""
    cluster_nodes(url)
    node = cluster_node_url(url)
    options = parse_url(node)
    _check_database_path(node)
    if options.get("db", 0) != 0:
        raise ValueError(
            f"a Redis Cluster has database 0 only, got database {options['db']}: leave the "
            "database out of the URL"
        )


def redis_url_setting(name: str) -> str:
    """The environment variable ``name``, checked as a Redis URL; "" when unset or empty."""
    url = os.environ.get(name, "").strip()
    return check_redis_url(name, url) if url else ""

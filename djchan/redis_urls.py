"""Redis URLs from the environment, checked where they are read.

A URL redis-py cannot read (``127.0.0.1:6379`` without its scheme, a port or database that
is not a number) would otherwise fail later and far away, as a bare ``ValueError`` from the
settings or from the first connection. Read through ``redis_url_setting``, it stops at once
with the variable's name, the value and the forms it may take.

A Redis Cluster is named by a ``redis+cluster://host:port`` URL (``rediss+cluster://`` with
TLS): one node, from which the others are found. The channel layer takes it as it is;
redis-py's cluster client, which the demo's cache uses there, takes it with the plain
scheme (``cluster_node_url``). A cluster has database 0 only, so such a URL names no other.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from redis.connection import parse_url

#: The forms a Redis URL may take, as the errors show them.
REDIS_URL_FORMS = (
    "redis://host:port/db (e.g. redis://127.0.0.1:6379/0), rediss://host:port/db for TLS, "
    "unix:///path/to/redis.sock?db=0, or redis+cluster://host:port for a Redis Cluster "
    "(rediss+cluster:// with TLS)"
)
#: Cluster URL schemes, each with the scheme redis-py reads for one of the cluster's nodes.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def is_cluster_url(url: str) -> bool:
    """True if ``url`` names a Redis Cluster (``redis+cluster://``, ``rediss+cluster://``)."""
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def cluster_node_url(url: str) -> str:
    """A cluster URL as redis-py reads it for the node it names: ``redis+cluster://h:p`` is
    ``redis://h:p`` (``rediss+cluster://`` is ``rediss://``), the rest unchanged."""
    scheme, separator, rest = url.partition("://")
    return f"{CLUSTER_SCHEMES[scheme]}{separator}{rest}"


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
    """ValueError unless ``url`` names one node of a cluster, with database 0 if any."""
    node = cluster_node_url(url)
    options = parse_url(node)
    _check_database_path(node)
    if not options.get("host"):
        raise ValueError("a cluster URL names one of its nodes: redis+cluster://host:port")
    if options.get("db", 0) != 0:
        raise ValueError(
            f"a Redis Cluster has database 0 only, got database {options['db']}: leave the "
            "database out of the URL"
        )


def redis_url_setting(name: str) -> str:
    """The environment variable ``name``, checked as a Redis URL; "" when unset or empty."""
    url = os.environ.get(name, "").strip()
    return check_redis_url(name, url) if url else ""

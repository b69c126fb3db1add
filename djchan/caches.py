"""Where the demo's cache, which holds the sessions, lives: beside the channel layer's keys
but never among them.

- ``REDIS_CACHE_URL`` set: there (a single Redis, or a Redis Cluster with a cluster URL);
- else, with a single Redis as the layer's ``REDIS_URL``: the same server, the next
  database index, because Django's ``RedisCache.clear()`` is FLUSHDB and must not take the
  layer's messages and groups with it;
- else, with a Redis Cluster as the layer's: the same cluster (which has database 0 only),
  through ``djchan.cluster_cache.RedisClusterCache``, its keys under ``CLUSTER_KEY_PREFIX``,
  which its ``clear()`` alone deletes;
- no Redis at all: in the process's memory (runserver on the in-memory layer).

Values are stored as JSON (djchan/cache_serializer.py), never pickled.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from djchan.redis_urls import is_cluster_url

#: The demo's cache keys on a Redis Cluster start with this (and a colon).
CLUSTER_KEY_PREFIX = "djchan-cache"
SERIALIZER = {"serializer": "djchan.cache_serializer.JSONSerializer"}


def next_database(redis_url: str) -> str:
    """``redis_url`` with the next database index (from ``?db=`` or the path, as redis-py
    reads them; 0 when neither is given)."""
    parts = urlsplit(redis_url)
    query = dict(parse_qsl(parts.query))
    if "db" in query or parts.scheme == "unix":
        query["db"] = str(int(query.get("db", 0)) + 1)
        return f"{redis_url.partition('?')[0]}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or 0) + 1}"))


def cache_url(layer_url: str, own_url: str) -> str:
    """The Redis URL of the cache: ``own_url`` (REDIS_CACHE_URL) if given, else the layer's
    cluster, else the layer's server with the next database; "" without Redis."""
    if own_url or not layer_url:
        return own_url
    return layer_url if is_cluster_url(layer_url) else next_database(layer_url)


def cache_setting(url: str) -> dict[str, Any]:
    """The ``CACHES["default"]`` entry for a cache at the Redis ``url`` ("" for none)."""
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if is_cluster_url(url):
        return {
            "BACKEND": "djchan.cluster_cache.RedisClusterCache",
            "LOCATION": url,
            "KEY_PREFIX": CLUSTER_KEY_PREFIX,
            "OPTIONS": SERIALIZER,
        }
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "OPTIONS": SERIALIZER,
    }

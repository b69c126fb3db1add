"""A Django cache on a Redis Cluster, for the demo's sessions when its layer runs on one.

Django's ``RedisCache`` speaks to one server, so on a cluster every key of another node
comes back ``MOVED``; and its ``clear()`` is FLUSHDB, which on the cluster the layer shares
would wipe the layer's messages and groups too. This backend is Django's ``RedisCache`` on
redis-py's ``RedisCluster`` instead:

- the cluster is found from the nodes ``LOCATION`` names (a ``redis+cluster://`` or
  ``rediss+cluster://`` URL); redis-py follows its slots from there (MOVED, ASK, failover);
- the commands that take several keys are split by slot (a cluster refuses a command over
  keys of several slots), so ``get_many``, ``set_many`` and ``delete_many`` are atomic per
  slot only, as any multi-key write on a cluster is;
- every key starts with ``KEY_PREFIX`` (required, and Django's own key function), and
  ``clear()`` deletes those keys alone: it SCANs every master for them.

Settings::

    CACHES = {"default": {
        "BACKEND": "djchan.cluster_cache.RedisClusterCache",
        "LOCATION": "rediss+cluster://:password@cluster.example.com:6379",
        "KEY_PREFIX": "djchan-cache",
        "OPTIONS": {"serializer": "djchan.cache_serializer.JSONSerializer"},
    }}

Other OPTIONS go to ``RedisCluster`` (e.g. ``socket_timeout``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.cache.backends.base import default_key_func
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import cached_property
from redis.cluster import RedisCluster

from djchan.redis_urls import cluster_client, is_cluster_url

#: Keys each SCAN step of clear() asks a master for, and each DEL of it deletes.
CLEAR_BATCH = 500
#: What SCAN's MATCH pattern treats as special, escaped in the key prefix.
GLOB_SPECIALS = re.compile(r"([*?\[\]\\])")


class RedisClusterCacheClient(RedisCacheClient):
    """Django's Redis cache client on one ``RedisCluster``, made on first use; the methods
    whose commands take several keys split them by slot."""

    def __init__(self, servers: list[str], key_prefix: str, **options: Any) -> None:
        serializer = options.pop("serializer", None)
        super().__init__(servers, serializer=serializer)
        self._url = servers[0]
        self._cluster_options = options
        self._key_pattern = GLOB_SPECIALS.sub(r"\\\1", key_prefix) + ":*"
        self._cluster: RedisCluster | None = None

    def get_client(self, key: Any = None, *, write: bool = False) -> RedisCluster:
        if self._cluster is None:
            self._cluster = cluster_client(self._url, **self._cluster_options)
        return self._cluster

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        keys = list(keys)
        values = self.get_client().mget_nonatomic(keys)
        return {
            key: self._serializer.loads(value)
            for key, value in zip(keys, values, strict=True)
            if value is not None
        }

    def set_many(self, data: Mapping[str, Any], timeout: int | None) -> None:
        client = self.get_client(write=True)
        if timeout == 0:
            client.delete(*data)
            return
        pipeline = client.pipeline()
        for key, value in data.items():
            pipeline.set(key, self._serializer.dumps(value), ex=timeout)
        pipeline.execute()

    def clear(self) -> bool:
        """Deletes every key under the cache's prefix, on every master; nothing else."""
        client = self.get_client(write=True)
        found = client.scan_iter(
            match=self._key_pattern, count=CLEAR_BATCH, target_nodes=RedisCluster.PRIMARIES
        )
        batch: list[bytes] = []
        for key in found:
            batch.append(key)
            if len(batch) == CLEAR_BATCH:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
        return True


class RedisClusterCache(RedisCache):
    """Django's ``RedisCache`` on a Redis Cluster; see the module's docstring."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        # RedisCache cuts LOCATION at commas, which here separate the nodes of one cluster.
        self._servers = [server] if isinstance(server, str) else list(server)
        if len(self._servers) != 1 or not is_cluster_url(self._servers[0]):
            raise ImproperlyConfigured(
                "RedisClusterCache's LOCATION must be one URL, redis+cluster://host:port"
                f"[,host2:port2] (rediss+cluster:// with TLS), got {server!r}. For a single "
                "Redis, use django.core.cache.backends.redis.RedisCache."
            )
        if not self.key_prefix or self.key_func is not default_key_func:
            raise ImproperlyConfigured(
                "RedisClusterCache needs a KEY_PREFIX (e.g. 'djchan-cache') and Django's own "
                "key function (no KEY_FUNCTION): its clear() deletes the keys under that "
                "prefix only, and the cluster holds the channel layer's keys too."
            )

    @cached_property
    def _cache(self) -> RedisClusterCacheClient:
        return RedisClusterCacheClient(self._servers, self.key_prefix, **self._options)

"""Where the demo's cache lives (djchan/caches.py): its own REDIS_CACHE_URL, else the next
database of the layer's single Redis, else the layer's cluster under a key prefix, else the
process's memory."""

from __future__ import annotations

import pytest

from djchan.caches import CLUSTER_KEY_PREFIX, SERIALIZER, cache_setting, cache_url

CLUSTER = "rediss+cluster://:secret@cluster.example.com:6379"


@pytest.mark.parametrize(
    ("layer_url", "own_url", "expected"),
    [
        ("redis://10.0.0.5:6379/0", "", "redis://10.0.0.5:6379/1"),
        ("redis://10.0.0.5:6379/0", "redis://10.0.0.6:6379/0", "redis://10.0.0.6:6379/0"),
        (CLUSTER, "", CLUSTER),
        (CLUSTER, "redis://10.0.0.6:6379/0", "redis://10.0.0.6:6379/0"),
        ("redis://10.0.0.5:6379/0", CLUSTER, CLUSTER),
        ("", "", ""),
    ],
)
def test_the_cache_url_follows_the_layer_unless_given(layer_url, own_url, expected):
    """A cluster has database 0 only, so the cache shares the layer's cluster, where a single
    Redis gives it the next database."""
    assert cache_url(layer_url, own_url) == expected


def test_a_cluster_cache_is_the_cluster_backend_with_its_prefix():
    assert cache_setting(CLUSTER) == {
        "BACKEND": "djchan.cluster_cache.RedisClusterCache",
        "LOCATION": CLUSTER,
        "KEY_PREFIX": CLUSTER_KEY_PREFIX,
        "OPTIONS": SERIALIZER,
    }
    single = cache_setting("redis://10.0.0.5:6379/1")
    assert single["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert "KEY_PREFIX" not in single and single["OPTIONS"] == SERIALIZER
    assert cache_setting("")["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"

"""The demo project's settings: the cache that holds the sessions takes the Redis database
after the layer's (tests/e2e/demo/test_demo_settings.py runs them in the demo's processes)."""

from __future__ import annotations

import pytest

from djchan.caches import next_database


@pytest.mark.parametrize(
    ("layer_url", "cache_url"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"),
        ("redis://redis.internal:6379", "redis://redis.internal:6379/1"),
        ("rediss://:secret@redis.internal:6380/3", "rediss://:secret@redis.internal:6380/4"),
        ("redis://redis.internal/2?db=5", "redis://redis.internal/2?db=6"),
        ("unix:///redis.sock", "unix:///redis.sock?db=1"),
    ],
)
def test_the_cache_takes_the_database_after_the_layers(layer_url, cache_url):
    """The cache's Redis URL is the layer's with the next database index, wherever redis-py
    reads the index from (``?db=`` wins over the path; unix sockets only have ``?db=``)."""
    assert next_database(layer_url) == cache_url

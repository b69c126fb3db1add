"""The demo project's settings: sessions in Redis, in a database apart from the layer's."""

from __future__ import annotations

import pytest
import redis

from channels_classic.layers.redis import RedisChannelLayer
from djchan.settings import next_database
from tests.processes import Stack

SESSION_SCRIPT = """
from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore
from django.core.cache import caches
session = SessionStore()
session["who"] = "ann"
session.create()
cache = type(caches[settings.SESSION_CACHE_ALIAS])
print(settings.SESSION_ENGINE, cache.__module__, cache.__name__, session.session_key)
"""


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


@pytest.mark.e2e
async def test_sessions_live_in_redis_apart_from_the_layer(private_redis, tmp_path):
    """With REDIS_URL set, the demo keeps sessions in Django's Redis cache in the next
    database, so clearing the cache (FLUSHDB) leaves the layer's messages alone."""
    server = private_redis()
    stack = Stack(server.url, tmp_path)
    shell = ("shell", "--no-imports", "-c")
    engine, module, cache_class, key = stack.manage(*shell, SESSION_SCRIPT).stdout.split()
    assert (engine, module, cache_class) == (
        "django.contrib.sessions.backends.cache",
        "django.core.cache.backends.redis",
        "RedisCache",
    )
    layer_db, cache_db = (
        redis.Redis.from_url(url) for url in (server.url, next_database(server.url))
    )
    assert [name.decode() for name in cache_db.keys(f"*{key}")] == [
        f":1:django.contrib.sessions.cache{key}"
    ]
    assert layer_db.keys(f"*{key}") == []
    layer = RedisChannelLayer(hosts=[server.url])
    try:
        await layer.send("test.kept", {"n": 1})
        stack.manage(*shell, "from django.core.cache import cache; cache.clear()")
        assert cache_db.keys(f"*{key}") == []
        assert await layer.receive("test.kept") == {"n": 1}
    finally:
        await layer.close()
        layer_db.close()
        cache_db.close()

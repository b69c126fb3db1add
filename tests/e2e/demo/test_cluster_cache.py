"""The demo's cache on a Redis Cluster (djchan/cluster_cache.py), on a real embedded cluster of
3 masters with a replica each: Django's cache operations, the multi-key ones over keys of
every master, a clear() that deletes the cache's keys alone, and the demo's sessions there
when its REDIS_URL names the cluster."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from redis.cluster import RedisCluster

from channels_classic.embedded_cluster import EmbeddedRedisCluster
from channels_classic.embedded_redis import free_port
from channels_classic.layers.redis import RedisChannelLayer
from djchan.caches import CLUSTER_KEY_PREFIX, SERIALIZER
from djchan.cluster_cache import CLEAR_BATCH, RedisClusterCache
from djchan.redis_urls import cluster_node_url
from tests.support.processes import Stack

#: Enough keys for every master to hold some of them.
MANY = 60
#: Seconds a message that is there may take to be received.
RECEIVE_TIMEOUT = 10


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmbeddedRedisCluster]:
    with EmbeddedRedisCluster() as started:
        yield started


@pytest.fixture
def client(cluster: EmbeddedRedisCluster) -> Iterator[RedisCluster]:
    """redis-py's cluster client, to look at what the cache wrote."""
    connection = RedisCluster.from_url(cluster_node_url(cluster.url))
    yield connection
    connection.close()


def make_cache(url: str, prefix: str, **params: object) -> RedisClusterCache:
    return RedisClusterCache(url, {"KEY_PREFIX": prefix, "OPTIONS": SERIALIZER, **params})


@pytest.fixture
def cache(cluster: EmbeddedRedisCluster) -> RedisClusterCache:
    return make_cache(cluster.url, f"test-{secrets.token_hex(4)}")


def masters_holding(client: RedisCluster, keys: list[str]) -> set[str]:
    """The names of the masters whose slots hold ``keys``."""
    return {client.get_node_from_key(key).name for key in keys}


def every_key(client: RedisCluster, pattern: str = "*") -> set[bytes]:
    return set(client.scan_iter(match=pattern, target_nodes=RedisCluster.PRIMARIES))


def test_single_key_operations(cache, client):
    """get, set, add, touch, has_key and delete work on keys of any node; values are JSON
    under the prefix and version; timeouts become key lifetimes."""
    assert cache.get("missing", "default") == "default"
    cache.set("session", {"who": "ann", "n": 3}, timeout=60)
    assert cache.get("session") == {"who": "ann", "n": 3}
    stored = cache.make_key("session")
    assert stored.startswith(f"{cache.key_prefix}:1:")
    assert json.loads(client.get(stored)) == {"who": "ann", "n": 3}
    assert 0 < client.ttl(stored) <= 60
    assert cache.add("session", "other") is False
    assert cache.add("fresh", [1, 2]) is True and cache.get("fresh") == [1, 2]
    assert cache.touch("session", None) is True and client.ttl(stored) == -1
    assert cache.has_key("session") and not cache.has_key("missing")
    assert cache.delete("session") is True and cache.get("session") is None
    cache.set("gone", 1, timeout=0)
    assert not cache.has_key("gone")


def test_the_cluster_is_found_from_any_node_the_url_names(cluster):
    """A URL may name several nodes: the first of these answers nothing, the second finds
    the cluster."""
    nodes = f"127.0.0.1:{free_port()},127.0.0.1:{cluster.masters[1].port}"
    cache = make_cache(f"redis+cluster://{nodes}", f"test-{secrets.token_hex(4)}")
    cache.set("found", True)
    assert cache.get("found") is True


def test_counters_count(cache):
    """incr and decr work on the cache's whole numbers (stored as digits); a missing key is
    a ValueError, as in Django's Redis cache."""
    cache.set("counter", 1)
    assert cache.incr("counter") == 2
    assert cache.incr("counter", 10) == 12
    assert cache.decr("counter", 5) == 7
    assert cache.get("counter") == 7
    with pytest.raises(ValueError, match="not found"):
        cache.incr("no-counter")


def test_many_operations_span_every_master(cache, client):
    """set_many, get_many and delete_many take keys of every master at once (a cluster
    refuses one command over several slots, so the backend splits them)."""
    data = {f"key{n}": {"n": n} for n in range(MANY)}
    assert len(masters_holding(client, [cache.make_key(key) for key in data])) == 3
    assert cache.set_many(data, timeout=60) == []
    assert all(0 < client.ttl(cache.make_key(key)) <= 60 for key in data)
    assert cache.get_many([*data, "missing"]) == data
    cache.delete_many(list(data)[: MANY // 2])
    assert cache.get_many(list(data)) == dict(list(data.items())[MANY // 2 :])
    cache.set_many(data, timeout=0)
    assert cache.get_many(list(data)) == {}


def test_clear_deletes_the_cache_keys_alone(cluster, client):
    """clear() deletes every key under the cache's prefix on every master (more than one
    batch of them) and nothing else: the channel layer's keys, another cache's (whose prefix
    begins alike), and keys that the prefix would match as an unescaped pattern stay."""
    cache = make_cache(cluster.url, "t[1]*")
    cache.set_many({f"key{n}": n for n in range(CLEAR_BATCH + 100)})
    others = ["asgi:websocket.receive", "asgi:group:room", "t[1]*other:1:x", "t1x:1:key1"]
    others += [f"{CLUSTER_KEY_PREFIX}-x:{n}" for n in range(MANY)]
    for key in others:
        client.set(key, "kept")
    assert len(masters_holding(client, others)) == 3
    assert cache.clear() is True
    assert every_key(client, "t\\[1\\]\\*:*") == set()
    assert {key.decode() for key in every_key(client)} >= set(others)
    assert cache.get("key1") is None
    client.delete(*others)


def test_a_location_that_is_no_cluster_url_is_refused():
    refusal = r"LOCATION must be one URL, redis\+cluster://host:port\[,host2:port2\]"
    with pytest.raises(ImproperlyConfigured, match=refusal):
        make_cache("redis://127.0.0.1:6379/0", "p")
    with pytest.raises(ImproperlyConfigured, match="For a single Redis, use django.core"):
        make_cache(["redis+cluster://a:7000", "redis+cluster://b:7000"], "p")


def key_prefix_last(key: str, key_prefix: str, version: int) -> str:
    """A KEY_FUNCTION that puts the prefix where clear() would not look for it."""
    return f"{key}:{version}:{key_prefix}"


@pytest.mark.parametrize(
    "params",
    [{"KEY_PREFIX": ""}, {"KEY_FUNCTION": "tests.e2e.demo.test_cluster_cache.key_prefix_last"}],
)
def test_it_needs_a_key_prefix_and_django_keys(params):
    """Without a prefix (or with keys made elsewhere) clear() could delete the layer's keys:
    refused, saying what to set."""
    with pytest.raises(ImproperlyConfigured, match=r"needs a KEY_PREFIX \(e.g. 'djchan-cache'\)"):
        make_cache("redis+cluster://127.0.0.1:7000", "p", **params)


SESSION_SCRIPT = """
from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore
from django.core.cache import caches
session = SessionStore()
session.update({"_auth_user_id": "7", "room": "lobby"})
session.create()
cache = caches[settings.SESSION_CACHE_ALIAS]
print(type(cache).__name__, session.session_key, SessionStore(session.session_key).load())
"""


async def test_the_demo_keeps_sessions_on_its_cluster(cluster, client, tmp_path: Path):
    """With REDIS_URL naming a cluster (and no REDIS_CACHE_URL), the demo's sessions live on
    that cluster as JSON under the cache's prefix, and clearing the cache leaves the channel
    layer's messages and groups on the same cluster alone."""
    stack = Stack(cluster.url, tmp_path)
    stack.env.pop("REDIS_CACHE_URL", None)
    shell = ("shell", "--no-imports", "-c")
    backend, key, loaded = stack.manage(*shell, SESSION_SCRIPT).stdout.split(maxsplit=2)
    assert backend == "RedisClusterCache"
    assert loaded.strip() == "{'_auth_user_id': '7', 'room': 'lobby'}"
    stored = f"{CLUSTER_KEY_PREFIX}:1:django.contrib.sessions.cache{key}"
    assert json.loads(client.get(stored)) == {"_auth_user_id": "7", "room": "lobby"}
    layer = RedisChannelLayer(hosts=[cluster.url], prefix=f"test{secrets.token_hex(4)}")
    try:
        await layer.send("test.kept", {"n": 1})
        member = await layer.new_channel()
        await layer.group_add("room", member)
        stack.manage(*shell, "from django.core.cache import cache; cache.clear()")
        assert client.get(stored) is None
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            assert await layer.receive("test.kept") == {"n": 1}
            await layer.group_send("room", {"n": 2})
            assert await layer.receive(member) == {"n": 2}
    finally:
        await layer.flush()
        await layer.close()

"""The demo project's settings in its own processes: sessions in Redis (as JSON), in a
database apart from the layer's; the deployed settings serve the demo and its static files."""

from __future__ import annotations

import asyncio
import json
import pickle
import secrets
import urllib.error
import urllib.request

import redis

from channels_classic.layers.redis import RedisChannelLayer
from djchan.caches import next_database
from tests.support.processes import ROOT, Stack

#: How a pickle of protocol 2 or later begins.
PICKLE_PROTOCOL_MARK = pickle.PROTO

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

ROUND_TRIP_SCRIPT = """
from django.contrib.sessions.backends.cache import SessionStore
from django.core.cache import cache
session = SessionStore()
session.update({"_auth_user_id": "7", "room": "lobby", "n": 3})
session.create()
cache.set("test.counter", 1)
print(session.session_key, SessionStore(session.session_key).load(), cache.incr("test.counter"))
"""


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


def test_sessions_are_stored_as_json_never_pickled(private_redis, tmp_path):
    """A session saved and loaded again in the demo's cache comes back whole, and what Redis
    holds for it (and for everything else in the cache) is plain JSON, no pickle; counters
    still count."""
    server = private_redis()
    stack = Stack(server.url, tmp_path)
    output = stack.manage("shell", "--no-imports", "-c", ROUND_TRIP_SCRIPT).stdout
    key, loaded = output.split(maxsplit=1)
    assert loaded.strip() == "{'_auth_user_id': '7', 'room': 'lobby', 'n': 3} 2"
    cache_db = redis.Redis.from_url(next_database(server.url))
    try:
        raw = cache_db.get(f":1:django.contrib.sessions.cache{key}")
        assert json.loads(raw) == {"_auth_user_id": "7", "room": "lobby", "n": 3}
        stored = [cache_db.get(name) for name in cache_db.keys("*")]
        assert len(stored) == 2
        assert not [value for value in stored if value.startswith(PICKLE_PROTOCOL_MARK)]
        assert [json.loads(value) for value in stored]
    finally:
        cache_db.close()


async def test_the_deployed_settings_serve_the_demo_with_its_static_files(stack, tmp_path):
    """DEBUG off with a secret key of its own, as the Procfile runs: the page and its static
    files (collected, served by WhiteNoise) are there, and a missing page is a plain 404,
    not Django's debug page."""
    stack.env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
    )
    stack.manage("migrate", "--noinput", "-v", "0")
    stack.manage("collectstatic", "--noinput", "-v", "0")
    stack.start_worker()
    stack.start_daphne()
    script = (ROOT / "realtime" / "static" / "realtime" / "chat.js").read_bytes()

    def get(path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(stack.url(path, "http"), timeout=20) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    assert await asyncio.to_thread(get, "/static/realtime/chat.js") == (200, script)
    status, page = await asyncio.to_thread(get, "/rooms/lobby/")
    assert status == 200 and b"/static/realtime/chat." in page
    status, missing = await asyncio.to_thread(get, "/no-such-page/")
    assert status == 404 and b"URLconf" not in missing

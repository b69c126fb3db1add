"""Messages as the interface server builds them, layers and workers, for the session,
ordering and auth tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from channels_classic.interface import messages
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.layers.sync import runner
from channels_classic.message import Message
from channels_classic.worker import Worker

CACHE_ENGINE = "django.contrib.sessions.backends.cache"
CACHED_DB_ENGINE = "django.contrib.sessions.backends.cached_db"
DB_ENGINE = "django.contrib.sessions.backends.db"
SIGNED_COOKIES_ENGINE = "django.contrib.sessions.backends.signed_cookies"
#: Logins in tests need no slow password hashing.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOCMEM_CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def db_sessions(settings: Any) -> Any:
    """Sessions in the db engine, channel sessions too, and an in-process cache: for every
    test of a module that imports it."""
    return keep_sessions_in(settings)


def keep_sessions_in(settings: Any, *, channel_engine: str | None = None) -> Any:
    """Sessions in the db engine, channel sessions in ``channel_engine`` (default: the same),
    and an in-process cache; returns the pytest-django ``settings``."""
    settings.SESSION_ENGINE = DB_ENGINE
    settings.CACHES = LOCMEM_CACHES
    if channel_engine is not None:
        settings.CHANNEL_SESSION_ENGINE = channel_engine
    elif hasattr(settings, "CHANNEL_SESSION_ENGINE"):
        del settings.CHANNEL_SESSION_ENGINE
    return settings


def http_session_with(data: dict[str, Any]) -> str:
    """Creates a session in the db engine (as SessionMiddleware would) and returns its key."""
    session = DbSessionStore()
    session.update(data)
    session.create()
    return session.session_key


def store_session(key: str, data: dict[str, Any], *, expires_in: timedelta) -> None:
    """Writes a session row with ``key`` straight into the db engine's table (expired when
    ``expires_in`` is negative)."""
    Session.objects.create(
        session_key=key,
        session_data=DbSessionStore().encode(data),
        expire_date=timezone.now() + expires_in,
    )


def make_layer(*routes: Any) -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(), alias="test", routing=list(routes))


def connect(
    layer: ClassicLayer, reply: str, *, query: bytes = b"", cookie: str | None = None
) -> Message:
    """A websocket.connect Message as the interface server builds it."""
    headers = [[b"host", b"testserver"]]
    if cookie is not None:
        headers.append([b"cookie", cookie.encode("latin-1")])
    scope = {"path": "/chat/", "query_string": query, "headers": headers, "scheme": "ws"}
    return Message(messages.websocket_connect(scope, reply), "websocket.connect", layer)


def receive(layer: ClassicLayer, reply: str, order: int, text: str = "hi") -> Message:
    content = messages.websocket_receive(reply, "/chat/", order, {"text": text})
    return Message(dict(content), "websocket.receive", layer)


def disconnect(layer: ClassicLayer, reply: str, order: int) -> Message:
    content = messages.websocket_disconnect(reply, "/chat/", 1000, order)
    return Message(dict(content), "websocket.disconnect", layer)


def send_all(layer: ClassicLayer, *sent: Message) -> None:
    """Puts messages on their channels, as the interface server would."""
    for message in sent:
        layer.send(message.channel.name, dict(message.content))


@contextmanager
def running_worker(layer: ClassicLayer, threads: int, **options: Any) -> Iterator[Worker]:
    """A real worker on ``layer`` in a thread of its own, stopped (through its loop) after."""
    worker = Worker(layer, threads=threads, install_signals=False, **options)
    thread = threading.Thread(target=worker.run, name="test-worker")
    thread.start()
    try:
        yield worker
    finally:
        runner.loop.call_soon_threadsafe(worker.stop)
        thread.join(10)
        assert not thread.is_alive()

"""Redis URLs from the environment, checked where they are read.

A URL redis-py cannot read (``127.0.0.1:6379`` without its scheme, a port or database that
is not a number) would otherwise fail later and far away, as a bare ``ValueError`` from the
settings or from the first connection. Read through ``redis_url_setting``, it stops at once
with the variable's name, the value and the forms it may take.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from redis.connection import parse_url

#: The forms a Redis URL may take, as the errors show them.
REDIS_URL_FORMS = (
    "redis://host:port/db (e.g. redis://127.0.0.1:6379/0), rediss://host:port/db for TLS, "
    "or unix:///path/to/redis.sock?db=0"
)


def check_redis_url(name: str, url: str) -> str:
    """``url`` if redis-py can connect with it; ImproperlyConfigured naming the variable
    ``name`` otherwise."""
    try:
        parse_url(url)
        database = urlsplit(url).path.strip("/")
        if not url.startswith("unix:") and database and not database.isdigit():
            raise ValueError(f"the path must be a database number, got {database!r}")
    except ValueError as error:
        raise ImproperlyConfigured(
            f"{name}={url!r} is not a Redis URL ({error}). Set {name} to {REDIS_URL_FORMS}."
        ) from None
    return url


def redis_url_setting(name: str) -> str:
    """The environment variable ``name``, checked as a Redis URL; "" when unset or empty."""
    url = os.environ.get(name, "").strip()
    return check_redis_url(name, url) if url else ""

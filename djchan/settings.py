"""Settings for the djchan demo project, read from environment variables (12-factor).

REDIS_URL             the channel layer's Redis; unset: an in-memory layer (runserver only;
                      bin/run starts an embedded Redis and sets it)
REDIS_CACHE_URL       the Redis of the cache, which holds the sessions; unset: REDIS_URL's
                      server, next database index (the cache's clear() is FLUSHDB)
DJANGO_SECRET_KEY, DJANGO_DEBUG (1/0), DJANGO_ALLOWED_HOSTS (comma-separated)
DJANGO_DATABASE       path of the SQLite database
DJANGO_STATIC_ROOT    where collectstatic writes the static files the workers serve
WORKER_THREADS        consumers each runworker process runs at once
"""

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from djchan.redis_urls import redis_url_setting

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "djchan-development-key-not-for-production")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    # First, so that its runserver and runworker are the ones Django runs.
    "channels_classic",
    "channels_classic.delay",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (djchan/staticfiles.py), before anything spends a session lookup on them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "djchan.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DATABASE", str(BASE_DIR / "db.sqlite3")),
        # Several worker processes (8 threads each) write presence rows at once. A deferred
        # transaction that reads and then writes gets "database is locked" at once instead of
        # waiting, so transactions take the write lock when they begin; WAL lets readers go on
        # while one of them writes.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}

REDIS_URL = redis_url_setting("REDIS_URL")

# Every socket's frames and every request share these channels: let a burst queue up before
# the interface server pushes back (a reply channel keeps the default capacity of 100).
INGRESS_CAPACITY = {"http.request": 1000, "websocket.*": 1000}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": (
            "channels_classic.layers.redis.RedisChannelLayer"
            if REDIS_URL
            else "channels_classic.layers.inmemory.InMemoryChannelLayer"
        ),
        "CONFIG": {"channel_capacity": INGRESS_CAPACITY}
        | ({"hosts": [REDIS_URL]} if REDIS_URL else {}),
        "ROUTING": "routing.channel_routing",
    },
}


def next_database(redis_url: str) -> str:
    """``redis_url`` with the next database index (from ``?db=`` or the path, as redis-py
    reads them; 0 when neither is given)."""
    parts = urlsplit(redis_url)
    query = dict(parse_qsl(parts.query))
    if "db" in query or parts.scheme == "unix":
        query["db"] = str(int(query.get("db", 0)) + 1)
        return f"{redis_url.partition('?')[0]}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or 0) + 1}"))


# Sessions live in Redis through Django's own Redis cache backend (in memory without Redis),
# in a database of their own: the cache's clear() runs FLUSHDB, which must not take the
# layer's messages and groups with it.
REDIS_CACHE_URL = redis_url_setting("REDIS_CACHE_URL") or (REDIS_URL and next_database(REDIS_URL))
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}
        if REDIS_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

CHANNELS_WORKER_THREADS = int(os.environ.get("WORKER_THREADS", "8"))

# A view's error (a 500) goes to the process's stderr with DEBUG off too: Django's default
# logging shows it only with DEBUG on, which leaves a deployed worker's 500s unexplained.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"debug_off": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {"line": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "filters": ["debug_off"], "formatter": "line"}
    },
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "djchan.staticfiles.ReleaseStaticFilesStorage"},
}

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

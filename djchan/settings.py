"""Settings for the djchan demo project, read from environment variables (12-factor).

REDIS_URL             the channel layer's Redis, or Redis Cluster (redis+cluster://host:port);
                      unset: an in-memory layer (runserver only; bin/run starts an embedded
                      Redis and sets it)
REDIS_CACHE_URL       the Redis of the cache, which holds the sessions; unset: REDIS_URL's
                      server, next database index (the cache's clear() is FLUSHDB), or on a
                      cluster the same cluster, under a key prefix of its own
DJANGO_DEBUG          1: development (debug pages, the development secret key accepted,
                      static files served by the workers); unset or 0: off
DJANGO_SECRET_KEY     required with DEBUG off (processes refuse to start without it)
DJANGO_ALLOWED_HOSTS  comma-separated host names (default 127.0.0.1,localhost)
DJANGO_HTTPS          1: the site is served over HTTPS only (redirect, secure cookies, HSTS)
DJANGO_HSTS_SECONDS   with DJANGO_HTTPS=1, how long browsers must insist on HTTPS (3600)
DJANGO_HSTS_INCLUDE_SUBDOMAINS, DJANGO_HSTS_PRELOAD
                      1: HSTS covers every subdomain too; the site may be preloaded (both 0)
DJANGO_DATABASE       path of the SQLite database
DJANGO_STATIC_ROOT    where collectstatic writes the static files the workers serve
WORKER_THREADS        consumers each runworker process runs at once
"""

import os
from pathlib import Path

from djchan.caches import cache_setting, cache_url
from djchan.redis_urls import redis_url_setting

BASE_DIR = Path(__file__).resolve().parent.parent

#: What is wrong with the environment variables read here: every process refuses to start
#: with these as errors (djchan/checks.py), each naming its variable.
ENVIRONMENT_ERRORS: list[str] = []


def environment_flag(name: str) -> bool:
    """True for "1", False for "0" or unset; anything else is an error (and False)."""
    value = os.environ.get(name, "0")
    if value not in ("0", "1"):
        ENVIRONMENT_ERRORS.append(f"{name} must be 1 (on) or 0 (off), got {value!r}")
    return value == "1"


def environment_seconds(name: str, default: int) -> int:
    """A whole number of seconds, ``default`` when unset; anything else is an error."""
    value = os.environ.get(name, str(default))
    if not value.isdigit():
        ENVIRONMENT_ERRORS.append(f"{name} must be a whole number of seconds, got {value!r}")
        return default
    return int(value)


#: Published with the project, so good for development only: with DEBUG off, every process
#: refuses to start with it (djchan/checks.py).
DEVELOPMENT_SECRET_KEY = "djchan-development-key-not-for-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or DEVELOPMENT_SECRET_KEY
DEBUG = environment_flag("DJANGO_DEBUG")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    # First, so that its runserver and runworker are the ones Django runs.
    "channels_classic",
    "djchan",
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


# Sessions live in Redis through a Django Redis cache (in memory without Redis), apart from
# the layer's keys: djchan/caches.py says where, and why.
REDIS_CACHE_URL = cache_url(REDIS_URL, redis_url_setting("REDIS_CACHE_URL"))
CACHES = {"default": cache_setting(REDIS_CACHE_URL)}
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
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "djchan.staticfiles.ReleaseStaticFilesStorage"},
}

# HTTPS-only protections, for a site served over HTTPS alone (behind a proxy that ends TLS,
# start daphne with --proxy-headers so that requests know they came over HTTPS). HSTS makes
# browsers refuse plain HTTP for that long: start small, raise it once all is well.
HTTPS = environment_flag("DJANGO_HTTPS")
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = environment_seconds("DJANGO_HSTS_SECONDS", 3600) if HTTPS else 0
# Both reach beyond this site (every subdomain; browsers' built-in lists): off unless asked.
SECURE_HSTS_INCLUDE_SUBDOMAINS = environment_flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = environment_flag("DJANGO_HSTS_PRELOAD")

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

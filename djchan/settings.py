"""Settings for the djchan demo project, read from environment variables (12-factor).

REDIS_URL         the Redis of the channel layer (bin/run starts an embedded one if unset)
DJANGO_SECRET_KEY, DJANGO_DEBUG (1/0), DJANGO_ALLOWED_HOSTS (comma-separated)
WORKER_THREADS    consumers each runworker process runs at once
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "djchan-development-key-not-for-production")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "channels_classic",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "realtime",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DATABASE", str(BASE_DIR / "db.sqlite3")),
    }
}

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_classic.layers.redis.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
        "ROUTING": "routing.channel_routing",
    },
}

CHANNELS_WORKER_THREADS = int(os.environ.get("WORKER_THREADS", "4"))

USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

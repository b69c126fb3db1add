"""The demo's settings on a cluster URL, read by manage.py as a deployment reads them."""

from __future__ import annotations

import os

from tests.support.processes import run_manage

CLUSTER = "rediss+cluster://:secret@cluster.example.com:6379"

PRINT_SETTINGS = (
    "from django.conf import settings; layer = settings.CHANNEL_LAYERS['default']; "
    "print(layer['BACKEND'], layer['CONFIG']['hosts'], settings.CACHES['default']['BACKEND'], "
    "settings.CACHES['default']['LOCATION'])"
)


def test_the_demo_settings_give_a_cluster_url_to_the_layer_as_it_is():
    env = {
        **os.environ,
        "REDIS_URL": CLUSTER,
        "DJANGO_SETTINGS_MODULE": "djchan.settings",
    }
    env.pop("REDIS_CACHE_URL", None)
    result = run_manage(env, "shell", "--no-imports", "-c", PRINT_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "channels_classic.layers.redis.RedisChannelLayer",
        f"['{CLUSTER}']",
        "djchan.cluster_cache.RedisClusterCache",
        CLUSTER,
    ]

"""Settings of the benchmarked djchan stacks: the demo's, as shipped, plus what a benchmark
needs.

What is added, and nothing else:

BENCH_LAYER    djchan (the default): the demo's layer, channels_classic's Redis layer;
               channels_redis: channels_redis.core.RedisChannelLayer (4.3), same CONFIG
REDIS_URL      required: the Redis the stacks use (the demo reads it too), or a Redis
               Cluster (redis+cluster://host:port), where the djchan layer alone can run
BENCH_PREFIX   the layer's Redis key prefix (default "asgi", the demo's), so that stacks run
               one after another on one Redis never see each other's leftovers

Routing is bench/routing.py: the demo's routes plus the broadcast group; URLs are
bench/urls.py: the demo's plus /bench/hello/. The layer's capacities are the demo's.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from djchan.redis_urls import is_cluster_url
from djchan.settings import *  # noqa: F403

#: BENCH_LAYER value → the layer class it selects.
LAYERS = {
    "djchan": "channels_classic.layers.redis.RedisChannelLayer",
    "channels_redis": "channels_redis.core.RedisChannelLayer",
}

if not REDIS_URL:  # noqa: F405
    raise ImproperlyConfigured(
        "bench.settings needs REDIS_URL (redis://host:port/db, or redis+cluster://host:port): "
        "the benchmarked stacks run on Redis; bench/ws_bench.py starts a private one and sets "
        "it"
    )

BENCH_LAYER = os.environ.get("BENCH_LAYER", "djchan")
if BENCH_LAYER not in LAYERS:
    raise ImproperlyConfigured(
        f"BENCH_LAYER={BENCH_LAYER!r} is not a benchmarked layer: set it to one of "
        f"{', '.join(sorted(LAYERS))}"
    )

if BENCH_LAYER == "channels_redis" and is_cluster_url(REDIS_URL):  # noqa: F405
    raise ImproperlyConfigured(
        "BENCH_LAYER=channels_redis cannot run on a Redis Cluster (its scripts touch keys of "
        "several slots): give it a single Redis's REDIS_URL, or set BENCH_LAYER=djchan"
    )

ROOT_URLCONF = "bench.urls"

_DEMO_LAYER = CHANNEL_LAYERS["default"]  # noqa: F405
CHANNEL_LAYERS = {
    "default": _DEMO_LAYER
    | {
        "BACKEND": LAYERS[BENCH_LAYER],
        "CONFIG": _DEMO_LAYER["CONFIG"] | {"prefix": os.environ.get("BENCH_PREFIX", "asgi")},
        "ROUTING": "bench.routing.channel_routing",
    },
}

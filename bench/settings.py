"""Settings of the benchmarked djchan stacks: the demo's, on a layer chosen by BENCH_LAYER.

BENCH_LAYER    djchan (the default): channels_classic.layers.redis.RedisChannelLayer;
               channels_redis: channels_redis.core.RedisChannelLayer (4.3)
REDIS_URL      required: the Redis both layers use
BENCH_PREFIX   the layer's Redis key prefix (default "asgi"), so that stacks run one after
               another on one Redis never see each other's leftovers

Both layers get the same REDIS_URL and a capacity far above anything the benchmark queues,
so that no figure is shaped by a full channel. Routing is bench/routing.py: the demo's
routes plus the broadcast group; URLs are bench/urls.py: the demo's plus /bench/hello/.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from djchan.settings import *  # noqa: F403

#: BENCH_LAYER value → the layer class it selects.
LAYERS = {
    "djchan": "channels_classic.layers.redis.RedisChannelLayer",
    "channels_redis": "channels_redis.core.RedisChannelLayer",
}
#: Messages a channel may hold: never reached, so backpressure plays no part in the figures.
CAPACITY = 1_000_000

if not REDIS_URL:  # noqa: F405
    raise ImproperlyConfigured(
        "bench.settings needs REDIS_URL (redis://host:port/db): the benchmarked stacks run "
        "on Redis; bench/ws_bench.py starts a private one and sets it"
    )

BENCH_LAYER = os.environ.get("BENCH_LAYER", "djchan")
if BENCH_LAYER not in LAYERS:
    raise ImproperlyConfigured(
        f"BENCH_LAYER={BENCH_LAYER!r} is not a benchmarked layer: set it to one of "
        f"{', '.join(sorted(LAYERS))}"
    )

ROOT_URLCONF = "bench.urls"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": LAYERS[BENCH_LAYER],
        "CONFIG": {
            "hosts": [REDIS_URL],  # noqa: F405
            "prefix": os.environ.get("BENCH_PREFIX", "asgi"),
            "capacity": CAPACITY,
        },
        "ROUTING": "bench.routing.channel_routing",
    },
}

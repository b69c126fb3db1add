"""The least a worker can do for the demo's echo on the project's Redis layer: the benchmark's
measure of what the architecture itself costs (daphne, Redis, a worker process, Redis,
daphne), apart from the worker's own machinery.

    REDIS_URL=redis://... BENCH_PREFIX=... .venv/bin/python bench/minimal_worker.py

No Django, no event loop, no threads: one blocking BZPOPMIN (redis-py) on the echo's channels,
the layer's own decoding, and the reply through the layer's blocking ``send_sync``. It
accepts every ``websocket.connect``, answers ``websocket.receive`` as the demo's echo
consumer does, and ignores ``websocket.disconnect``; nothing else (no routing, no
consumer signals, no ordering, no expiry check). Not a worker to deploy: ``runworker`` is.
Exits on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.settings import CHANNEL_LAYERS  # noqa: E402
from channels_classic.layers.redis import RedisChannelLayer  # noqa: E402

#: Seconds one BZPOPMIN blocks before it is sent again.
BLOCK = 10


def reply_to(channel: str, message: dict[str, Any]) -> dict[str, Any] | None:
    if channel == "websocket.connect":
        return {"accept": True}
    if channel == "websocket.receive":
        return {"text": f"You said: {message['text']}"}
    return None


def serve(url: str) -> NoReturn:
    """Answers the echo's messages on the layer the benchmark's settings configure."""
    layer = RedisChannelLayer(**CHANNEL_LAYERS["default"]["CONFIG"])
    keys = [layer.keys.key_of(name) for name in ("websocket.connect", "websocket.receive")]
    keys.append(layer.keys.key_of("websocket.disconnect"))
    client = redis.Redis.from_url(url)
    print("minimal worker: listening", flush=True)
    while True:
        popped = client.bzpopmin(keys, BLOCK)
        if popped is None:
            continue
        key, member, _ = popped
        message = layer.codec.decode(member)
        reply = reply_to(layer.keys.channel_of_key(key), message)
        if reply is not None:
            layer.send_sync(message["reply_channel"], reply)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(os.environ["REDIS_URL"])


if __name__ == "__main__":
    main()

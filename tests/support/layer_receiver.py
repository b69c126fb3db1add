"""A receiving process for the multi-process layer tests.

Usage: python -m tests.support.layer_receiver REDIS_URLS PREFIX CHANNEL BATCH_LIMIT

REDIS_URLS is one Redis URL, or several separated by commas (the layer's hosts).

Prints "ready", then one JSON list per batch of the "n" values it received, until stopped by
SIGTERM.
"""

import asyncio
import json
import sys

from channels_classic.layers.redis import RedisChannelLayer


async def receive_forever(urls: str, prefix: str, channel: str, limit: int) -> None:
    layer = RedisChannelLayer(hosts=urls.split(","), prefix=prefix)
    # One receive registered before "ready", so the test's first messages find us waiting.
    first = asyncio.ensure_future(layer.receive_batch([channel], limit))
    await asyncio.sleep(0)
    print("ready", flush=True)
    batch = await first
    while True:
        print(json.dumps([message["n"] for _, message in batch]), flush=True)
        batch = await layer.receive_batch([channel], limit)


if __name__ == "__main__":
    urls, prefix, channel, limit = sys.argv[1:5]
    asyncio.run(receive_forever(urls, prefix, channel, int(limit)))

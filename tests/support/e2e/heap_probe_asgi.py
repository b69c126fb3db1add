"""A project's own asgi.py as its author writes it, with no heap call of its own, plus one
probe: ``GET /heap/`` answers ``gc.get_freeze_count()`` of the serving process. Run with
``daphne tests.support.e2e.heap_probe_asgi:application``."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.support.e2e.settings")

from channels_classic.asgi import get_channel_layer  # noqa: E402

channel_layer = get_channel_layer()


async def application(scope, receive, send):
    if scope["type"] != "http" or scope["path"] != "/heap/":
        await channel_layer(scope, receive, send)
        return
    await receive()
    body = str(gc.get_freeze_count()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""One ASGI application serving a Channels 4 consumer on ``/modern/`` (a URLRouter inside a
ProtocolTypeRouter) and every other socket and request through the classic routes, as
``docs/mixed-mode.md`` shows; run with ``daphne tests.support.e2e.mixed_asgi:application``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.support.e2e.mixed_settings")

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from channels_classic.asgi import get_channel_layer  # noqa: E402
from tests.support.mixed_consumers import ModernChat  # noqa: E402

channel_layer = get_channel_layer()

application = ProtocolTypeRouter(
    {
        "websocket": URLRouter(
            [
                path("modern/", ModernChat.as_asgi()),
                re_path(r"", channel_layer),
            ]
        ),
        "http": channel_layer,
    }
)

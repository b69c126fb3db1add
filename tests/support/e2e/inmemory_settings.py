"""The demo project's settings on the in-memory layer (for single-process tests)."""

from djchan.settings import *  # noqa: F403

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "asgiref.inmemory.ChannelLayer",
        "ROUTING": "routing.channel_routing",
    }
}

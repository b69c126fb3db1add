"""channels_classic: the Channels 1.x programming model on Django 5, daphne 4 and Redis.

An interface server (``daphne project.asgi:channel_layer``) turns WebSocket and HTTP events
into messages on a channel layer; ``manage.py runworker`` processes run plain consumer
functions routed on channel names and message keys. See the README for the whole picture.
"""

__version__ = "0.1.0"

from .channel import Channel, Group
from .layers.registry import DEFAULT_CHANNEL_LAYER, channel_layers, get_channel_layer
from .routing import include, route, route_class

#: 1.x's pointer to the app config (Django 5 finds it without one; kept for code that reads it).
default_app_config = "channels_classic.apps.ChannelsConfig"

__all__ = [
    "DEFAULT_CHANNEL_LAYER",
    "__version__",
    "Channel",
    "Group",
    "channel_layers",
    "default_app_config",
    "get_channel_layer",
    "include",
    "route",
    "route_class",
]

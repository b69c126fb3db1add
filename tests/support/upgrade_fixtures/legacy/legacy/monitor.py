"""Queue statistics for the dashboard, straight from the 1.x layer."""
from asgi_redis import RedisChannelLayer
from channels import channel_layers


def queue_lengths(names):
    layer = channel_layers["default"]
    return {name: layer.channel_statistics(name)["messages_pending"] for name in names}


def direct_layer():
    return RedisChannelLayer(hosts=[("redis", 6379)])

"""The layer a long-running command works on, checked the way every such command needs."""

from __future__ import annotations

from django.core.management.base import CommandError

from ..exceptions import InvalidChannelLayerError
from ..layers.facade import ClassicLayer
from ..layers.registry import get_channel_layer


def shared_layer(alias: str, role: str) -> ClassicLayer:
    """The layer of ``alias``, for a process (``role``: "a worker", "the delay server") that
    shares it with other processes. CommandError, saying what to change, when the alias is
    not configured right or the layer only works inside one process."""
    try:
        layer = get_channel_layer(alias)
    except InvalidChannelLayerError as error:
        raise CommandError(str(error)) from error
    if layer.local_only():
        raise CommandError(
            "You cannot span multiple processes with the in-memory layer. Change your "
            f"settings to use a cross-process channel layer. {layer} only works inside one "
            f"process, so {role} in a process of its own cannot share it: configure a Redis "
            "layer ('channels_classic.layers.redis.RedisChannelLayer'), or use runserver."
        )
    return layer

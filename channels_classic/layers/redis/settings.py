"""What the layer's pieces know of the layer: its settings, fixed when it is made.

The operations, the receiver and its listeners, the buffers and the put-backs read these and
nothing else of the layer object, so each can be made and tested without one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .codec import MessageCodec
from .keys import KeyLayout


class Capacities:
    """How many messages each channel may hold: the first ``channel_capacity`` pattern that
    matches its name, else the default (as channels 4's ``get_capacity``)."""

    def __init__(self, default: int, patterns: Sequence[tuple[re.Pattern[str], int]]) -> None:
        self.default = default
        self._patterns = tuple(patterns)

    def of(self, channel: str) -> int:
        for pattern, capacity in self._patterns:
            if pattern.match(channel):
                return capacity
        return self.default


@dataclass(frozen=True, slots=True)
class LayerSettings:
    """One layer object's settings, as its pieces use them."""

    keys: KeyLayout
    codec: MessageCodec
    capacities: Capacities
    #: Seconds a message waits before it is dropped, and a group member stays.
    expiry: float
    group_expiry: float
    #: The same as key lifetimes, in milliseconds (PEXPIRE: a fraction of a second holds).
    message_ttl_ms: int
    group_ttl_ms: int
    #: The most messages one receive round trip takes from a channel.
    receive_batch_size: int
    #: Seconds a listener blocks in Redis before blocking again.
    block_timeout: float
    #: What the names of this layer object's process channels carry (see ``new_channel``).
    client_prefix: str

    @property
    def shard_count(self) -> int:
        return self.keys.ring_size

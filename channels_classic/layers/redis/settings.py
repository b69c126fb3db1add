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

#: Channel names whose capacity is remembered; past this many the memory starts afresh
#: (every socket has a reply channel of its own).
KNOWN_CAPACITIES = 4096


class Capacities:
    """How many messages each channel may hold: the first ``channel_capacity`` pattern that
    matches its name, else the default (as channels 4's ``get_capacity``).

    Every send asks, and a regular expression per pattern costs more than the rest of the
    lookup, so answers are remembered by name: the same few channels (the ingress channels,
    the reply channels of open sockets) are asked about again and again.
    """

    def __init__(self, default: int, patterns: Sequence[tuple[re.Pattern[str], int]]) -> None:
        self.default = default
        self._patterns = tuple(patterns)
        self._known: dict[str, int] = {}

    def of(self, channel: str) -> int:
        if not self._patterns:
            return self.default
        capacity = self._known.get(channel)
        if capacity is None:
            capacity = next(
                (value for pattern, value in self._patterns if pattern.match(channel)),
                self.default,
            )
            if len(self._known) >= KNOWN_CAPACITIES:
                self._known.clear()
            self._known[channel] = capacity
        return capacity


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

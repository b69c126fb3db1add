"""What a listener takes from Redis, decoded: one delivery per channel a message is for.

A stored message names its channel(s) under ``RESERVED_KEY`` when it was sent to a
process channel or through a group (a list: one stored copy serves every member under the
same Redis key); otherwise its channel is its key's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ...failure_log import FailureLog
from .codec import RESERVED_KEY, UndecodableMessage
from .settings import LayerSettings

logger = logging.getLogger(__name__)
failures = FailureLog(logger)


@dataclass(slots=True)
class Delivery:
    """One message taken from Redis, and what is needed to put it back there."""

    channel: str
    message: dict[str, Any]
    score: float
    shard: int
    key: bytes
    member: bytes


def decode_popped(
    settings: LayerSettings, shard: int, key: bytes, members_and_scores: list[bytes]
) -> list[Delivery]:
    """Turns popped (member, score, ...) of one key into deliveries, one per channel; an
    undecodable member is logged and skipped."""
    deliveries: list[Delivery] = []
    for position in range(0, len(members_and_scores), 2):
        member = members_and_scores[position]
        score = float(members_and_scores[position + 1])
        try:
            message = settings.codec.decode(member)
        except UndecodableMessage as error:
            failures.failed(
                ("undecodable", key),
                None,
                "redis layer: undecodable message on key %r dropped: %s",
                "redis layer: undecodable messages on key %r dropped (the first: %s)",
                key,
                error,
                level=logging.WARNING,
            )
            continue
        targets = message.pop(RESERVED_KEY, None)
        if targets is None:
            targets = [settings.keys.channel_of_key(key)]
        elif isinstance(targets, str):
            targets = [targets]
        for index, channel in enumerate(targets):
            copy = message if index == 0 else dict(message)
            deliveries.append(Delivery(channel, copy, score, shard, key, member))
    return deliveries


def decode_taken(
    settings: LayerSettings, shard: int, keys: list[bytes], taken: list[Any]
) -> list[Delivery]:
    """Deliveries from the take script's reply: (key number, popped of that key) pairs."""
    deliveries: list[Delivery] = []
    for position in range(0, len(taken), 2):
        deliveries += decode_popped(settings, shard, keys[taken[position] - 1], taken[position + 1])
    return deliveries

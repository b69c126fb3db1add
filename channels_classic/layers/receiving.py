"""Receiving from several channels at once, whatever the backend.

The project's layers have ``receive_batch(channels, limit)``. A channels 4 layer such as
channels_redis receives on one channel per call, so several channels are raced: one receive
per channel, the first answer wins and the others are cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

Received = list[tuple[str, dict[str, Any]]]


def has_batch_receive(layer: Any) -> bool:
    """True for layers that wait on several channels in one call (the project's own)."""
    return callable(getattr(layer, "receive_batch", None))


async def receive_batch(layer: Any, channels: Sequence[str], limit: int = 1) -> Received:
    """Waits for messages on any of ``channels``; returns 1 to ``limit`` (channel, message)."""
    if has_batch_receive(layer):
        return await layer.receive_batch(list(channels), limit)
    if len(channels) == 1:
        return [(channels[0], await layer.receive(channels[0]))]
    tasks = {asyncio.ensure_future(layer.receive(channel)): channel for channel in channels}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
    # Receives that finished together all keep their message, even past ``limit``.
    return [(tasks[task], task.result()) for task in done]

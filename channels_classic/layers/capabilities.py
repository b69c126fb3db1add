"""What a layer backend may offer beyond the channels 4 layer API, declared in one place.

The interface server uses these when the backend has them and does without otherwise
(channels_redis has none of them): see ``docs/production.md`` for what each one buys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

#: Where a sent message waits, as the backend that returned it understands it.
Ticket = Any


@runtime_checkable
class TracksProgress(Protocol):
    """Sends whose messages can be told taken: the interface server bounds how many frames
    of one socket wait on a channel at once (fairness between sockets)."""

    async def send_tracked(self, channel: str, message: dict[str, Any]) -> Ticket:
        """``send``, returning a ticket for ``progress``."""

    async def progress(self, channel: str) -> Callable[[Ticket], bool]:
        """A test, true as of this call, of whether a ticket's message has left ``channel``."""


@runtime_checkable
class ReportsHealth(Protocol):
    """A backend that can be asked whether its servers answer, and whether they came back
    with their data after an outage (a marker written before it is still there)."""

    async def ping(self) -> None:
        """Returns once the backend's servers answer; raises ConnectionError otherwise."""

    async def mark(self, name: str, ttl: float) -> None:
        """Writes the marker ``name`` for ``ttl`` seconds."""

    async def is_marked(self, name: str) -> bool:
        """True while the marker ``name`` is still there."""


@runtime_checkable
class CountsWaiting(Protocol):
    """A backend that can say how many messages wait on its channels (for the metrics and
    ``manage.py channelstats``)."""

    async def waiting(self, channels: Sequence[str]) -> dict[str, int]:
        """How many messages wait on each of the normal ``channels`` now."""

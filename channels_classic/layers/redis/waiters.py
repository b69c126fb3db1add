"""What the receiver keeps for each receive that waits, and for each process whose
messages are handed to a function as they are read (``deliver_all``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ..capabilities import Deliver
from .delivery import Delivery


class Waiter:
    """One pending receive: the channel names it accepts and what it has been given."""

    __slots__ = ("names", "limit", "received", "future", "registered")

    def __init__(self, names: Sequence[str], limit: int, future: asyncio.Future[None]) -> None:
        self.names = names
        self.limit = limit
        self.received: list[Delivery] = []
        self.future = future
        self.registered = False

    def wants_more(self) -> bool:
        return len(self.received) < self.limit and not self.future.done()


class Subscription:
    """A process's channels handed to a function: ``ended`` fails when delivery stops."""

    __slots__ = ("deliver", "ended")

    def __init__(self, deliver: Deliver, ended: asyncio.Future[None]) -> None:
        self.deliver = deliver
        self.ended = ended

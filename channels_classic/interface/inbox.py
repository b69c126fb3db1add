"""The reply messages of one connection, waiting for the connection to take them.

An ``asyncio.Queue`` would do, but it carries three deques and an Event per instance (about
2.5 KiB), and an interface server holds one inbox per open socket: most of them idle, most
of the time. This one holds a list and at most one waiter.
"""

from __future__ import annotations

import asyncio
from typing import Any


class Inbox:
    """Messages in arrival order, for one reader at a time (the connection's own task)."""

    __slots__ = ("_loop", "_messages", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._messages: list[dict[str, Any]] = []
        self._waiter: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._messages)

    def put(self, message: dict[str, Any]) -> None:
        """Adds ``message`` and wakes the reader, if one waits."""
        self._messages.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> dict[str, Any]:
        """The oldest message, once there is one. Cancelling the wait loses nothing: a message
        leaves the inbox only when it is returned."""
        while not self._messages:
            # A reader cancelled a moment ago may not have left yet: it gives way, and only
            # forgets the waiter if it is still its own.
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        return self._messages.pop(0)

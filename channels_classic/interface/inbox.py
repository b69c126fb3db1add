"""The reply messages of one connection, waiting for the connection to take them.

An ``asyncio.Queue`` would do, but it carries three deques and an Event per instance (about
2.5 KiB), and an interface server holds one inbox per open socket: most of them idle, most
of the time. This one holds a list and at most one waiter.

It also counts the bytes it holds, and has a limit: a client that does not read makes its
replies wait here (its connection's write buffer is full), and past ``limit`` bytes they
are dropped and ``on_overflow`` is called, once, for the connection to be closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

#: A message's bytes, as counted against the limit: what it carries to the client.
PAYLOAD_KEYS = ("text", "bytes", "content")
#: Taken messages are cut off the front of the list once this many have gone.
COMPACT_AFTER = 64


def payload_size(message: dict[str, Any]) -> int:
    """The bytes (or characters) ``message`` carries to the client."""
    size = 0
    for key in PAYLOAD_KEYS:
        value = message.get(key)
        if isinstance(value, (str, bytes)):
            size += len(value)
    return size


class Inbox:
    """Messages in arrival order, for one reader at a time (the connection's own task)."""

    __slots__ = ("_loop", "_messages", "_head", "_waiter", "size", "_limit", "_on_overflow")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limit: int | None = None,
        on_overflow: Callable[[int], None] | None = None,
    ) -> None:
        self._loop = loop
        self._messages: list[dict[str, Any] | None] = []
        self._head = 0
        self._waiter: asyncio.Future[None] | None = None
        #: Payload bytes of the messages waiting (see ``payload_size``).
        self.size = 0
        self._limit = limit
        self._on_overflow = on_overflow

    def __len__(self) -> int:
        return len(self._messages) - self._head

    def put(self, message: dict[str, Any]) -> None:
        """Adds ``message`` and wakes the reader, if one waits. Past the limit, drops what
        waits and reports the overflow instead."""
        self._messages.append(message)
        self.size += payload_size(message)
        if self._limit is not None and self.size > self._limit and len(self) > 1:
            size, on_overflow = self.size, self._on_overflow
            self.clear()
            if on_overflow is not None:
                self._on_overflow = None
                on_overflow(size)
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        """Drops every waiting message."""
        self._messages.clear()
        self._head = 0
        self.size = 0

    async def get(self) -> dict[str, Any]:
        """The oldest message, once there is one. Cancelling the wait loses nothing: a message
        leaves the inbox only when it is returned."""
        while not len(self):
            # A reader cancelled a moment ago may not have left yet: it gives way, and only
            # forgets the waiter if it is still its own.
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        messages, head = self._messages, self._head
        message = messages[head]
        assert message is not None
        messages[head] = None
        head += 1
        if head == len(messages):
            messages.clear()
            head = 0
        elif head >= COMPACT_AFTER and head * 2 >= len(messages):
            del messages[:head]
            head = 0
        self._head = head
        self.size -= payload_size(message)
        return message

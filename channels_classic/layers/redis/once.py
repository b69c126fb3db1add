"""Sends that can be tried again without being delivered twice.

A send whose connection broke after it was written, before Redis answered, may have been
carried out: Redis may have added the message, and a receiver may already have taken it. Sent
again blindly, it would be delivered twice. So the tries of one message share a ``Once``: its
sending lane and a token. Every try adds the token to its push (``scripts.PUSH``): the first
sets the lane's mark on the shard once its message is added, and a retry adds nothing when
that mark already holds its token. A send that never reached Redis finds the mark holding
an older token, and is added: nothing is lost.

That works because a lane sends one message at a time: until a message is known to be added
or given up, no other send of its lane can move the mark. Lanes are lent, one per message,
from the layer object's ``SendLanes``, and come back when its sender is done with it, so a
process keeps as many lanes (and mark keys) as it has messages in flight at once, whoever
sends them. ``docs/guarantees.md`` says what holds.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: How long a lane's mark lives after its last send: a retry later than this after its first
#: try is taken for a new message (the outbox retries for 30 s, an interface holds a frame
#: for CHANNELS_WEBSOCKET_HOLD_TIMEOUT, 30 s by default).
MARK_LIFETIME_MS = 300_000


@dataclass(slots=True)
class Once:
    """What the tries of one message share: pass the same one to every try."""

    #: The lane's name (its mark key is ``KeyLayout.sent_key(lane)``).
    lane: str
    #: Unique among the lane's sends.
    token: int
    #: The shard the first try went to: a normal channel's retry goes there too, where the
    #: mark is (None until the first try).
    shard: int | None = None
    #: True once a try has been made: the next one checks the mark.
    tried: bool = False

    def mark_args(self) -> list[object]:
        """The arguments that follow the (member, capacity) pairs of this try's push; from now
        on, tries are retries."""
        args: list[object] = [self.token, MARK_LIFETIME_MS, 1 if self.tried else 0]
        self.tried = True
        return args


class _Lane:
    __slots__ = ("name", "sent")

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent = 0


class SendLanes:
    """The lanes of one layer object, lent one message at a time, from any thread."""

    def __init__(self, client_prefix: str) -> None:
        self._client_prefix = client_prefix
        self._numbers = itertools.count(1)
        self._free: list[_Lane] = []
        self._lock = threading.Lock()

    @contextmanager
    def once(self) -> Iterator[Once]:
        """A ``Once`` for one message, on a lane no other message uses until the block ends."""
        with self._lock:
            lane = self._free.pop() if self._free else None
        if lane is None:
            lane = _Lane(f"{self._client_prefix}.{next(self._numbers)}")
        lane.sent += 1
        try:
            yield Once(lane.name, lane.sent)
        finally:
            with self._lock:
                self._free.append(lane)

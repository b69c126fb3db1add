"""Sends made inside a consumer wait here until the consumer has finished.

A consumer's effects become visible together, after it (and any session save around it)
completed: a reply is never seen before the state it depends on is stored, and a socket's
``accept`` goes out only once its connect consumer has returned. The outbox is per thread;
outside a consumer there is none and sends go out at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import ChannelFull, is_unavailable
from ..failure_log import FailureLog
from ..layers.capabilities import once_for
from ..names import non_local_name

if TYPE_CHECKING:
    from ..layers.facade import ClassicLayer

logger = logging.getLogger(__name__)
#: A consumer that sends what cannot be sent does so on every message: logged once, counted.
failures = FailureLog(logger)

#: A buffered send that meets a full channel is retried this long...
FLUSH_RETRY_FOR = 2.0
#: ...this often, then dropped with an error log (1.x raised and killed the worker).
FLUSH_RETRY_EVERY = 0.2
#: A buffered send that cannot reach the layer (Redis restarting) is retried this long,
#: waiting OUTAGE_RETRY_FIRST seconds at first and twice as long each time up to
#: OUTAGE_RETRY_MAX: a short outage loses no reply.
OUTAGE_RETRY_FOR = 30.0
OUTAGE_RETRY_FIRST, OUTAGE_RETRY_MAX = 0.05, 1.0

_local = threading.local()


@dataclass(slots=True)
class PendingSend:
    layer: ClassicLayer
    group: bool
    name: str
    content: dict[str, Any]

    def once(self) -> AbstractContextManager[Any]:
        """What this send's tries share, so that a retry never delivers it twice (None where
        the backend cannot tell: its retries are sent again as they are)."""
        return once_for(self.layer.capabilities.once)

    def send(self, once: Any) -> None:
        if self.group:
            self.layer.send_group(self.name, self.content, once=once)
        else:
            self.layer.send(self.name, self.content, once=once)

    async def send_async(self, once: Any) -> None:
        sending = self.layer.capabilities.once
        if sending is None:
            backend = self.layer.channel_layer
            await (backend.group_send if self.group else backend.send)(self.name, self.content)
        else:
            send = sending.group_send if self.group else sending.send
            await send(self.name, self.content, once=once)


@dataclass
class Outbox:
    """The sends of one consumer run, in call order."""

    pending: list[PendingSend] = field(default_factory=list)

    def add(self, layer: ClassicLayer, name: str, content: dict[str, Any], *, group: bool) -> None:
        self.pending.append(PendingSend(layer, group, name, content))

    def flush(self) -> None:
        """Sends everything, in call order, from the consumer's thread. A send to a full
        channel is retried for FLUSH_RETRY_FOR seconds before the next one starts, then logged
        and dropped; other failures are logged. Never raises: the consumer is done."""
        pending, self.pending = self.pending, []
        for item in pending:
            retry = _Retry(item)
            with item.once() as once:
                while True:
                    try:
                        item.send(once)
                        break
                    except Exception as error:
                        wait = retry.after(error)
                        if wait is None:
                            break
                        time.sleep(wait)

    async def flush_async(self) -> None:
        """``flush`` on the event loop. Each send starts once the one before it has landed (a
        group send takes two round trips, a channel send one, so a later send would overtake
        an earlier one if they overlapped); the flushes of several consumers run side by side
        there and share round trips."""
        pending, self.pending = self.pending, []
        for item in pending:
            retry = _Retry(item)
            with item.once() as once:
                while True:
                    try:
                        await item.send_async(once)
                        break
                    except Exception as error:
                        wait = retry.after(error)
                        if wait is None:
                            break
                        await asyncio.sleep(wait)


class _Retry:
    """What to do after a buffered send failed: the one policy of both flushes."""

    def __init__(self, item: PendingSend) -> None:
        self._item = item
        self._deadline: float | None = None
        self._outage_wait = OUTAGE_RETRY_FIRST

    def after(self, error: Exception) -> float | None:
        """Seconds to wait before trying again, or None to give up (logged): a full channel
        is retried until FLUSH_RETRY_FOR has passed, an unreachable layer until
        OUTAGE_RETRY_FOR has, any other error is not."""
        name = self._item.name
        # Reply channels differ per socket: their repeats are counted per process channel.
        kind = non_local_name(name)
        outage = is_unavailable(error)
        if not outage and not isinstance(error, ChannelFull):
            failures.failed(
                ("send", kind),
                error,
                "outbox: sending to %r failed: %s",
                "outbox: sending to %r (or another channel of its process) failed (%s):",
                name,
                error,
            )
            return None
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + (OUTAGE_RETRY_FOR if outage else FLUSH_RETRY_FOR)
        if now >= self._deadline:
            why = "could not reach the layer" if outage else "stayed full"
            failures.failed(
                ("outage" if outage else "full", kind),
                None,
                "outbox: channel %r %s for %.1f s; the message sent to it by the consumer was "
                "dropped (%s)",
                "outbox: a message was dropped because channel %r (or another of its "
                "process) %s for %.1f s (%s):",
                name,
                why,
                OUTAGE_RETRY_FOR if outage else FLUSH_RETRY_FOR,
                "is Redis running?" if outage else "is its receiver running and keeping up?",
            )
            return None
        if not outage:
            return FLUSH_RETRY_EVERY
        wait, self._outage_wait = self._outage_wait, min(self._outage_wait * 2, OUTAGE_RETRY_MAX)
        return wait


def current() -> Outbox | None:
    """The outbox of the consumer running in this thread, or None outside consumers."""
    return getattr(_local, "outbox", None)


def replace(outbox: Outbox | None) -> Outbox | None:
    """Makes sends in this thread go into ``outbox`` (None: out at once); returns the outbox
    they went into before."""
    previous = current()
    _local.outbox = outbox
    return previous


@contextmanager
def collecting() -> Iterator[Outbox]:
    """Makes sends in this thread go into a fresh outbox for the duration of the block."""
    outbox = Outbox()
    previous = replace(outbox)
    try:
        yield outbox
    finally:
        replace(previous)

"""One socket's way onto the layer: fair to the other sockets, and patient with the layer.

Every socket's frames go to one channel, ``websocket.receive``, that the workers take from
in order. A client that sends faster than the workers take would fill it, and every other
socket's frames would queue behind its own. So each socket may have only so many frames
waiting there at once (``websocket_max_outstanding``): at that bound the interface stops
reading the socket (its client's writes block, TCP's own backpressure) until the workers
have taken some, and the others' frames keep their place in line. Whether a frame was
taken is asked of the layer for all sockets of the process at once (``ProgressWatch``),
and only while some socket is at its bound.

A frame the layer will not take yet (the channel is full, or Redis cannot be reached) is
held, the socket's reads paused, and sent once it can be, in order. Only a frame that waited
longer than ``websocket_hold_timeout`` gives up: its socket is closed with 1013. See
``docs/production.md``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import ChannelFull, is_unavailable
from ..layers.capabilities import ChannelLayer, SendsOnce, Ticket, TracksProgress, once_for
from . import backpressure
from .health import LayerHealth

if TYPE_CHECKING:
    from .transport import TransportFlow

logger = logging.getLogger(__name__)

#: While a socket waits for the workers to take its frames, the layer is asked this often.
PROGRESS_POLL = 0.005
#: A full channel is tried again after RETRY_FIRST seconds, doubling up to RETRY_MAX.
RETRY_FIRST, RETRY_MAX = 0.01, 0.25


class ProgressWatch:
    """Tells the sockets of one process and loop when their frames on ``channel`` are taken:
    one question to the layer answers every socket that asks meanwhile."""

    def __init__(self, backend: TracksProgress, channel: str, health: LayerHealth) -> None:
        self._backend = backend
        self._channel = channel
        self._health = health
        self._latest: Callable[[Ticket], bool] = lambda ticket: False
        self._asking: asyncio.Future[None] | None = None
        self._waiting: list[tuple[Ticket, asyncio.Future[None]]] = []
        self._watching: asyncio.Task[None] | None = None

    async def send_tracked(self, message: dict[str, Any], once: Any) -> Ticket:
        """Sends ``message`` to the watched channel; returns the ticket to ask about."""
        return await self._backend.send_tracked(self._channel, message, once=once)

    def taken(self, ticket: Ticket) -> bool:
        """True if the last answer said ``ticket``'s message was taken (it may be by now)."""
        return self._latest(ticket)

    def refresh_soon(self) -> None:
        """Asks the layer again, unless a question is on its way (the answer comes later)."""
        if self._asking is None:
            self._asking = asyncio.ensure_future(self._ask())

    async def refresh(self) -> None:
        """Returns with an answer asked for no earlier than this call's question in flight."""
        self.refresh_soon()
        assert self._asking is not None
        await asyncio.shield(self._asking)

    async def _ask(self) -> None:
        try:
            self._latest = await self._backend.progress(self._channel)
        except Exception as error:
            if not is_unavailable(error):
                logger.exception("interface: asking the layer which frames were taken")
            else:
                self._health.failed(error)
        finally:
            self._asking = None

    async def wait_taken(self, ticket: Ticket) -> None:
        """Returns once ``ticket``'s message has been taken."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((ticket, future))
        if self._watching is None or self._watching.done():
            self._watching = asyncio.ensure_future(self._watch())
        await future

    async def _watch(self) -> None:
        while self._waiting:
            await self.refresh()
            if not self._health.up:
                await self._health.wait_up(None)
                continue
            waiting = []
            for ticket, future in self._waiting:
                if future.done():
                    continue
                if self._latest(ticket):
                    future.set_result(None)
                else:
                    waiting.append((ticket, future))
            self._waiting = waiting
            if waiting:
                await asyncio.sleep(PROGRESS_POLL)


class Ingress:
    """The messages of one socket on their way to the layer, in order. (One per open socket,
    most of them idle: slots, and no deque of tickets until the first frame.)"""

    __slots__ = (
        "_backend",
        "_sending",
        "_health",
        "_watch",
        "_flow",
        "_max_outstanding",
        "_hold_timeout",
        "_outstanding",
        "abandoned",
    )

    def __init__(
        self,
        backend: ChannelLayer,
        sending: SendsOnce | None,
        health: LayerHealth,
        watch: ProgressWatch | None,
        flow: TransportFlow | None,
        *,
        max_outstanding: int,
        hold_timeout: float,
    ) -> None:
        self._backend = backend
        self._sending = sending
        self._health = health
        self._watch = watch
        self._flow = flow
        self._max_outstanding = max_outstanding
        self._hold_timeout = hold_timeout
        self._outstanding: deque[Ticket] | None = None
        #: Set once the socket is gone or closed: held messages are dropped.
        self.abandoned = False

    async def put(
        self, channel: str, message: dict[str, Any], *, tracked: bool = False, final: bool = False
    ) -> bool:
        """Sends ``message`` to ``channel``, waiting (the socket's reads paused) while the
        socket is at its bound of outstanding frames (``tracked`` ones only), the channel is
        full or the layer unavailable. False if it waited past the hold timeout, or the
        socket was abandoned meanwhile (unless the message is its ``final`` one, its
        disconnect): the message is dropped. Its tries share a ``once`` where the layer has
        them: a try that Redis carried out, though its answer was lost, is not made twice.

        Other errors (a message the layer cannot encode) are raised."""
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        retry = RETRY_FIRST
        try:
            with once_for(self._sending) as once:
                while final or not self.abandoned:
                    watch = self._watch if tracked else None
                    if watch is not None and not self._has_room(watch):
                        if deadline is None:
                            deadline = loop.time() + self._hold_timeout
                        if not await self._room(watch, deadline):
                            return self._gave_up(channel, "the workers took none of its frames")
                        continue
                    try:
                        await self._send(channel, message, watch, once)
                        return True
                    except ChannelFull:
                        full = True
                    except Exception as error:
                        if not is_unavailable(error):
                            raise
                        self._health.failed(error)
                        full = False
                    if deadline is None:
                        deadline = loop.time() + self._hold_timeout
                        backpressure.held(channel, "full" if full else "layer unavailable")
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        return self._gave_up(channel, "the layer did not take it")
                    self._pause()
                    if full:
                        await asyncio.sleep(min(retry, remaining))
                        retry = min(retry * 2, RETRY_MAX)
                    else:
                        await self._health.wait_up(remaining)
                return False
        finally:
            self._resume()

    async def _send(
        self, channel: str, message: dict[str, Any], watch: ProgressWatch | None, once: Any
    ) -> None:
        """One try: a tracked frame's ticket joins the socket's outstanding ones."""
        if watch is not None:
            ticket = await watch.send_tracked(message, once)
            if self._outstanding is None:
                self._outstanding = deque()
            self._outstanding.append(ticket)
        elif self._sending is not None:
            await self._sending.send(channel, message, once=once)
        else:
            await self._backend.send(channel, message)

    def _has_room(self, watch: ProgressWatch) -> bool:
        """True if the socket is under its bound of outstanding frames, as far as the last
        answer tells; from half the bound on, a fresh answer is asked for ahead of need."""
        outstanding = self._outstanding
        if outstanding is None or len(outstanding) * 2 < self._max_outstanding:
            return True
        while outstanding and watch.taken(outstanding[0]):
            outstanding.popleft()
        if len(outstanding) * 2 >= self._max_outstanding:
            watch.refresh_soon()
        return len(outstanding) < self._max_outstanding

    async def _room(self, watch: ProgressWatch, deadline: float) -> bool:
        """Waits until the socket is under its bound again: at once if a fresh answer says
        so, else (its reads paused) until its oldest frame is taken; False at ``deadline``."""
        await watch.refresh()
        if self._has_room(watch):
            return True
        self._pause()
        backpressure.paused()
        try:
            async with asyncio.timeout_at(deadline):
                assert self._outstanding is not None
                await watch.wait_taken(self._outstanding[0])
        except TimeoutError:
            return False
        return True

    def _gave_up(self, channel: str, why: str) -> bool:
        backpressure.gave_up(channel, f"{why} within {self._hold_timeout:g} s")
        return False

    def _pause(self) -> None:
        if self._flow is not None:
            self._flow.pause_reading()

    def _resume(self) -> None:
        if self._flow is not None:
            self._flow.resume_reading()

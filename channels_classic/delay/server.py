"""The delay server loop: stores requests from ``asgi.delay``, sends them when due.

It never polls. Each round sends what is due, asks the database when the next stored message
is due, and then waits on the layer for new requests for exactly that long (forever when
nothing is stored): a request wakes it at once, and the timeout ends when the next message is
due. While messages are due it does not wait, but still takes the requests already waiting,
so ``asgi.delay`` never fills behind a backlog.

Several delay servers may share a database. Before sending a message a server claims it: one
conditional update moves its due date CLAIM_TIME ahead, and only the server whose update
matched the row as it read it sends the message (a row update is atomic on SQLite as on
PostgreSQL, so two servers never both win). A server that dies between claiming and deleting
leaves the message to whichever server finds it due again, once the claim is over.

Database work goes through Django's async ORM (one thread for the whole process), the layer
is used from the server's own event loop. A bad request is logged and skipped; a full
destination is retried a second later; a message that can never be sent is logged
and dropped; layer and database errors are logged and the round is retried with back-off,
keeping what is stored and what was taken (put back on ``asgi.delay`` if the server stops
before it could store it, and so is what the layer took for a wait the stop called off). A
message is deleted once sent, so a crash between the two sends
it again rather than never. SIGTERM or SIGINT stops the server once the current round is
done (at once if it is waiting); a second signal exits at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import redis.exceptions
from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.utils import timezone

from ..exceptions import ChannelFull
from ..layers.capabilities import Received
from ..layers.facade import NON_BLOCKING_RECEIVE_TIMEOUT, ClassicLayer
from ..layers.receiving import Backoff, receive_batch, release
from ..worker.base import IDLE_WAIT
from ..worker.service import Service
from .models import DelayedMessage
from .protocol import DELAY_CHANNEL, InvalidDelayRequest, check_delay_request

logger = logging.getLogger(__name__)

#: A message whose destination is full is retried this much later.
CHANNEL_FULL_RETRY = timedelta(seconds=1)
#: Requests taken from the layer, and stored, in one go.
RECEIVE_LIMIT = 100
#: Due messages read from the database, sent, and deleted in one go.
SEND_LIMIT = 100
#: How long a server's claim on a due message lasts: its due date moves this far ahead while
#: it is sent. Far longer than a send takes; a server that died holding the claim delays the
#: message by this much.
CLAIM_TIME = timedelta(seconds=30)

# The layer is unreachable: the message stays stored and the round is retried later.
_LAYER_ERRORS = (OSError, redis.exceptions.RedisError)


class DelayServer(Service):
    """Delays the messages sent to ``asgi.delay`` on ``channel_layer``.

    ``run()`` owns an event loop and the stop signals; ``serve()`` is the same work as a
    coroutine. ``accept()`` and ``send_due()`` are its two steps, usable on their own.
    ``stop_when_idle`` bounds the loop (for tests): it returns once nothing is stored and no
    request came for a moment.
    """

    name = "delay"

    def __init__(
        self,
        channel_layer: ClassicLayer,
        *,
        install_signals: bool = True,
        stop_when_idle: bool = False,
    ) -> None:
        self.channel_layer = channel_layer
        self.backend = channel_layer.channel_layer
        self.capabilities = channel_layer.capabilities
        super().__init__(install_signals=install_signals)
        self.stop_when_idle = stop_when_idle
        self.stored = 0
        self.sent = 0
        self._waiting: asyncio.Task[Any] | None = None
        # Requests taken from the layer and not stored yet (kept while storing them fails).
        self._taken: list[dict[str, Any]] = []

    # Running (``run()`` and stop signals: see ``Service``)

    def _state(self) -> str:
        return "waiting, exiting" if self._waiting else "busy, finishing the current round"

    def _interrupt(self) -> None:
        # Only waits are cancelled (the layers give back what a cancelled receive took);
        # storing and sending always finish.
        if self._waiting is not None:
            self._waiting.cancel()

    async def serve(self) -> None:
        self._started()
        logger.info("delay: listening on %s", DELAY_CHANNEL)
        backoff = Backoff()
        try:
            while not self.stop_requested:
                try:
                    idle = await self._round()
                except Exception as error:
                    delay = backoff.next()
                    logger.error(
                        "delay: %s: %s; retrying in %.1f s", type(error).__name__, error, delay
                    )
                    await self._interruptible(asyncio.sleep(delay), None)
                    continue
                backoff.reset()
                if idle and self.stop_when_idle:
                    return
            await self._give_back_taken()
        finally:
            released = await release(self.capabilities, [DELAY_CHANNEL])
            if released:
                logger.info("delay: handed back %d request(s) the layer had taken", released)
            logger.info(
                "delay: stopped after storing %d and sending %d messages", self.stored, self.sent
            )

    async def _round(self) -> bool:
        """Stores requests a failed round left, sends what is due, waits for requests until
        the next stored message is due and stores them. Returns True if it found nothing to
        do. Raises on layer or database errors, keeping what it took for the next round."""
        await sync_to_async(close_old_connections)()
        await self._store_taken()
        next_due = await self.send_due()
        if next_due is None:
            wait = IDLE_WAIT if self.stop_when_idle else None
        else:
            wait = max(0.0, (next_due - timezone.now()).total_seconds())
        self._taken = [message for _, message in await self._receive(wait)]
        idle = next_due is None and not self._taken
        await self._store_taken()
        return idle

    async def _store_taken(self) -> None:
        if self._taken:
            await self.accept(self._taken)
            self._taken = []

    async def _give_back_taken(self) -> None:
        """Puts requests that could not be stored back on asgi.delay for the next server."""
        try:
            while self._taken:
                await self.backend.send(DELAY_CHANNEL, self._taken[0])
                del self._taken[0]
        except Exception as error:
            logger.error(
                "delay: %d request(s) could neither be stored nor put back on %s, and are "
                "lost (%s: %s)",
                len(self._taken),
                DELAY_CHANNEL,
                type(error).__name__,
                error,
            )
        self._taken = []

    async def _receive(self, timeout: float | None) -> Received:
        """Up to RECEIVE_LIMIT requests; [] if none came within ``timeout`` or on stop. A
        timeout of 0 takes what is there already (layers that cannot tell get one round
        trip's time)."""
        if timeout == 0:
            ready = self.capabilities.ready
            if ready is not None:
                return await ready.receive_ready([DELAY_CHANNEL], RECEIVE_LIMIT)
            timeout = NON_BLOCKING_RECEIVE_TIMEOUT
        received = await self._interruptible(
            receive_batch(self.capabilities, [DELAY_CHANNEL], RECEIVE_LIMIT), timeout
        )
        return received or []

    async def _interruptible(self, awaitable: Any, timeout: float | None) -> Any:
        """Awaits ``awaitable`` for at most ``timeout`` s; None on timeout, or once stop() was
        called (which cancels it)."""
        task = asyncio.ensure_future(awaitable)
        if self.stop_requested:
            task.cancel()
        self._waiting = task
        try:
            async with asyncio.timeout(timeout):
                return await task
        except TimeoutError:
            return None
        except asyncio.CancelledError:
            if self.stop_requested and task.cancelled():
                return None
            raise
        finally:
            self._waiting = None

    # The two steps

    async def accept(self, messages: list[dict[str, Any]]) -> int:
        """Stores the valid requests among ``messages``; logs and skips the others (one bad
        sender must not stop the delays of everyone else). Returns how many it stored."""
        now = timezone.now()
        rows = []
        for message in messages:
            try:
                rows.append(DelayedMessage.from_request(check_delay_request(message), now))
            except InvalidDelayRequest as error:
                logger.error("delay: skipped a message: %s", error)
        if rows:
            await DelayedMessage.objects.abulk_create(rows)
            self.stored += len(rows)
            logger.debug("delay: stored %d message(s)", len(rows))
        return len(rows)

    async def send_due(self) -> datetime | None:
        """Sends up to SEND_LIMIT due messages, earliest first, and deletes them; a message
        whose destination is full is kept for CHANNEL_FULL_RETRY, and one another server
        claimed first is left to it. Returns when the next stored message is due (in the
        past if more are due now), None when none is stored.

        A layer error stops the step, keeping the unsent messages, and is raised.
        """
        due = [row async for row in DelayedMessage.objects.due(timezone.now())[:SEND_LIMIT]]
        done: list[int] = []
        full: list[int] = []
        try:
            for row in due:
                if not await self._claim(row):
                    continue
                try:
                    sent = await self._send(row)
                except _LAYER_ERRORS:
                    # Due again at once, for the next round (or the next server).
                    await DelayedMessage.objects.filter(pk=row.pk).aupdate(due_date=row.due_date)
                    raise
                (done if sent else full).append(row.pk)
        finally:
            if done:
                await DelayedMessage.objects.filter(pk__in=done).adelete()
            if full:
                await DelayedMessage.objects.filter(pk__in=full).aupdate(
                    due_date=timezone.now() + CHANNEL_FULL_RETRY
                )
        return await DelayedMessage.objects.anext_due_date()

    async def _claim(self, row: DelayedMessage) -> bool:
        """Claims ``row`` for this server (see the module docstring); False if another server
        claimed or sent it since it was read."""
        unclaimed = DelayedMessage.objects.filter(pk=row.pk, due_date=row.due_date)
        claimed: int = await unclaimed.aupdate(due_date=timezone.now() + CLAIM_TIME)
        if not claimed:
            logger.debug("delay: a message for %s was taken by another server", row.channel_name)
        return claimed == 1

    async def _send(self, row: DelayedMessage) -> bool:
        """Sends one stored message; False if its destination is full. A message that can
        never be sent is logged and counts as done; layer errors are raised."""
        try:
            await self.backend.send(row.channel_name, row.message())
        except ChannelFull:
            logger.warning(
                "delay: channel %r is full; its message is retried in %.1f s",
                row.channel_name,
                CHANNEL_FULL_RETRY.total_seconds(),
            )
            return False
        except _LAYER_ERRORS:
            raise
        except Exception:
            logger.exception(
                "delay: dropped the message for %r: it cannot be sent", row.channel_name
            )
            return True
        self.sent += 1
        logger.debug("delay: sent a message to %s", row.channel_name)
        return True

"""One shard's listener: takes messages from Redis for the receiver's waiters.

It owns one connection to its shard. While waiters wait it alternates between two commands:
a script that pops every waiting message they can take (up to the batch size) from all
their channels at once, and, when nothing is waiting, a single BZPOPMIN over all those
channels, so an idle process sends nothing and a message on any channel wakes it at once.

It is a small state machine driven by replies rather than a task: a reply is decoded and
dispatched, and the next command written, inside the connection's ``data_received``, so a
message costs no extra task switches on its way to the waiter.

A command in flight is never called off: when its waiters have gone, what it took is
dispatched all the same (the receiver puts it back into Redis). ``settle`` waits for such a
command, so that a process that stops receiving on some channels can hand back everything
taken for them.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Iterable
from typing import Any, Protocol

from . import scripts
from .delivery import Delivery, decode_popped, decode_taken
from .settings import LayerSettings
from .wire.cluster_pipe import pipe_to
from .wire.commands import pack_commands
from .wire.connection_settings import ConnectionSettings
from .wire.pipe import CommandPipe
from .wire.redis_py import CONNECTION_ERRORS, unavailable

logger = logging.getLogger(__name__)

#: The read timeout exceeds the BZPOPMIN timeout by this much, so a server that vanished
#: without closing the connection is noticed instead of waited on forever.
READ_TIMEOUT_MARGIN = 5.0
#: How long close() waits for a blocked listener to return its last command.
CLOSE_TIMEOUT = 2.0
#: Blocking commands kept ready to write, per listener (one per order of its keys).
KNOWN_BLOCKS = 64


class State(enum.Enum):
    IDLE = "idle"  # no command in flight
    TAKING = "taking"  # the take script is in flight
    BLOCKED = "blocked"  # BZPOPMIN is in flight
    NEXT = "next"  # a reply was just handed out; the next command is written soon


class Demand(Protocol):
    """What a listener asks of the receiver it feeds (``receiver.Receiver``)."""

    def wanted(self, shard: int) -> tuple[list[bytes], list[int], int] | None:
        """The keys ``shard``'s listener takes from, the most to take from each, and the
        shared budget."""

    def batchable(self, keys: list[bytes], limits: list[int], budget: int) -> list[bytes]:
        """The keys where a take could hand out more than a blocking pop."""

    def dispatch(self, deliveries: Iterable[Delivery]) -> None:
        """Hands what a command took to the waiters."""

    def reserve(self, budget: int) -> None:
        """A take of up to ``budget`` messages of normal channels is on its way."""

    def unreserve(self, budget: int) -> None:
        """That take has returned, or failed."""

    def starve(self, listener: ShardListener) -> None:
        """``listener`` found no budget left: resume it when a take returns."""

    def must_wait(self, shard: int) -> bool:
        """True if ``shard``'s idle listener would find nothing to take now."""

    def send_wake(self, shard: int) -> None:
        """Makes the shard's blocked pop return."""

    def fail_receivers(self, error: BaseException) -> None:
        """Fails every waiter with ``error``."""


class ShardListener:
    """Feeds the receiver from one shard; wakes when the receiver's demand changes."""

    def __init__(
        self,
        receiver: Demand,
        settings: LayerSettings,
        server: ConnectionSettings,
        shard: int,
        wake_key: bytes,
    ) -> None:
        self._receiver = receiver
        self._loop = asyncio.get_running_loop()
        self._settings = settings
        self._server = server
        self._shard = shard
        self._keys = settings.keys
        # The wake-up key as named on this shard (the commands carry each key so).
        self._wake_key = settings.keys.on_shard(wake_key, shard)
        self._pipe: CommandPipe | None = None
        self.state = State.IDLE
        # The keys the command in flight takes from (empty when none is in flight).
        self._in_flight: frozenset[bytes] = frozenset()
        self._returns: list[asyncio.Future[None]] = []
        self._wake_sent = False
        # Keys the last take or pop found empty (forgotten when the listener goes idle).
        self._checked: frozenset[bytes] = frozenset()
        self._closing = False
        self._stopped: asyncio.Future[None] | None = None
        self._known_blocks: dict[tuple[bytes, ...], tuple[list[tuple[Any, ...]], bytes]] = {}
        self._rotation = 0
        self._forget_when_idle = settings.shard_count == 1
        # The budget the take script in flight holds (see Demand.reserve).
        self._reservation = 0
        # It went without budget, and waits to be resumed.
        self._starving = False

    def demand_changed(self, key: bytes) -> None:
        """A waiter arrived for ``key``: start taking, or unblock to include the key (an
        idle listener with nothing to take waits for the budget instead)."""
        if self.state is State.IDLE:
            if self._receiver.must_wait(self._shard):
                self._starve()
            else:
                self._step()
        elif self.state is State.BLOCKED and key not in self._in_flight and not self._wake_sent:
            self._wake_sent = True
            self._receiver.send_wake(self._shard)

    def resume(self) -> None:
        """Budget was freed after this listener went without: it takes part again."""
        if not self._starving:
            return  # it has stepped since
        self._starving = False
        if self.state is State.IDLE:
            self._step()
        elif self.state is State.BLOCKED and not self._wake_sent:
            self._wake_sent = True
            self._receiver.send_wake(self._shard)

    def demand_dropped(self, key: bytes) -> None:
        """No waiter wants ``key`` any more: unblock, so that a message arriving on it is not
        popped here only to be put back (and overtaken meanwhile)."""
        if self.state is State.BLOCKED and key in self._in_flight and not self._wake_sent:
            self._wake_sent = True
            self._receiver.send_wake(self._shard)

    def _step_soon(self) -> None:
        """Writes the next command once the receivers just handed messages have run: their
        reactions (a reply sent, a new receive) come first, and the demand is then known."""
        self.state = State.NEXT
        self._loop.call_soon(self._step)

    def _starve(self) -> None:
        self._starving = True
        self._receiver.starve(self)

    def _step(self) -> None:
        """Writes the next command the receiver's demand calls for, or goes idle."""
        self._starving = False
        wanted = None if self._closing else self._receiver.wanted(self._shard)
        if wanted is None:
            self.state = State.IDLE
            # What was found empty may have filled up by the time anyone waits again: on one
            # shard it is taken from again. With several, trusting it costs at most a round
            # trip (a blocking pop returns at once where messages are, and its counts say
            # whether to take more), where taking from every shard in turn would cost one
            # per shard.
            if self._forget_when_idle:
                self._checked = frozenset()
            if self._stopped is not None and not self._stopped.done():
                self._stopped.set_result(None)
            return
        keys, limits, budget = wanted
        if budget <= 0 and any(limit > 0 for limit in limits):
            # Other shards' take scripts hold the whole budget: this listener waits for one
            # to return (the receiver resumes it), serving its process's own keys meanwhile.
            self._starve()
            kept = [(key, limit) for key, limit in zip(keys, limits, strict=True) if limit < 0]
            if not kept:
                self.state = State.IDLE  # what it found empty stays known: it blocks next
                return
            keys, limits = [key for key, _ in kept], [limit for _, limit in kept]
        # BZPOPMIN and the take script serve keys in order: each command starts one key further
        # on, so that a channel that is never empty cannot keep the others waiting.
        self._rotation = turn = (self._rotation + 1) % len(keys)
        keys, limits = keys[turn:] + keys[:turn], limits[turn:] + limits[:turn]
        if self._pipe is None:
            self._pipe = pipe_to(
                self._server, socket_timeout=self._settings.block_timeout + READ_TIMEOUT_MARGIN
            )
        if any(key not in self._checked for key in self._receiver.batchable(keys, limits, budget)):
            self._take(keys, limits, budget)
        else:
            self._block(keys)

    def _take(self, keys: list[bytes], limits: list[int], budget: int) -> None:
        """Pops, in one script, every waiting message the waiters can take."""
        assert self._pipe is not None
        self.state = State.TAKING
        self._in_flight = frozenset(keys)
        cutoff = repr(time.time() - self._settings.expiry)
        here = self._keys.all_on(keys, self._shard)
        script_keys = [self._wake_key, *here]
        script_args = [cutoff, budget, *limits]
        self._reservation = budget
        self._receiver.reserve(budget)

        def taken(_: int, reply: Any, error: BaseException | None) -> None:
            if error is not None:
                self._fail(error)
                return
            remaining, popped = reply[0], reply[1:]
            self._checked = frozenset(k for k, n in zip(keys, remaining, strict=True) if n == 0)
            self._receiver.dispatch(decode_taken(self._settings, self._shard, here, popped))
            self._unreserve()
            self._returned()
            self._step_soon()

        self._pipe.call_back(self._guarded(taken), scripts.take(script_keys, script_args))

    def _block(self, keys: list[bytes]) -> None:
        """Waits in BZPOPMIN for the first message on any of ``keys`` (it pops one).

        A ZCARD per key goes in the same write: Redis runs them the moment the pop returns,
        so the listener learns whether a take would find more, without a round trip.
        """
        assert self._pipe is not None
        self.state = State.BLOCKED
        self._in_flight, self._wake_sent = frozenset(keys), False
        replies: list[tuple[Any, BaseException | None]] = [(None, None)] * (len(keys) + 1)
        owed = [len(replies)]

        def collect(position: int, reply: Any, error: BaseException | None) -> None:
            replies[position] = (reply, error)
            owed[0] -= 1
            if owed[0]:
                return
            # No longer blocked: a demand dropped while this reply is dispatched needs no wake.
            self._in_flight = frozenset()
            failure = next((error for _, error in replies if error is not None), None)
            if failure is not None:
                self._fail(failure)
                return
            popped = replies[0][0]
            counts = [count for count, _ in replies[1:]]
            self._checked = frozenset(k for k, n in zip(keys, counts, strict=True) if n == 0)
            if popped is not None and popped[0] != self._wake_key:
                self._receiver.dispatch(
                    decode_popped(self._settings, self._shard, popped[0], popped[1:])
                )
            self._returned()
            self._step_soon()

        commands, packed = self._block_commands(keys)
        self._pipe.call_back(self._guarded(collect), *commands, packed=packed)

    def _block_commands(self, keys: list[bytes]) -> tuple[list[tuple[Any, ...]], bytes]:
        """The commands ``_block`` writes for ``keys``, and their wire form: kept, since a
        listener blocks on the same few key orders again and again."""
        known = self._known_blocks.get(tuple(keys))
        if known is None:
            if len(self._known_blocks) >= KNOWN_BLOCKS:
                self._known_blocks.clear()
            here = self._keys.all_on(keys, self._shard)
            commands = [
                ("BZPOPMIN", *here, self._wake_key, self._settings.block_timeout),
                *(("ZCARD", key) for key in here),
            ]
            known = self._known_blocks[tuple(keys)] = (commands, pack_commands(commands))
        return known

    def _guarded(self, handler: Any) -> Any:
        """Wraps a reply handler so that a bug in it fails the waiters instead of the wire."""

        def guarded(position: int, reply: Any, error: BaseException | None) -> None:
            try:
                handler(position, reply, error)
            except Exception as bug:
                logger.exception("redis layer: handling a reply from shard %d failed", self._shard)
                self._fail(bug)

        return guarded

    def _unreserve(self) -> None:
        if self._reservation:
            budget, self._reservation = self._reservation, 0
            self._receiver.unreserve(budget)

    def _fail(self, error: BaseException) -> None:
        """Drops the connection and fails the waiters; the next demand starts afresh."""
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            pipe.abort()
        self.state = State.IDLE
        self._unreserve()
        self._checked = frozenset()
        self._returned()
        if self._closing:
            if self._stopped is not None and not self._stopped.done():
                self._stopped.set_result(None)
            return
        if isinstance(error, CONNECTION_ERRORS):
            error = unavailable(self._server.label, error)
        self._receiver.fail_receivers(error)

    def _returned(self) -> None:
        """The command in flight has returned, and what it took was dispatched."""
        self._in_flight = frozenset()
        if self._returns:
            returns, self._returns = self._returns, []
            for returned in returns:
                if not returned.done():
                    returned.set_result(None)

    async def settle(self, keys: frozenset[bytes]) -> None:
        """Waits until no command in flight takes from ``keys`` (so that what it took has
        been dispatched), CLOSE_TIMEOUT at most. A blocked pop on them has been woken: when
        their last waiter gave up, or by the receiver's ``release``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSE_TIMEOUT
        while self._in_flight & keys:
            returned = loop.create_future()
            self._returns.append(returned)
            try:
                await asyncio.wait_for(returned, deadline - loop.time())
            except TimeoutError:
                logger.warning(
                    "redis layer: shard %d did not answer within %.0f s; a message its last "
                    "command took may be lost",
                    self._shard,
                    CLOSE_TIMEOUT,
                )
                return

    async def close(self) -> None:
        """Stops taking: waits (briefly) for the command in flight, then drops the connection."""
        self._closing = True
        if self.state is not State.IDLE:
            self._stopped = asyncio.get_running_loop().create_future()
            if self.state is State.BLOCKED:
                self._receiver.send_wake(self._shard)
            try:
                await asyncio.wait_for(asyncio.shield(self._stopped), CLOSE_TIMEOUT)
            except TimeoutError:
                logger.warning("redis layer: shard %d did not answer while closing", self._shard)
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            pipe.abort()

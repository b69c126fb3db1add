"""Receiving, for one event loop: receivers wait here, one listener per shard feeds them.

A listener owns one connection to its shard. While receivers wait it loops: one script pops
every waiting message they can take (up to the batch size) from all their channels at once;
when nothing is waiting it blocks in a single BZPOPMIN over all those channels, so an idle
process sends nothing and a message on any channel wakes it at once. A receiver that arrives
for a channel the listener is not blocked on wakes it through the process's wake-up key.

Messages are only taken for receivers that are waiting, and a listener's command is never
cancelled: a receiver that gives up after its message was taken hands it to the next
receiver, and messages of normal channels that nobody in this process wants any more go
back into Redis with their original score. So every message reaches one receiver, once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ...names import non_local_name
from . import scripts
from .buffers import Buffers, Delivery
from .codec import UndecodableMessage
from .connection import CONNECTION_ERRORS, CommandPipe, spawn, unavailable

if TYPE_CHECKING:
    from .layer import RedisChannelLayer

logger = logging.getLogger(__name__)

#: A listener's read timeout exceeds its BZPOPMIN timeout by this much, so a server that
#: vanished without closing the connection is noticed instead of waited on forever.
READ_TIMEOUT_MARGIN = 5.0
#: How long close() waits for listeners to return their last command.
CLOSE_TIMEOUT = 2.0

Received = list[tuple[str, dict[str, Any]]]


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


class _Listener:
    """What one shard's listener is doing, for receivers that need to wake it."""

    __slots__ = ("task", "idle", "blocked_on", "wake_sent")

    def __init__(self) -> None:
        self.task: asyncio.Future[None] | None = None
        self.idle: asyncio.Event | None = None
        self.blocked_on: frozenset[bytes] = frozenset()
        self.wake_sent = False


class Receiver:
    """Waiting receivers, the messages taken for them, and the listeners that take them."""

    def __init__(self, layer: RedisChannelLayer, pipes: Sequence[CommandPipe]) -> None:
        self._layer = layer
        self._pipes = pipes
        self._waiters: dict[str, deque[Waiter]] = {}
        # Redis key -> [number of waiter registrations, sum of their limits]
        self._demand: dict[bytes, list[int]] = {}
        # Sum of the limits of waiters that accept at least one normal channel.
        self._budget = 0
        self._buffers = Buffers(layer.get_capacity)
        self._listeners = [_Listener() for _ in layer.shards]
        self._wake_key = f"{layer.prefix}{layer.client_prefix}.wake!!".encode()
        self._put_back_scheduled = False
        self._next_expiry_sweep = 0.0
        self._closing = False

    # Receiving

    async def receive(self, names: Sequence[str], limit: int) -> Received:
        """Waits until at least one message arrives on ``names``; returns up to ``limit``."""
        ready = self._from_buffers(names, limit)
        if ready:
            return ready
        waiter = Waiter(names, limit, asyncio.get_running_loop().create_future())
        self._register(waiter)
        try:
            await waiter.future
        except BaseException:
            self._unregister(waiter)
            self._dispatch(waiter.received)
            raise
        return [(delivery.channel, delivery.message) for delivery in waiter.received]

    def _from_buffers(self, names: Sequence[str], limit: int) -> Received:
        if not self._buffers:
            return []
        cutoff = time.time() - self._layer.expiry
        ready: Received = []
        for name in names:
            for delivery in self._buffers.take(name, limit - len(ready)):
                if delivery.score >= cutoff:
                    ready.append((delivery.channel, delivery.message))
            if len(ready) >= limit:
                break
        return ready

    def _register(self, waiter: Waiter) -> None:
        waiter.registered = True
        if any("!" not in name for name in waiter.names):
            self._budget += waiter.limit
        for name in waiter.names:
            self._waiters.setdefault(name, deque()).append(waiter)
            key = self._layer.key_of(name)
            demand = self._demand.setdefault(key, [0, 0])
            demand[0] += 1
            demand[1] += waiter.limit
            for shard in self._layer.shards_of(name):
                self._wake(shard, key)

    def _unregister(self, waiter: Waiter) -> None:
        if not waiter.registered:
            return
        waiter.registered = False
        if any("!" not in name for name in waiter.names):
            self._budget -= waiter.limit
        for name in waiter.names:
            queue = self._waiters[name]
            queue.remove(waiter)
            if not queue:
                del self._waiters[name]
            key = self._layer.key_of(name)
            demand = self._demand[key]
            demand[0] -= 1
            demand[1] -= waiter.limit
            if not demand[0]:
                del self._demand[key]

    # Handing out what the listeners took

    def _dispatch(self, deliveries: Iterable[Delivery]) -> None:
        """Gives each delivery to the first waiter that wants it, else keeps it for later."""
        now = time.time()
        cutoff = now - self._layer.expiry
        served: list[Waiter] = []
        for delivery in deliveries:
            if delivery.score < cutoff:
                logger.debug("redis layer: expired message on %r dropped", delivery.channel)
                continue
            waiter = self._waiter_for(delivery.channel)
            if waiter is None:
                self._buffers.add(delivery)
                if "!" not in delivery.channel:
                    self._schedule_put_back()
                continue
            waiter.received.append(delivery)
            if len(waiter.received) == 1:
                served.append(waiter)
        for waiter in served:
            self._unregister(waiter)
            if not waiter.future.done():
                waiter.future.set_result(None)
        if self._buffers and now >= self._next_expiry_sweep:
            self._next_expiry_sweep = now + self._layer.expiry / 4
            dropped = self._buffers.expire(cutoff)
            if dropped:
                logger.info("redis layer: %d expired undelivered messages dropped", dropped)

    def _waiter_for(self, channel: str) -> Waiter | None:
        names = (channel, non_local_name(channel)) if "!" in channel else (channel,)
        for name in names:
            for waiter in self._waiters.get(name, ()):
                if waiter.wants_more():
                    return waiter
        return None

    def _schedule_put_back(self) -> None:
        if not self._put_back_scheduled:
            self._put_back_scheduled = True
            asyncio.get_running_loop().call_soon(self._put_back_unwanted)

    def _put_back_unwanted(self) -> None:
        self._put_back_scheduled = False
        unwanted = self._buffers.drain(lambda channel: "!" not in channel)
        if unwanted:
            spawn(self._put_back(unwanted))

    async def _put_back(self, deliveries: list[Delivery]) -> None:
        """Returns taken messages to Redis, each to the key and place it was taken from."""
        by_shard: dict[int, list[Delivery]] = {}
        for delivery in deliveries:
            by_shard.setdefault(delivery.shard, []).append(delivery)
        for shard, group in by_shard.items():
            args: list[Any] = []
            for delivery in group:
                args += [repr(delivery.score), delivery.member]
            try:
                await scripts.put_back(
                    self._pipes[shard],
                    [delivery.key for delivery in group],
                    [*args, int(self._layer.expiry)],
                )
            except CONNECTION_ERRORS as error:
                logger.error(
                    "redis layer: %d taken messages could not be put back into %s and are lost: %s",
                    len(group),
                    self._layer.shards[shard].label,
                    error,
                )

    # Listeners

    def _wake(self, shard: int, key: bytes) -> None:
        listener = self._listeners[shard]
        if listener.task is None:
            listener.task = spawn(self._listen(shard))
        elif listener.idle is not None:
            listener.idle.set()
        elif listener.blocked_on and key not in listener.blocked_on and not listener.wake_sent:
            listener.wake_sent = True
            self._send_wake(shard)

    def _send_wake(self, shard: int) -> None:
        """Makes the shard's blocked BZPOPMIN return, so its listener sees new keys."""
        pipe = self._pipes[shard]
        pipe.call_and_forget("ZADD", self._wake_key, 0, b"wake")
        pipe.call_and_forget("EXPIRE", self._wake_key, int(self._layer.expiry))

    def _wanted(self, shard: int) -> tuple[list[bytes], list[int], int] | None:
        """The keys this shard's listener should take from, their limits and the budget."""
        keys: list[bytes] = []
        limits: list[int] = []
        batch = self._layer.receive_batch_size
        for key, (_, limit_sum) in self._demand.items():
            if self._layer.is_process_key(key):
                if self._layer.shard_of_key(key) == shard:
                    keys.append(key)
                    limits.append(-batch)
            else:
                keys.append(key)
                limits.append(min(limit_sum, batch))
        if not keys:
            return None
        order = list(range(len(keys)))
        random.shuffle(order)
        return [keys[i] for i in order], [limits[i] for i in order], min(self._budget, batch)

    async def _listen(self, shard: int) -> None:
        listener = self._listeners[shard]
        pipe = CommandPipe(
            self._layer.shards[shard],
            socket_timeout=self._layer.block_timeout + READ_TIMEOUT_MARGIN,
        )
        # Keys the last take found empty: only those may be blocked on without taking again.
        checked: frozenset[bytes] = frozenset()
        try:
            while not self._closing:
                wanted = self._wanted(shard)
                if wanted is None:
                    listener.idle = asyncio.Event()
                    await listener.idle.wait()
                    listener.idle = None
                    continue
                keys, limits, budget = wanted
                if not checked.issuperset(keys):
                    cutoff = repr(time.time() - self._layer.expiry)
                    taken = await scripts.take(
                        pipe, [self._wake_key, *keys], [cutoff, budget, *limits]
                    )
                    checked = frozenset() if taken else frozenset(keys)
                    self._dispatch(self._decode_taken(shard, keys, taken))
                    continue
                listener.blocked_on, listener.wake_sent = checked, False
                try:
                    popped = await pipe.call(
                        "BZPOPMIN", *keys, self._wake_key, self._layer.block_timeout
                    )
                finally:
                    listener.blocked_on = frozenset()
                if popped is not None and popped[0] != self._wake_key:
                    checked = frozenset()
                    self._dispatch(self._decode(shard, popped[0], popped[1:]))
        except CONNECTION_ERRORS as error:
            self._fail_shard(shard, unavailable(self._layer.shards[shard], error))
        except Exception as error:
            logger.exception(
                "redis layer: receiving from %s failed", self._layer.shards[shard].label
            )
            self._fail_shard(shard, error)
        finally:
            listener.task = None
            listener.idle = None
            spawn(pipe.close())

    def _fail_shard(self, shard: int, error: BaseException) -> None:
        """Fails every waiter that was waiting on ``shard`` (their receive raises ``error``)."""
        failed = {
            id(waiter): waiter
            for name, queue in self._waiters.items()
            if shard in self._layer.shards_of(name)
            for waiter in queue
        }
        for waiter in failed.values():
            self._unregister(waiter)
            if not waiter.future.done():
                if waiter.received:
                    waiter.future.set_result(None)
                else:
                    waiter.future.set_exception(error)

    def _decode_taken(self, shard: int, keys: list[bytes], taken: list[Any]) -> list[Delivery]:
        deliveries: list[Delivery] = []
        for position in range(0, len(taken), 2):
            deliveries += self._decode(shard, keys[taken[position] - 1], taken[position + 1])
        return deliveries

    def _decode(self, shard: int, key: bytes, members_and_scores: list[bytes]) -> list[Delivery]:
        """Turns popped (member, score, ...) of one key into deliveries, one per channel."""
        deliveries: list[Delivery] = []
        layer = self._layer
        for position in range(0, len(members_and_scores), 2):
            member = members_and_scores[position]
            score = float(members_and_scores[position + 1])
            try:
                message = layer.codec.decode(member)
            except UndecodableMessage as error:
                logger.warning(
                    "redis layer: undecodable message on key %r dropped (%s); do all "
                    "processes share the same symmetric_encryption_keys?",
                    key,
                    error,
                )
                continue
            targets = message.pop("__asgi_channel__", None)
            if targets is None:
                targets = [layer.channel_of_key(key)]
            elif isinstance(targets, str):
                targets = [targets]
            for index, channel in enumerate(targets):
                copy = message if index == 0 else dict(message)
                deliveries.append(Delivery(channel, copy, score, shard, key, member))
        return deliveries

    # Shutting down

    async def close(self) -> None:
        """Stops the listeners, puts back what was taken but not delivered, fails waiters."""
        self._closing = True
        for shard, listener in enumerate(self._listeners):
            if listener.idle is not None:
                listener.idle.set()
            elif listener.blocked_on:
                self._send_wake(shard)
        tasks = [listener.task for listener in self._listeners if listener.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT)
            for task in late:
                task.cancel()
        # Messages of this process's own channels can only be received here: they go with it.
        self._buffers.drain(lambda channel: "!" in channel)
        undelivered = self._buffers.drain(lambda channel: True)
        if undelivered:
            await self._put_back(undelivered)
        closed = unavailable_closed()
        for queue in list(self._waiters.values()):
            for waiter in list(queue):
                self._unregister(waiter)
                if not waiter.future.done():
                    waiter.future.set_exception(closed)


def unavailable_closed() -> RuntimeError:
    return RuntimeError(
        "The channel layer was closed while this receive was waiting; receive again after "
        "the layer is used again (it reopens its connections on demand)."
    )

"""Receiving, for one event loop: the waiting receivers, and what is taken for them.

Receivers register what they wait for here; one listener per shard (see ``listener``) takes
messages for them. Messages of normal channels are only taken for receivers that are
waiting, and a listener's command is never cancelled: a receiver that gives up after its
message was taken hands it to the next receiver, and messages that nobody in this process
wants any more go back into Redis with their original score. So every message reaches one
receiver, once. A process that stops receiving on some channels calls ``release``: what the
listeners' last commands took for them goes back too. Messages of this process's own
channels can go nowhere else, so once the process has received on such a channel its
listener keeps reading ahead on it (up to the channel's capacity), and a reply is already
here when its receiver asks.

A process that wants every message of its own channels, as soon as each is read, can have
them handed to a function instead (``deliver_all``): called inside the listener's
``data_received``, before its next command is written, so a reply reaches its connection
with no task switch, and the connection's reaction runs before the listener re-arms.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable, Sequence

from ...failure_log import FailureLog
from ...names import non_local_name
from ..capabilities import Deliver, Received
from . import scripts
from .buffers import Buffers
from .delivery import Delivery, decode_taken
from .listener import ShardListener
from .put_back import PutBacks
from .settings import LayerSettings
from .waiters import Subscription, Waiter
from .wire.pipe import CommandPipe

logger = logging.getLogger(__name__)
failures = FailureLog(logger)

#: Messages taken ahead of their receivers are swept for expiry this many times per expiry
#: period (a sweep scans them all); no receiver gets an expired one between sweeps either.
EXPIRY_SWEEPS_PER_EXPIRY = 4
#: With several shards, a receive served on one leaves the other shards' pops blocked on its
#: channels. Waking them all whenever a receive is served would cost two commands per shard
#: per message, and a receive loop (a worker's) asks again at once: so they are woken only
#: when nobody has received on the channel again for this many seconds (a receive given up
#: wakes them at once). A message one of them pops meanwhile goes back into Redis in its
#: place (``put_back``).
DROPPED_DEMAND_GRACE = 0.01


class Receiver:
    """Waiting receivers, the messages taken for them, and the listeners that take them."""

    def __init__(self, settings: LayerSettings, pipes: Sequence[CommandPipe]) -> None:
        self._settings = settings
        self._keys = keys = settings.keys
        self._loop = asyncio.get_running_loop()  # the receiver belongs to this loop
        self._pipes = pipes
        self._waiters: dict[str, deque[Waiter]] = {}
        self._subscriptions: dict[str, Subscription] = {}
        # Redis key -> [number of waiter registrations, sum of their limits]
        self._demand: dict[bytes, list[int]] = {}
        # Keys of this process's channels that it has received on, read ahead on. On a Redis
        # Cluster each is kept with the one shard its messages are sent to (its home shard),
        # whose listener alone reads it; on several hosts with None: every listener reads it,
        # since channels_redis sends a process's messages by the hash of the full name.
        self._read_ahead: dict[bytes, int | None] = {}
        # Normal channels' keys nobody here waits on any more, with when their last waiter
        # left: the listeners still blocked on them are woken after DROPPED_DEMAND_GRACE.
        self._dropped: dict[bytes, float] = {}
        self._dropped_timer: asyncio.TimerHandle | None = None
        # Sum of the limits of waiters that accept at least one normal channel, and how much
        # of it the listeners' take scripts in flight may fill (with several shards, each
        # take gets what the others left, so that they do not pop more than is wanted).
        self._budget = 0
        self._reserved = 0
        # Listeners that found it all reserved, to resume (in turn) when a take returns.
        self._starved: dict[ShardListener, None] = {}
        # With several shards a take goes first to the shards not known to be empty, so
        # that one message is not popped on every shard for a receive that wants one.
        self._least_batch = 0 if settings.shard_count > 1 else 1
        self._buffers = Buffers(settings.capacities.of)
        wake_key = keys.listener_key(settings.client_prefix, "wake")
        self._wake_key = wake_key
        # The take script clears a key first (a listener's wake-up key); one-off takes give it
        # one that never exists, so that no listener's wake-up is lost.
        self._no_key = keys.listener_key(settings.client_prefix, "none")
        self._listeners = [
            ShardListener(self, settings, pipe.server, shard, wake_key)
            for shard, pipe in enumerate(pipes)
        ]
        self._put_back_scheduled = False
        self._put_backs = PutBacks(settings, pipes)
        self._next_expiry_sweep = 0.0

    # Receiving

    async def receive(self, names: Sequence[str], limit: int) -> Received:
        """Waits until at least one message arrives on ``names``; returns up to ``limit``."""
        ready = self._from_buffers(names, limit)
        if ready:
            return ready
        waiter = Waiter(names, limit, self._loop.create_future())
        self._register(waiter)
        try:
            await waiter.future
        except BaseException:
            self._unregister(waiter)
            self.dispatch(waiter.received)
            raise
        return [(delivery.channel, delivery.message) for delivery in waiter.received]

    async def take_ready(self, names: Sequence[str], limit: int) -> Received:
        """Up to ``limit`` messages already waiting on ``names``, without waiting for more:
        those taken ahead of their receiver, else one take script per shard."""
        ready = self._from_buffers(names, limit)
        if ready:
            return ready
        settings = self._settings
        limits: dict[bytes, int] = {}
        for name in names:
            key = self._keys.key_of(name)
            # A process key holds other channels' messages too: take a batch, keep the rest.
            limits[key] = -settings.receive_batch_size if self._keys.is_process_key(key) else limit
        keys = list(limits)
        cutoff = repr(time.time() - settings.expiry)
        for shard, pipe in enumerate(self._pipes):
            budget = limit - len(ready)
            here = self._keys.all_on([self._no_key, *keys], shard)
            call = scripts.take(here, [cutoff, budget, *limits.values()])
            reply = await pipe.run(call)
            self.dispatch(decode_taken(settings, shard, here[1:], reply[1:]))
            ready += self._from_buffers(names, budget)
            if len(ready) >= limit:
                break
        return ready

    async def deliver_all(self, process: str, deliver: Deliver) -> None:
        """Hands every message of the channels of ``process`` ("name!") to ``deliver``, on
        this loop, as each is read. Returns only by raising: the error that stopped
        delivery (a shard failed, or the layer was closed); call again to resume. A message
        ``deliver`` raises on is logged and dropped."""
        if process in self._subscriptions:
            raise RuntimeError(f"{process!r} is already being delivered on this event loop")
        subscription = Subscription(deliver, self._loop.create_future())
        self._subscriptions[process] = subscription
        key = self._keys.key_of(process)
        batch = self._settings.receive_batch_size
        self._read_ahead_on(process, key)
        self._add_demand(key, batch)
        try:
            for delivery in self._buffers.take(process, self._settings.capacities.of(process)):
                self._deliver(subscription, delivery)
            for listener in self._listeners_of(key):
                listener.demand_changed(key)
            await subscription.ended
        finally:
            del self._subscriptions[process]
            self._drop_demand(key, batch)

    def _deliver(self, subscription: Subscription, delivery: Delivery) -> None:
        try:
            subscription.deliver(delivery.channel, delivery.message)
        except Exception as error:
            # A function that fails on one reply fails on every one: counted per process.
            process = non_local_name(delivery.channel)
            failures.failed(
                ("deliver", process),
                error,
                "redis layer: delivering a message of %r failed",
                "redis layer: delivering messages of %r (and the process's other channels) failed",
                delivery.channel,
            )

    def _from_buffers(self, names: Sequence[str], limit: int) -> Received:
        if not self._buffers:
            return []
        cutoff = time.time() - self._settings.expiry
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
        keys: list[bytes] = []
        for name in waiter.names:
            self._waiters.setdefault(name, deque()).append(waiter)
            key = self._keys.key_of(name)
            self._add_demand(key, waiter.limit)
            if "!" in name:
                self._read_ahead_on(name, key)
            keys.append(key)
        for key in keys:
            for listener in self._listeners_of(key):
                listener.demand_changed(key)

    def _unregister(self, waiter: Waiter, served: bool = False) -> None:
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
            self._drop_demand(self._keys.key_of(name), waiter.limit, served)

    def _read_ahead_on(self, name: str, key: bytes) -> None:
        if key not in self._read_ahead:
            self._read_ahead[key] = self._keys.home_shard(name) if self._keys.tagged else None

    def _listeners_of(self, key: bytes) -> Sequence[ShardListener]:
        """The listeners that take from ``key``: on a cluster a process key's home shard's,
        else all."""
        home = self._read_ahead.get(key)
        return self._listeners if home is None else (self._listeners[home],)

    def _add_demand(self, key: bytes, limit: int) -> None:
        demand = self._demand.get(key)
        if demand is None:
            demand = self._demand[key] = [0, 0]
            if self._dropped:
                self._dropped.pop(key, None)
        demand[0] += 1
        demand[1] += limit

    def _drop_demand(self, key: bytes, limit: int, served: bool = False) -> None:
        demand = self._demand[key]
        demand[0] -= 1
        demand[1] -= limit
        if not demand[0]:
            del self._demand[key]
            if key in self._read_ahead:
                return
            if not served or len(self._listeners) == 1:
                # Given up, or on one shard (whose listener is the one that just returned).
                self._wake_listeners_on(key)
                return
            self._dropped[key] = self._loop.time()
            if self._dropped_timer is None:
                self._dropped_timer = self._loop.call_later(
                    DROPPED_DEMAND_GRACE, self._wake_for_dropped
                )

    def _wake_for_dropped(self) -> None:
        """Wakes the listeners blocked on keys whose demand dropped a grace period ago."""
        self._dropped_timer = None
        due = self._loop.time() - DROPPED_DEMAND_GRACE
        later = None
        for key, when in list(self._dropped.items()):
            if when > due:
                later = when if later is None else min(later, when)
                continue
            del self._dropped[key]
            self._wake_listeners_on(key)
        if later is not None:
            self._dropped_timer = self._loop.call_at(
                later + DROPPED_DEMAND_GRACE, self._wake_for_dropped
            )

    def _wake_listeners_on(self, key: bytes) -> None:
        for listener in self._listeners:
            listener.demand_dropped(key)

    # Handing out what the listeners took

    def dispatch(self, deliveries: Iterable[Delivery]) -> None:
        """Gives each delivery to the first waiter that wants it, else keeps it for later."""
        now = time.time()
        cutoff = now - self._settings.expiry
        served: list[Waiter] = []
        for delivery in deliveries:
            if delivery.score < cutoff:
                logger.debug("redis layer: expired message on %r dropped", delivery.channel)
                continue
            if "!" in delivery.channel:
                subscription = self._subscriptions.get(non_local_name(delivery.channel))
                if subscription is not None:
                    self._deliver(subscription, delivery)
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
            self._unregister(waiter, served=True)
            if not waiter.future.done():
                waiter.future.set_result(None)
        if self._buffers and now >= self._next_expiry_sweep:
            self._next_expiry_sweep = now + self._settings.expiry / EXPIRY_SWEEPS_PER_EXPIRY
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
            self._loop.call_soon(self._put_back_unwanted)

    def _put_back_unwanted(self) -> None:
        self._put_back_scheduled = False
        self._put_backs.send(self._buffers.drain(lambda channel: "!" not in channel))

    async def release(self, names: Sequence[str]) -> int:
        """Hands back to Redis every message taken for the normal channels ``names`` that no
        receiver here got, each in its place, and returns how many went back.

        Call it once nothing in this process receives on ``names`` any more (a worker that
        stops): the receive it called off may have left a pop in flight, so this waits for
        the listeners' commands on those channels to return, then for the put-backs of what
        they and the cancelled receives took.
        """
        wanted = {name for name in names if "!" not in name}
        keys = frozenset(key for key in map(self._keys.key_of, wanted) if key not in self._demand)
        for key in keys:
            if self._dropped.pop(key, None) is not None:
                self._wake_listeners_on(key)
        await asyncio.gather(*(listener.settle(keys) for listener in self._listeners))
        self._put_backs.send(self._buffers.drain(lambda channel: channel in wanted))
        return await self._put_backs.confirmed(wanted)

    # Listeners

    def send_wake(self, shard: int) -> None:
        """Makes the shard's blocked BZPOPMIN return, so its listener sees new keys."""
        pipe = self._pipes[shard]
        wake_key = self._keys.on_shard(self._wake_key, shard)
        pipe.call_and_forget("ZADD", wake_key, 0, b"wake")
        pipe.call_and_forget("PEXPIRE", wake_key, self._settings.message_ttl_ms)

    def wanted(self, shard: int) -> tuple[list[bytes], list[int], int] | None:
        """The keys ``shard``'s listener should take from, their limits and the budget."""
        keys: list[bytes] = []
        limits: list[int] = []
        layout, capacity_of = self._keys, self._settings.capacities.of
        batch = self._settings.receive_batch_size
        for key, home in self._read_ahead.items():
            if home is not None and home != shard:
                continue
            process = layout.channel_of_key(key)
            if key in self._demand or self._buffers.held_for(process) < capacity_of(process):
                keys.append(key)
                limits.append(-batch)
        for key, (_, limit_sum) in self._demand.items():
            if not layout.is_process_key(key):
                keys.append(key)
                limits.append(min(limit_sum, batch))
        if not keys:
            return None
        return keys, limits, max(min(self._budget - self._reserved, batch), 0)

    def reserve(self, budget: int) -> None:
        """A take script of up to ``budget`` messages is on its way."""
        self._reserved += budget

    def unreserve(self, budget: int) -> None:
        """A take script's reply was dispatched (or it failed): its budget is free again,
        for the listeners that went without, in turn, as long as some is left."""
        self._reserved -= budget
        starved = self._starved
        while starved and self._budget > self._reserved:
            listener = next(iter(starved))
            del starved[listener]
            listener.resume()

    def starve(self, listener: ShardListener) -> None:
        """``listener`` went without budget: it is resumed when a take returns."""
        self._starved[listener] = None

    def must_wait(self, shard: int) -> bool:
        """True if ``shard``'s listener, idle, has nothing to take now: the take scripts in
        flight hold the whole budget, and it reads ahead on none of this process's keys."""
        return self._budget <= self._reserved and not any(
            home is None or home == shard for home in self._read_ahead.values()
        )

    def batchable(self, keys: list[bytes], limits: list[int], budget: int) -> list[bytes]:
        """The keys where a take could hand a waiter more than the one message a blocking
        pop returns: worth a round trip of their own; with several shards, also where a
        take finds out whether the shard has any (see ``_least_batch``)."""
        least = self._least_batch
        return [
            key
            for key, limit in zip(keys, limits, strict=True)
            if (limit > least and budget > least) or (limit < 0 and key in self._demand)
        ]

    def fail_receivers(self, error: BaseException) -> None:
        """Fails every waiter and ends every delivery (a shard failed, and each waits on every
        shard): they raise ``error`` (a waiter already given messages returns those
        instead)."""
        self._end_subscriptions(error)
        failed = {id(waiter): waiter for queue in self._waiters.values() for waiter in queue}
        for waiter in failed.values():
            self._unregister(waiter)
            if not waiter.future.done():
                if waiter.received:
                    waiter.future.set_result(None)
                else:
                    waiter.future.set_exception(error)

    def _end_subscriptions(self, error: BaseException) -> None:
        for subscription in self._subscriptions.values():
            if not subscription.ended.done():
                subscription.ended.set_exception(error)

    def discard_buffered(self) -> None:
        """Forgets every message taken ahead of its receiver (the layer is being flushed)."""
        self._buffers.drain(lambda channel: True)

    # Shutting down

    async def close(self) -> None:
        """Stops the listeners, puts back what was taken but not delivered, fails waiters."""
        if self._dropped_timer is not None:
            self._dropped_timer.cancel()
            self._dropped_timer = None
        self._dropped.clear()
        await asyncio.gather(*(listener.close() for listener in self._listeners))
        # Those of this layer object's process channels too: another event loop of it (the
        # next async_to_sync call, say) may receive them.
        self._put_backs.send(self._buffers.drain(lambda channel: True))
        # Put-backs under way are answered before the connections close.
        await self._put_backs.confirmed()
        closed = unavailable_closed()
        self._end_subscriptions(closed)
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

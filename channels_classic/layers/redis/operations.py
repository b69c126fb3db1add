"""The layer's writing operations, written once and run two ways.

Each operation is a plan: a generator that yields the commands it needs next (a list of
(shard, command) pairs, run together) and gets their replies back. ``drive`` runs a plan on
the event loop's pipelined connections (the async API, used by the interface server and the
worker loop); ``drive_blocking`` on the calling thread's own blocking connections (the
synchronous API, used by consumer threads and Django views, with no event loop in between).
A plan reads the layer's settings and its ``SendClock`` only.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Generator, Sequence
from typing import Any, TypeVar

from ...exceptions import ChannelFull
from ...failure_log import FailureLog
from ...names import check_channel_name, check_group_name
from . import scripts
from .codec import RESERVED_KEY, check_message
from .once import Once
from .settings import LayerSettings
from .wire.blocking import BlockingConnections
from .wire.commands import Command
from .wire.pipe import CommandPipe

logger = logging.getLogger(__name__)
#: A group with a member that stopped reading says so on every group send: counted.
failures = FailureLog(logger)

T = TypeVar("T")

Step = list[tuple[int, Command]]
Plan = Generator[Step, list[Any], T]


async def drive(plan: Plan[T], pipes: Sequence[CommandPipe]) -> T:
    """Runs ``plan`` on the event loop's connections; the commands of a step are pipelined."""
    replies: list[Any] | None = None
    while True:
        try:
            step = plan.send(replies)  # type: ignore[arg-type]
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if len(step) == 1:  # a send: the hot path of the interface server, no gather
            shard, command = step[0]
            replies = [await pipes[shard].run(command)]
            continue
        replies = await asyncio.gather(
            *(pipes[shard].run(command) for shard, command in step), return_exceptions=True
        )
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply


def drive_blocking(plan: Plan[T], connections: BlockingConnections) -> T:
    """Runs ``plan`` on this thread's blocking connections: one write and one read per shard
    for each step."""
    replies: list[Any] | None = None
    while True:
        try:
            step = plan.send(replies)  # type: ignore[arg-type]
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        by_shard: dict[int, list[int]] = {}
        for index, (shard, _) in enumerate(step):
            by_shard.setdefault(shard, []).append(index)
        results: list[Any] = [None] * len(step)
        for shard, indexes in by_shard.items():
            answers = connections[shard].call_many([step[i][1] for i in indexes])
            for index, answer in zip(indexes, answers, strict=True):
                if isinstance(answer, BaseException):
                    raise answer
                results[index] = answer
        replies = results


#: Where a sent message waits: its shard and its score there (see ``progress``).
Ticket = tuple[int, float]


#: The most sends to normal channels that one turn of an event loop puts on one shard.
SENDS_PER_SHARD_AND_TURN = 64


class SendClock:
    """What one layer object's sends must not repeat: scores, and the shard of the next
    send to a normal channel."""

    def __init__(self, shard_count: int) -> None:
        self._shards = itertools.cycle(range(shard_count))
        self._several = shard_count > 1
        self._last_score = 0.0
        # The shard this turn of the event loop sends to, and how many sends it got.
        self._turn_shard = 0
        self._turn_sends = 0

    def score(self) -> float:
        """Now, as a sorted-set score that is never equal to the previous one (keeps FIFO)."""
        score = time.time()
        if score <= self._last_score:
            score = math.nextafter(self._last_score, math.inf)
        self._last_score = score
        return score

    def next_shard(self, pipelined: bool) -> int:
        """The shard of a send to a normal channel: they are spread over the shards in turn
        (as channels_redis does), so with several shards their order holds per shard.

        ``pipelined`` sends (the event loop's) made in one turn of the loop go to one shard,
        up to SENDS_PER_SHARD_AND_TURN, and the next turn's to the next: concurrent sends
        leave in one write instead of one per shard, and a receiver's take finds them
        together. Blocking sends take turns one by one.
        """
        if not self._several:
            return 0
        if not pipelined:
            return next(self._shards)
        if not self._turn_sends:
            asyncio.get_running_loop().call_soon(self._end_turn)
        elif self._turn_sends < SENDS_PER_SHARD_AND_TURN:
            self._turn_sends += 1
            return self._turn_shard
        self._turn_shard = next(self._shards)
        self._turn_sends = 1
        return self._turn_shard

    def _end_turn(self) -> None:
        self._turn_sends = 0


def send(
    settings: LayerSettings,
    clock: SendClock,
    channel: str,
    message: Any,
    once: Once | None,
    *,
    pipelined: bool,
) -> Plan[Ticket]:
    """One message to one channel: one script, one round trip. ChannelFull at capacity.
    Returns where the message waits. With ``once``, a retry of a try that was added adds
    nothing (see ``once``). ``pipelined``: run by ``drive`` (see ``SendClock``)."""
    check_channel_name(channel)
    keys = settings.keys
    if "!" in channel:
        member = settings.codec.encode_for(channel, message, {RESERVED_KEY: channel})
        shard = keys.home_shard(channel)
    else:
        member = settings.codec.encode_for(channel, message)
        shard = clock.next_shard(pipelined) if once is None or once.shard is None else once.shard
    capacity = settings.capacities.of(channel)
    score = clock.score()
    args = [repr(score - settings.expiry), settings.message_ttl_ms, repr(score), member, capacity]
    channel_keys = [keys.key_on(channel, shard)]
    if once is not None:
        once.shard = shard
        channel_keys.append(keys.on_shard(keys.sent_key(once.lane), shard))
        args += once.mark_args()
    (full,) = yield [(shard, scripts.push(channel_keys, args))]
    if full:
        raise ChannelFull(
            f"Channel {channel!r} is full ({capacity} messages waiting): its receivers are "
            "not keeping up, or none is running"
        )
    return shard, score


def heads(settings: LayerSettings, channel: str) -> Plan[list[float | None]]:
    """The lowest score waiting on ``channel`` on each shard (None where it is empty).
    Receivers only ever pop the lowest score, so a message whose score is below its shard's
    head has been taken (or has expired)."""
    cutoff = repr(time.time() - settings.expiry)
    keys = settings.keys
    replies = yield [
        (shard, scripts.head([keys.key_on(channel, shard)], [cutoff])) for shard in _every(settings)
    ]
    return [None if reply is None else float(reply) for reply in replies]


def count_waiting(settings: LayerSettings, channels: Sequence[str]) -> Plan[dict[str, int]]:
    """How many unexpired messages wait on each of ``channels``, over every shard (for a
    process channel: on every channel of its process, which share one key)."""
    names = list(dict.fromkeys(channels))
    cutoff = f"({time.time() - settings.expiry!r}"
    keys = settings.keys
    replies = yield [
        (shard, ("ZCOUNT", keys.key_on(name, shard), cutoff, "+inf"))
        for shard in _every(settings)
        for name in names
    ]
    counts = dict.fromkeys(names, 0)
    for position, count in enumerate(replies):
        counts[names[position % len(names)]] += count
    return counts


def ping(settings: LayerSettings) -> Plan[None]:
    """A PING to every shard: raises unless each answers."""
    yield [(shard, ("PING",)) for shard in _every(settings)]


def mark(settings: LayerSettings, name: str, ttl_ms: int) -> Plan[None]:
    """Writes the marker ``name`` on every shard, to live ``ttl_ms`` milliseconds."""
    keys = settings.keys
    yield [
        (shard, ("SET", keys.marker_key(name, shard), b"1", "PX", ttl_ms))
        for shard in _every(settings)
    ]


def is_marked(settings: LayerSettings, name: str) -> Plan[bool]:
    """True if every shard still holds the marker ``name``."""
    keys = settings.keys
    replies = yield [
        (shard, ("EXISTS", keys.marker_key(name, shard))) for shard in _every(settings)
    ]
    return all(replies)


def _every(settings: LayerSettings) -> range:
    return range(settings.shard_count)


def group_add(settings: LayerSettings, group: str, channel: str) -> Plan[None]:
    """Adds ``channel`` to ``group``; it stays a member ``group_expiry`` s after this."""
    check_group_name(group)
    check_channel_name(channel)
    key = settings.keys.group_key(group)
    shard = settings.keys.group_shard(group)
    yield [
        (shard, ("ZADD", key, repr(time.time()), channel)),
        (shard, ("PEXPIRE", key, settings.group_ttl_ms)),
    ]


def group_discard(settings: LayerSettings, group: str, channel: str) -> Plan[None]:
    """Removes ``channel`` from ``group``; nothing happens if it was not a member."""
    check_group_name(group)
    check_channel_name(channel)
    keys = settings.keys
    yield [(keys.group_shard(group), ("ZREM", keys.group_key(group), channel))]


def group_send(
    settings: LayerSettings, clock: SendClock, group: str, message: Any, once: Once | None
) -> Plan[None]:
    """One message to every member of ``group``: the members, then one script per shard.
    Members at capacity are skipped and counted in a warning, never raised about. With
    ``once``, a retry adds nothing on a shard where an earlier try was added."""
    check_group_name(group)
    check_message(group, message)
    keys, codec, capacity_of = settings.keys, settings.codec, settings.capacities.of
    cutoff = repr(time.time() - settings.group_expiry)
    group_shard = keys.group_shard(group)
    (members,) = yield [(group_shard, scripts.group_members([keys.group_key(group)], [cutoff]))]
    if not members:
        return
    # One stored message per Redis key, naming every member it is for (as channels_redis).
    targets: dict[bytes, list[str]] = {}
    for member in members:
        channel = member.decode()
        targets.setdefault(keys.key_of(channel), []).append(channel)
    by_shard: dict[int, list[tuple[bytes, bytes, int]]] = {}
    for key, channels in targets.items():
        stored = codec.encode_for(group, message, {RESERVED_KEY: channels})
        shard = keys.home_shard(channels[0])
        entry = (keys.on_shard(key, shard), stored, capacity_of(channels[0]))
        by_shard.setdefault(shard, []).append(entry)
    score = clock.score()
    head = [repr(score - settings.expiry), settings.message_ttl_ms, repr(score)]
    mark_key = keys.sent_key(once.lane) if once is not None else None
    mark_args: list[object] = once.mark_args() if once is not None else []
    results = yield [
        (
            shard,
            scripts.push(
                # One mark key per shard (tagged for it), the same token on each.
                [key for key, _, _ in entries]
                + ([keys.on_shard(mark_key, shard)] if mark_key is not None else []),
                head
                + [value for _, stored, capacity in entries for value in (stored, capacity)]
                + mark_args,
            ),
        )
        for shard, entries in by_shard.items()
    ]
    full = sum(results)
    if full:
        failures.failed(
            ("group full", group),
            None,
            "redis layer: group %r: %d of %d member channels are at capacity and were skipped",
            "redis layer: group %r: sends skipped members at capacity (the first: %d of %d)",
            group,
            full,
            len(targets),
            level=logging.WARNING,
        )

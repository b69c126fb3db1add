"""The layer's writing operations, written once and run two ways.

Each operation is a plan: a generator that yields the commands it needs next (a list of
(shard, command) pairs, run together) and gets their replies back. ``drive`` runs a plan on
the event loop's pipelined connections (the async API, used by the interface server and the
worker loop); ``drive_blocking`` on the calling thread's own blocking connections (the
synchronous API, used by consumer threads and Django views, with no event loop in between).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ...exceptions import ChannelFull
from ...failure_log import FailureLog
from ...names import check_channel_name, check_group_name
from . import scripts
from .delivery import RESERVED_KEY

if TYPE_CHECKING:
    from .blocking import BlockingConnections
    from .connection import CommandPipe
    from .layer import RedisChannelLayer

logger = logging.getLogger(__name__)
#: A group with a member that stopped reading says so on every group send: counted.
failures = FailureLog(logger)

T = TypeVar("T")

Step = list[tuple[int, scripts.Command]]
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


def send(layer: RedisChannelLayer, channel: str, message: Any) -> Plan[Ticket]:
    """One message to one channel: one script, one round trip. ChannelFull at capacity.
    Returns where the message waits."""
    check_channel_name(channel)
    if "!" in channel:
        member = layer.encode(channel, message, {RESERVED_KEY: channel})
        shard = layer.home_shard(channel)
    else:
        member = layer.encode(channel, message)
        shard = layer.next_send_shard()
    capacity = layer.get_capacity(channel)
    score = layer.score()
    args = [repr(score - layer.expiry), layer.message_ttl_ms, repr(score), member, capacity]
    (full,) = yield [(shard, scripts.push([layer.key_of(channel)], args))]
    if full:
        raise ChannelFull(
            f"Channel {channel!r} is full ({capacity} messages waiting): its receivers are "
            "not keeping up, or none is running"
        )
    return shard, score


def heads(layer: RedisChannelLayer, channel: str) -> Plan[list[float | None]]:
    """The lowest score waiting on ``channel`` on each shard (None where it is empty).
    Receivers only ever pop the lowest score, so a message whose score is below its shard's
    head has been taken (or has expired)."""
    cutoff = repr(time.time() - layer.expiry)
    key = layer.key_of(channel)
    replies = yield [(shard, scripts.head([key], [cutoff])) for shard in range(len(layer.shards))]
    return [None if reply is None else float(reply) for reply in replies]


def waiting(layer: RedisChannelLayer, channels: Sequence[str]) -> Plan[dict[str, int]]:
    """How many messages wait on each of the normal ``channels``, over every shard (expired
    ones included until a receiver or sender trims them)."""
    for channel in channels:
        check_channel_name(channel)
    keys = [layer.key_of(channel) for channel in channels]
    shards = range(len(layer.shards))
    replies = yield [(shard, ("ZCARD", key)) for shard in shards for key in keys]
    counts = dict.fromkeys(channels, 0)
    for index, count in enumerate(replies):
        counts[channels[index % len(channels)]] += count
    return counts


def ping(layer: RedisChannelLayer) -> Plan[None]:
    """A PING to every shard: raises unless each answers."""
    yield [(shard, ("PING",)) for shard in range(len(layer.shards))]


def mark(layer: RedisChannelLayer, name: str, ttl_ms: int) -> Plan[None]:
    """Writes the marker ``name`` on every shard, to live ``ttl_ms`` milliseconds."""
    key = layer.marker_key(name)
    yield [(shard, ("SET", key, b"1", "PX", ttl_ms)) for shard in range(len(layer.shards))]


def is_marked(layer: RedisChannelLayer, name: str) -> Plan[bool]:
    """True if every shard still holds the marker ``name``."""
    key = layer.marker_key(name)
    replies = yield [(shard, ("EXISTS", key)) for shard in range(len(layer.shards))]
    return all(replies)


def group_add(layer: RedisChannelLayer, group: str, channel: str) -> Plan[None]:
    """Adds ``channel`` to ``group``; it stays a member ``group_expiry`` s after this."""
    check_group_name(group)
    check_channel_name(channel)
    key = layer.group_key(group)
    shard = layer.group_shard(group)
    yield [
        (shard, ("ZADD", key, repr(time.time()), channel)),
        (shard, ("PEXPIRE", key, layer.group_ttl_ms)),
    ]


def group_discard(layer: RedisChannelLayer, group: str, channel: str) -> Plan[None]:
    """Removes ``channel`` from ``group``; nothing happens if it was not a member."""
    check_group_name(group)
    check_channel_name(channel)
    yield [(layer.group_shard(group), ("ZREM", layer.group_key(group), channel))]


def group_send(layer: RedisChannelLayer, group: str, message: Any) -> Plan[None]:
    """One message to every member of ``group``: the members, then one script per shard.
    Members at capacity are skipped and counted in a warning, never raised about."""
    check_group_name(group)
    layer.check_message(group, message)
    cutoff = repr(time.time() - layer.group_expiry)
    group_shard = layer.group_shard(group)
    (members,) = yield [(group_shard, scripts.group_members([layer.group_key(group)], [cutoff]))]
    if not members:
        return
    # One stored message per Redis key, naming every member it is for (as channels_redis).
    targets: dict[bytes, list[str]] = {}
    for member in members:
        channel = member.decode()
        targets.setdefault(layer.key_of(channel), []).append(channel)
    by_shard: dict[int, list[tuple[bytes, bytes, int]]] = {}
    for key, channels in targets.items():
        stored = layer.encode(group, message, {RESERVED_KEY: channels})
        shard = layer.home_shard(channels[0])
        by_shard.setdefault(shard, []).append((key, stored, layer.get_capacity(channels[0])))
    score = layer.score()
    head = [repr(score - layer.expiry), layer.message_ttl_ms, repr(score)]
    results = yield [
        (
            shard,
            scripts.push(
                [key for key, _, _ in entries],
                head + [value for _, stored, capacity in entries for value in (stored, capacity)],
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

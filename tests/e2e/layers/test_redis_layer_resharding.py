"""The Redis layer on a cluster that changes under it: a slot moved to another master
(MOVED), a slot half-way through its move (ASK, TRYAGAIN), and a master killed while
senders and receivers run (failover). Each test has a cluster of its own."""

from __future__ import annotations

import asyncio
import logging
import time

import redis

from channels_classic.embedded_cluster import EmbeddedRedisCluster
from channels_classic.exceptions import ChannelLayerUnavailable
from channels_classic.layers.redis import RedisChannelLayer


def node_id(port: int) -> str:
    return redis.Redis(port=port).execute_command("CLUSTER", "MYID").decode()


def owner_port(cluster: EmbeddedRedisCluster, slot: int) -> int:
    ranges = redis.Redis(port=cluster.masters[0].port).execute_command("CLUSTER", "SLOTS")
    (port,) = [entry[2][1] for entry in ranges if entry[0] <= slot <= entry[1]]
    return int(port)


def start_moving(cluster: EmbeddedRedisCluster, slot: int, target: int) -> int:
    """Marks ``slot`` as migrating from its master to the one on port ``target``; returns
    the source's port."""
    source = owner_port(cluster, slot)
    redis.Redis(port=target).execute_command(
        "CLUSTER", "SETSLOT", slot, "IMPORTING", node_id(source)
    )
    redis.Redis(port=source).execute_command(
        "CLUSTER", "SETSLOT", slot, "MIGRATING", node_id(target)
    )
    return source


def migrate_keys(source: int, target: int, slot: int) -> int:
    """Moves every key of ``slot`` from ``source`` to ``target``; returns how many."""
    raw = redis.Redis(port=source)
    moved = 0
    while keys := raw.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100):
        raw.execute_command("MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)
        moved += len(keys)
    return moved


def finish_moving(cluster: EmbeddedRedisCluster, slot: int, target: int) -> None:
    for master in cluster.masters:
        redis.Redis(port=master.port).execute_command(
            "CLUSTER", "SETSLOT", slot, "NODE", node_id(target)
        )


def move_slot(cluster: EmbeddedRedisCluster, slot: int, target: int) -> None:
    source = start_moving(cluster, slot, target)
    migrate_keys(source, target, slot)
    finish_moving(cluster, slot, target)


class Traffic:
    """Senders of numbered messages to one channel and receivers of it, in this process;
    sends that raise are retried after a pause (and counted as failed, their message
    perhaps stored); received numbers are kept to find losses and duplicates."""

    def __init__(self, layer: RedisChannelLayer, channel: str) -> None:
        self.layer = layer
        self.channel = channel
        self.sent: dict[int, int] = {}  # number -> shard it was stored on
        self.failed_sends = 0
        self.failed_receives = 0
        self.received: list[int] = []
        self.first_error_at: float | None = None
        self.last_error_at: float | None = None
        self._sending = True
        self._receiving = True
        self._next = 0

    def _error(self) -> None:
        now = time.monotonic()
        self.first_error_at = self.first_error_at or now
        self.last_error_at = now

    async def send(self) -> None:
        while self._sending:
            number, self._next = self._next, self._next + 1
            try:
                shard, _ = await self.layer.send_tracked(self.channel, {"n": number})
            except ChannelLayerUnavailable:
                self.failed_sends += 1
                self._error()
                await asyncio.sleep(0.05)
                continue
            self.sent[number] = shard
            await asyncio.sleep(0.002)

    async def receive(self) -> None:
        while self._receiving:
            try:
                batch = await asyncio.wait_for(self.layer.receive_batch([self.channel], 10), 0.5)
            except TimeoutError:
                continue
            except ChannelLayerUnavailable:
                self.failed_receives += 1
                self._error()
                await asyncio.sleep(0.05)
                continue
            self.received += [message["n"] for _, message in batch]

    async def run(self, during: asyncio.Future[object], senders: int = 3, receivers: int = 2):
        """Runs the traffic until ``during`` is done, then until everything sent is received
        (or 10 s of quiet)."""
        sending = [asyncio.ensure_future(self.send()) for _ in range(senders)]
        receiving = [asyncio.ensure_future(self.receive()) for _ in range(receivers)]
        await during
        await asyncio.sleep(1)
        self._sending = False
        # The sends in flight count once they are answered: only then is all of it known.
        await asyncio.gather(*sending)
        deadline = time.monotonic() + 10
        while not set(self.sent) <= set(self.received) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        self._receiving = False
        await asyncio.gather(*receiving)

    def lost(self) -> set[int]:
        return set(self.sent) - set(self.received)

    def duplicated(self) -> int:
        return len(self.received) - len(set(self.received))


async def test_slots_moved_under_traffic_lose_nothing(private_cluster, prefix):
    """The slots of the 5 shards of the first master move to the second while messages flow
    (CLUSTER SETSLOT ... MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE): every message sent
    arrives once, no send or receive fails, and the shards are served by the second master
    afterwards."""
    cluster = private_cluster()
    layer = RedisChannelLayer(hosts=[cluster.url], prefix=prefix, capacity=10_000)
    target = cluster.masters[1].port
    moved = [
        slot for slot in layer.keys.slots if owner_port(cluster, slot) == cluster.masters[0].port
    ]
    assert len(moved) == 5
    traffic = Traffic(layer, "test.moving")

    async def reshard() -> None:
        await asyncio.sleep(0.5)
        for slot in moved:
            await asyncio.to_thread(move_slot, cluster, slot, target)
            await asyncio.sleep(0.2)

    await traffic.run(asyncio.ensure_future(reshard()))
    assert len(traffic.sent) > 300
    assert traffic.lost() == set()
    assert traffic.duplicated() == 0
    assert (traffic.failed_sends, traffic.failed_receives) == (0, 0)
    assert {owner_port(cluster, slot) for slot in moved} == {target}
    assert {shard for shard in traffic.sent.values()} == set(range(len(layer.shards)))
    await asyncio.to_thread(layer.send_sync, "test.moving", {"n": -1})
    await layer.close()


async def test_a_slot_half_moved_is_followed_with_ask(private_cluster, prefix):
    """While a slot is migrating and its keys already moved, sends to it (async and
    blocking) go to the importing node after ASKING, a receive waiting meanwhile gets them
    once the move is finished, and nothing is lost."""
    cluster = private_cluster()
    layer = RedisChannelLayer(
        hosts=[f"{cluster.url}?shards=1"], prefix=prefix
    )  # one shard: every key in one slot
    (slot,) = layer.keys.slots
    await layer.send("test.asked", {"n": 0})
    target = next(m.port for m in cluster.masters if m.port != owner_port(cluster, slot))
    source = start_moving(cluster, slot, target)
    assert migrate_keys(source, target, slot) >= 1
    await layer.send("test.asked", {"n": 1})
    await asyncio.to_thread(layer.send_sync, "test.asked", {"n": 2})
    on_target = redis.Redis(port=target).execute_command("CLUSTER", "COUNTKEYSINSLOT", slot)
    assert on_target >= 1
    receiving = asyncio.ensure_future(layer.receive_batch(["test.asked"], 10))
    await asyncio.sleep(0.3)
    await asyncio.to_thread(finish_moving, cluster, slot, target)
    received = []
    while len(received) < 3:
        received += await asyncio.wait_for(receiving, 10)
        receiving = asyncio.ensure_future(layer.receive_batch(["test.asked"], 10))
    receiving.cancel()
    assert sorted(message["n"] for _, message in received) == [0, 1, 2]
    assert owner_port(cluster, slot) == target
    await layer.close()


async def test_a_master_killed_under_traffic(private_cluster, prefix, caplog):
    """A master is killed (SIGKILL) while 3 senders and 2 receivers run: the layer follows
    the replica that takes over with no restart, nothing arrives twice, and what is lost is
    at most what the killed master held when it died (only its shards' messages, and few:
    replication on one machine lags by a few milliseconds)."""
    caplog.set_level(logging.INFO)
    cluster = private_cluster()
    layer = RedisChannelLayer(hosts=[cluster.url], prefix=prefix, capacity=10_000)
    killed_port = cluster.masters[0].port
    killed_shards = {
        shard
        for shard, slot in enumerate(layer.keys.slots)
        if owner_port(cluster, slot) == killed_port
    }
    traffic = Traffic(layer, "test.failover")
    timings: dict[str, float] = {}

    async def fail_over() -> None:
        await asyncio.sleep(1)
        timings["killed"] = time.monotonic()
        await asyncio.to_thread(cluster.kill_master, 0)
        timings["promoted"] = time.monotonic()
        await asyncio.sleep(1)

    await traffic.run(asyncio.ensure_future(fail_over()))
    lost = traffic.lost()
    sent = len(traffic.sent)
    assert traffic.duplicated() == 0
    assert {traffic.sent[number] for number in lost} <= killed_shards
    assert len(lost) <= max(5, sent // 100), (len(lost), sent)
    assert traffic.last_error_at is not None  # the outage was seen...
    recovered = traffic.last_error_at - timings["killed"]
    assert recovered < 10  # ...and over within seconds
    after = [n for n in traffic.sent if n > max(traffic.sent) - 50]
    assert set(after) <= set(traffic.received)
    print(
        f"failover: {sent} sent, {len(lost)} lost, {traffic.failed_sends} sends and "
        f"{traffic.failed_receives} receives failed; replica promoted after "
        f"{timings['promoted'] - timings['killed']:.2f} s, last error "
        f"{recovered:.2f} s after the kill"
    )
    await layer.close()

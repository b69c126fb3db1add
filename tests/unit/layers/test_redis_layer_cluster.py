"""The Redis layer on a Redis Cluster: how a cluster is named in ``hosts``, the key layout
(every shard one hash slot, spread over the masters; keys on one host unchanged), and every
script and multi-key command of the layer touching one slot only, on a real cluster; and
connecting while the event loop shuts down."""

from __future__ import annotations

import asyncio
import ssl

import pytest
import redis

from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.layers.redis.keys import ClusterKeyLayout, KeyLayout, cluster_tags, slot_range
from channels_classic.layers.redis.wire.redis_py import cluster_of
from channels_classic.layers.redis.wire.slots import hash_slot
from tests.support.cluster import raw_client


@pytest.mark.parametrize("count", [1, 3, 8, 16, 100, 1000])
def test_each_shards_slot_lies_in_its_range(count):
    """Shard i's tag hashes into the i-th of ``count`` equal slot ranges, the same every time."""
    tags = cluster_tags(count)
    assert len(set(tags)) == count
    for shard, tag in enumerate(tags):
        assert hash_slot(f"{{{tag}}}".encode()) in slot_range(shard, count)
    assert cluster_tags(count) == tags


def test_slots_are_redis_pys_and_every_key_of_a_shard_shares_its_slot():
    layout = ClusterKeyLayout("asgi", 16, cluster_tags(16))
    names = ["websocket.receive", "a.b!c", "http.request"]
    for shard, slot in enumerate(layout.slots):
        keys = [layout.key_on(name, shard) for name in names]
        keys += [
            layout.marker_key("m", shard),
            layout.on_shard(layout.listener_key("x", "wake"), shard),
        ]
        assert {redis.crc.key_slot(key) for key in keys} == {slot}
        assert [layout.channel_of_key(key) for key in keys[:3]] == [
            "websocket.receive",
            "a.b!",
            "http.request",
        ]
    assert redis.crc.key_slot(layout.group_key("g")) == layout.slots[layout.group_shard("g")]


def test_keys_on_one_or_more_hosts_are_channels_redis_names():
    """No tag, whatever the shard: channels_redis reads and writes the same keys."""
    layout = KeyLayout("asgi", 2)
    assert layout.key_on("websocket.receive", 1) == b"asgiwebsocket.receive"
    assert layout.key_on("a.b!c", 0) == layout.key_of("a.b!c") == b"asgia.b!"
    assert layout.on_shard(b"asgix", 1) == b"asgix"
    assert layout.group_key("g") == b"asgi:group:g"
    assert layout.marker_key("m", 1) == b"asgi:marker:m"
    assert layout.scan_pattern(0) == b"asgi*"


def test_the_tags_fall_on_every_master_of_a_fresh_cluster(redis_cluster):
    """CLUSTER KEYSLOT agrees with the layout, and the 16 shards are spread over the three
    masters (5, 5 and 6)."""
    layer = RedisChannelLayer(hosts=[redis_cluster.url], prefix="spread")
    raw = redis.Redis(port=redis_cluster.masters[0].port)
    owners: dict[int, int] = {}
    ranges = raw.execute_command("CLUSTER", "SLOTS")
    for shard, slot in enumerate(layer.keys.slots):
        assert raw.execute_command("CLUSTER", "KEYSLOT", layer.keys.key_on("x", shard)) == slot
        (port,) = [entry[2][1] for entry in ranges if entry[0] <= slot <= entry[1]]
        owners[port] = owners.get(port, 0) + 1
    assert sorted(owners.values()) == [5, 5, 6]


def test_cluster_hosts_in_every_form():
    url = cluster_of(
        ["rediss+cluster://user:secret@10.0.0.1:7000,10.0.0.2:7001/?shards=8&ssl_cert_reqs=none"]
    )
    assert url is not None
    assert url.seeds == (("10.0.0.1", 7000), ("10.0.0.2", 7001))
    assert url.shard_count == 8
    assert (url.node.username, url.node.password) == ("user", "secret")
    assert isinstance(url.node.tls, ssl.SSLContext) and url.node.tls.verify_mode == ssl.CERT_NONE
    assert url.label == "rediss+cluster://10.0.0.1:7000,10.0.0.2:7001"
    given = cluster_of(
        [{"cluster": ["10.0.0.1:7000", ("10.0.0.3", 7002)], "password": "pw", "socket_timeout": 2}]
    )
    assert given is not None
    assert given.seeds == (("10.0.0.1", 7000), ("10.0.0.3", 7002))
    assert (given.node.password, given.node.socket_timeout, given.shard_count) == ("pw", 2.0, 16)
    assert cluster_of([{"address": "redis+cluster://[::1]:7000", "shards": 4}]).seeds == (
        ("::1", 7000),
    )
    assert cluster_of(["redis://127.0.0.1:6379"]) is None
    layer = RedisChannelLayer(hosts=["redis+cluster://10.0.0.1:7000?shards=4"], prefix="p")
    assert len(layer.shards) == 4 and layer.keys.tagged
    assert (
        repr(layer)
        == "<RedisChannelLayer cluster=redis+cluster://10.0.0.1:7000 shards=4 prefix='p'>"
    )


@pytest.mark.parametrize(
    ("hosts", "prefix", "error"),
    [
        (
            ["redis+cluster://a:1", "redis://b:2"],
            "p",
            r"hosts\[0\] names a Redis Cluster, which must be the only entry",
        ),
        (["redis://b:2", {"cluster": ["a:1"]}], "p", r"hosts\[1\] names a Redis Cluster"),
        (["redis+cluster://a:1/2"], "p", "has database 0 only, got db 2"),
        (
            ["redis+cluster://a:1?shards=0"],
            "p",
            "shards must be a whole number from 1 to 16384, got '0'",
        ),
        ([{"cluster": "a:1"}], "p", "cluster must be a non-empty list of nodes"),
        ([{"cluster": ["a"]}], "p", "'a' is not a cluster node: write 'host:port'"),
        (
            [{"cluster": ["a:1"], "master_name": "m"}],
            "p",
            "'master_name' does not apply to a cluster",
        ),
        ([{"cluster": ["a:1"], "bogus": 1}], "p", "'bogus': not a redis-py connection option"),
        (["redis+cluster://a:1"], "site{1}", r"prefix 'site\{1\}' has a brace"),
    ],
)
def test_cluster_mistakes_are_refused_when_the_layer_is_made(hosts, prefix, error):
    with pytest.raises(ValueError, match=error):
        RedisChannelLayer(hosts=hosts, prefix=prefix)


def cross_slot_errors(cluster) -> int:
    """CROSSSLOT errors every master answered so far (INFO errorstats)."""
    total = 0
    for master in cluster.masters:
        stats = redis.Redis(port=master.port).info("errorstats")
        total += stats.get("errorstat_CROSSSLOT", {}).get("count", 0)
    return total


async def test_every_operation_runs_within_one_slot(redis_cluster, prefix):
    """Every script and multi-key command the layer sends, run on the real cluster: none is
    refused with CROSSSLOT, every key the layer wrote lies in its shard's slot, and flush
    deletes them all (and nothing else)."""
    before = cross_slot_errors(redis_cluster)
    layer = RedisChannelLayer(hosts=[redis_cluster.url], prefix=prefix, capacity=500)
    raw = raw_client(redis_cluster.url)
    raw.set("not-the-layers", b"1")
    members = [await layer.new_channel("test.member") for _ in range(60)]
    members += [f"test.normal.{n}" for n in range(60)]
    for member in members:
        await layer.group_add("test-everyone", member)
    await layer.group_discard("test-everyone", members[-1])
    await asyncio.to_thread(layer.group_add_sync, "test-everyone", members[-1])
    await layer.group_send("test-everyone", {"to": "all"})
    await asyncio.to_thread(layer.group_send_sync, "test-everyone", {"to": "all again"})
    tickets = [await layer.send_tracked("test.one", {"n": n}) for n in range(40)]
    await asyncio.to_thread(layer.send_sync, "test.one", {"n": 40})
    assert await layer.count_waiting(["test.one", members[0]]) == {"test.one": 41, members[0]: 2}
    taken = await layer.progress("test.one")
    assert not any(taken(ticket) for ticket in tickets)
    await layer.mark("test-marker", 60)
    assert await layer.is_marked("test-marker")
    await layer.ping()
    got = []
    while len(got) < 41:
        got += await asyncio.wait_for(
            layer.receive_batch(["test.one", "test.two", "test.three"], 7), 5
        )
    assert sorted(message["n"] for _, message in got) == list(range(41))
    assert await layer.receive_ready(["test.one"], 5) == []
    for member in members:
        batch = await asyncio.wait_for(layer.receive_batch([member], 5), 5)
        assert [message["to"] for _, message in batch] in (
            ["all", "all again"],
            ["all again", "all"],
            ["all"],
        )
        if len(batch) == 1:
            assert (await asyncio.wait_for(layer.receive(member), 5))["to"] == "all again"
    waiting = asyncio.ensure_future(layer.receive_batch(["test.cancelled", "test.other"], 3))
    await asyncio.sleep(0.1)
    await layer.send("test.cancelled", {"n": 1})
    waiting.cancel()
    await layer.release(["test.cancelled", "test.other"])
    try:  # the receive may have got it before it was called off
        assert await waiting == [("test.cancelled", {"n": 1})]
    except asyncio.CancelledError:
        assert (await asyncio.wait_for(layer.receive("test.cancelled"), 5)) == {"n": 1}
    slots = set(layer.keys.slots)
    keys = [
        key
        for master in redis_cluster.masters
        for key in redis.Redis(port=master.port).scan_iter(f"{prefix}*")
    ]
    assert keys
    assert {hash_slot(key) for key in keys} <= slots
    assert cross_slot_errors(redis_cluster) == before
    await layer.flush()
    assert [
        key
        for master in redis_cluster.masters
        for key in redis.Redis(port=master.port).scan_iter(f"{prefix}*")
    ] == []
    assert raw.get("not-the-layers") == b"1"
    raw.delete("not-the-layers")
    await layer.close()


async def test_connections_open_after_the_loops_executor_is_shut_down(redis_cluster, prefix):
    """asyncio.run() shuts the loop's default executor down before the layer closes with the
    loop, and what the layer hands back then (a cancelled receive's wake-ups, put-backs) must
    still connect: the slot map is asked off the loop, but not in that executor."""
    layer = RedisChannelLayer(hosts=[redis_cluster.url], prefix=prefix)
    await asyncio.get_running_loop().shutdown_default_executor()
    await layer.send("test.late", {"n": 1})
    assert await asyncio.wait_for(layer.receive("test.late"), 5) == {"n": 1}
    await layer.close()

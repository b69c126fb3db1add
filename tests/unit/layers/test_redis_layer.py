"""The Redis layer in one process, against a real Redis server and a real Redis Cluster:
every test taking ``redis_url`` (or ``layer``) runs on both; those that stop or restart a
server of their own run on one host."""

from __future__ import annotations

import asyncio
import math
import random
import re
import time

import pytest

from channels_classic.exceptions import ChannelFull
from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.layers.redis.operations import SENDS_PER_SHARD_AND_TURN
from tests.support.cluster import key_holding, raw_client, stored


@pytest.fixture
def redis_url(host_or_cluster_url: str) -> str:
    return host_or_cluster_url


async def receive_nothing(layer: RedisChannelLayer, channel: str, wait: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(channel), wait)


async def test_send_then_receive(layer):
    """A message sent to a normal channel comes back whole: bytes stay bytes, str stays str."""
    message = {"text": "héllo", "bytes": b"\x00\xff", "n": 2**40, "f": 1.5, "l": [1, None, True]}
    await layer.send("test.channel", message)
    assert await layer.receive("test.channel") == message


async def test_receive_waits_for_a_later_send(layer):
    """A receive blocked on an empty channel returns as soon as a message is sent."""
    waiting = asyncio.ensure_future(layer.receive("test.later"))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await layer.send("test.later", {"n": 1})
    assert await asyncio.wait_for(waiting, 2) == {"n": 1}


async def test_messages_of_one_sender_arrive_in_order(layer):
    """Per-channel FIFO holds even for concurrent (pipelined) sends from one process: on one
    host for the whole channel, on several shards per shard. There the sends of one turn of
    the event loop go to one shard (up to SENDS_PER_SHARD_AND_TURN of them), and sends one
    after another to the shards in turn."""
    concurrent = await asyncio.gather(
        *(layer.send_tracked("test.fifo", {"n": n}) for n in range(90))
    )
    shards = len(layer.shards)
    sequential = [await layer.send_tracked("test.fifo", {"n": 90 + n}) for n in range(shards)]
    tickets = [*concurrent, *sequential]
    received = []
    while len(received) < len(tickets):
        received += [message["n"] for _, message in await layer.receive_batch(["test.fifo"], 30)]
    assert sorted(received) == list(range(len(tickets)))
    for shard in {shard for shard, _ in tickets}:
        sent_there = [n for n, (where, _) in enumerate(tickets) if where == shard]
        assert [n for n in received if n in sent_there] == sent_there
    if shards > 1:
        turns = math.ceil(90 / SENDS_PER_SHARD_AND_TURN)
        assert len({shard for shard, _ in concurrent}) == turns
        assert {shard for shard, _ in sequential} == set(range(shards))


async def test_receive_batch_takes_several_and_respects_limit(layer):
    """One batch receive returns every waiting message up to its limit, oldest first (on a
    cluster, whose shards hold one each here: what one shard's take found, in any order)."""
    for n in range(5):
        await layer.send("test.batch", {"n": n})
    first = await layer.receive_batch(["test.batch"], 3)
    assert 1 <= len(first) <= 3
    rest = []
    while len(first) + len(rest) < 5:
        rest += await asyncio.wait_for(layer.receive_batch(["test.batch"], 10), 2)
    received = [(channel, message["n"]) for channel, message in first + rest]
    assert sorted(received) == [("test.batch", n) for n in range(5)]
    if len(layer.shards) == 1:
        assert received == [("test.batch", n) for n in range(5)]
        assert (len(first), len(rest)) == (3, 2)
    await receive_nothing(layer, "test.batch")


async def test_receive_batch_on_several_channels(layer):
    """A receive on several channels is woken by a message on any of them and names it."""
    waiting = asyncio.ensure_future(layer.receive_batch(["test.one", "test.two"], 5))
    await asyncio.sleep(0.1)
    await layer.send("test.two", {"on": "two"})
    assert await asyncio.wait_for(waiting, 2) == [("test.two", {"on": "two"})]


async def test_process_channels(layer):
    """Messages to new_channel() names reach the receiver of that exact name, or of its
    process prefix, with the full name reported."""
    first = await layer.new_channel("test.reply")
    second = await layer.new_channel("test.reply")
    assert re.fullmatch(r"test\.reply\.[0-9a-f]{32}![0-9a-f]{32}", first)
    await layer.send(first, {"to": "first"})
    await layer.send(second, {"to": "second"})
    assert await layer.receive(second) == {"to": "second"}
    assert await layer.receive(first) == {"to": "first"}
    await layer.send(second, {"to": "second again"})
    process_wide = first[: first.index("!") + 1]
    assert await layer.receive_batch([process_wide], 10) == [(second, {"to": "second again"})]


async def test_process_channels_of_another_layer_are_refused(layer, redis_url, prefix):
    """Only the layer object that made a process channel may receive on it."""
    other = RedisChannelLayer(hosts=[redis_url], prefix=prefix)
    name = await other.new_channel()
    with pytest.raises(ValueError, match="only be received on by the layer object"):
        await layer.receive(name)


async def test_groups(layer):
    """group_send reaches every member once; discarded members get nothing."""
    members = [await layer.new_channel() for _ in range(3)] + ["test.group.normal"]
    for member in members:
        await layer.group_add("test-group", member)
        await layer.group_add("test-group", member)
    await layer.group_discard("test-group", members[0])
    await layer.group_discard("test-group", "test.never.added")
    await layer.group_send("test-group", {"text": "all"})
    for member in members[1:]:
        assert await layer.receive(member) == {"text": "all"}
    await receive_nothing(layer, members[0])
    await receive_nothing(layer, members[1])


async def test_group_send_skips_full_members_and_logs(redis_url, prefix, caplog):
    """A member at capacity is skipped (and counted in a warning); the others still get it."""
    small = RedisChannelLayer(hosts=[redis_url], prefix=prefix, channel_capacity={"test.full*": 1})
    full = await small.new_channel("test.full")  # on one shard, like the group's copy
    await small.group_add("test-cap", full)
    await small.group_add("test-cap", "test.roomy")
    await small.send(full, {"n": 0})
    await small.group_send("test-cap", {"n": 1})
    assert "1 of 2 member channels are at capacity" in caplog.text
    assert await small.receive("test.roomy") == {"n": 1}
    assert await small.receive(full) == {"n": 0}
    await small.flush()
    await small.close()


async def test_group_expiry(redis_url, prefix):
    """A membership ends group_expiry seconds after its last group_add."""
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, group_expiry=1)
    await layer.group_add("test-expiring", "test.member")
    await asyncio.sleep(1.2)
    await layer.group_send("test-expiring", {"late": True})
    await receive_nothing(layer, "test.member")
    await layer.group_add("test-expiring", "test.member")
    await layer.group_send("test-expiring", {"fresh": True})
    assert await layer.receive("test.member") == {"fresh": True}
    await layer.flush()
    await layer.close()


async def test_capacity(redis_url, prefix):
    """A send to a channel holding `capacity` messages raises ChannelFull naming the channel
    (with several shards: `capacity` on each shard, where the sends go in turn)."""
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, capacity=3)
    for n in range(3 * len(layer.shards)):
        await layer.send("test.cap", {"n": n})
    with pytest.raises(ChannelFull, match=r"Channel 'test.cap' is full \(3 messages waiting\)"):
        await layer.send("test.cap", {"n": -1})
    received = 0
    while received < 3 * len(layer.shards):
        received += len(await asyncio.wait_for(layer.receive_batch(["test.cap"], 100), 2))
    await layer.send("test.cap", {"n": 4})
    await layer.flush()
    await layer.close()


async def test_channel_capacity_patterns(redis_url, prefix):
    """channel_capacity globs and regexes override capacity; the first match wins."""
    layer = RedisChannelLayer(
        hosts=[redis_url],
        prefix=prefix,
        capacity=10,
        channel_capacity={"test.tiny*": 1, re.compile(r"^test\.small"): 2},
    )
    assert layer.get_capacity("test.tiny.x") == 1
    assert layer.get_capacity("test.small.y") == 2
    assert layer.get_capacity("test.other") == 10
    for _ in layer.shards:
        await layer.send("test.tiny.x", {})
    with pytest.raises(ChannelFull):
        await layer.send("test.tiny.x", {})
    reply = await layer.new_channel("test.tiny")
    await layer.send(reply, {})
    with pytest.raises(ChannelFull):
        await layer.send(reply, {})
    for n in range(2 * len(layer.shards)):
        await layer.send("test.small.y", {"n": n})
    with pytest.raises(ChannelFull):
        await layer.send("test.small.y", {"n": 2})
    await layer.flush()
    await layer.close()


async def test_expiry(redis_url, prefix):
    """A message not received within `expiry` seconds is dropped, waiting in Redis or read
    ahead into the receiving process."""
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, expiry=1)
    await layer.send("test.expiring", {"old": True})
    await asyncio.sleep(1.2)
    await receive_nothing(layer, "test.expiring")
    await layer.send("test.expiring", {"new": True})
    assert await layer.receive("test.expiring") == {"new": True}

    raw = raw_client(redis_url)
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.send(first, {"n": 1})
    assert await layer.receive(first) == {"n": 1}  # from now on this process reads ahead
    await layer.send(second, {"old": True})
    deadline = time.monotonic() + 2
    while stored(raw, layer, second):
        assert time.monotonic() < deadline, "the message was not read ahead"
        await asyncio.sleep(0.02)
    await asyncio.sleep(1.2)
    await receive_nothing(layer, second)
    await layer.send(second, {"new": True})
    assert await layer.receive(second) == {"new": True}
    await layer.flush()
    await layer.close()


async def test_expiry_below_a_second(redis_url, prefix):
    """Fractions of a second are honoured: with expiry and group_expiry of 0.5 s, messages
    and memberships work at once and are gone 0.5 s later."""
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, expiry=0.5, group_expiry=0.5)
    raw = raw_client(redis_url)
    await layer.send("test.brief", {"n": 1})
    assert 0 < raw.pttl(key_holding(raw, layer, "test.brief")) <= 500
    assert await layer.receive("test.brief") == {"n": 1}
    await layer.group_add("test-brief", "test.brief")
    assert 0 < raw.pttl(layer.keys.group_key("test-brief")) <= 500
    await layer.group_send("test-brief", {"n": 2})
    assert await layer.receive("test.brief") == {"n": 2}
    await layer.send("test.brief", {"n": 3})
    await asyncio.sleep(0.7)
    await layer.group_send("test-brief", {"n": 4})
    await receive_nothing(layer, "test.brief")
    await layer.flush()
    await layer.close()


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("has space", r"Channel name 'has space' is invalid: use fewer than 100"),
        ("a" * 100, "is invalid"),
        ("two!bangs!", "is invalid"),
        ("reply?old-style", "is invalid"),
        (b"bytes", "Channel name must be a str, got bytes"),
    ],
)
async def test_bad_channel_names_are_refused(layer, name, error):
    """Invalid channel names raise TypeError showing the name and the rules."""
    with pytest.raises(TypeError, match=error):
        await layer.send(name, {})


async def test_bad_group_names_and_messages_are_refused(layer):
    """Bad group names, non-dict messages, the reserved key and unencodable values are
    refused with errors that say what to change."""
    with pytest.raises(TypeError, match=r"Group name 'a!b' is invalid"):
        await layer.group_add("a!b", "test.x")
    with pytest.raises(TypeError, match=r"Message for 'test.x' must be a dict, got list"):
        await layer.send("test.x", [1])
    with pytest.raises(ValueError, match="reserved key '__asgi_channel__'"):
        await layer.send("test.x", {"__asgi_channel__": "x"})
    with pytest.raises(TypeError, match=r"cannot be encoded .*set"):
        await layer.send("test.x", {"s": {1, 2}})
    with pytest.raises(TypeError, match="non-empty list of names"):
        await layer.receive_batch("test.x")


async def test_flush_removes_messages_and_groups(layer):
    """flush() empties every channel and group under the prefix."""
    await layer.send("test.flush", {})
    await layer.group_add("test-flush", "test.flush")
    await layer.flush()
    await layer.group_send("test-flush", {"after": True})
    await receive_nothing(layer, "test.flush")


async def test_encryption_stores_no_plaintext(redis_url, prefix):
    """With symmetric_encryption_keys, Redis holds ciphertext for sends to normal and process
    channels and for group sends (channel names inside included); old keys still decrypt."""
    old = RedisChannelLayer(hosts=[redis_url], prefix=prefix, symmetric_encryption_keys=["old"])
    new = RedisChannelLayer(
        hosts=[redis_url], prefix=prefix, symmetric_encryption_keys=["new", "old"]
    )
    reply = await new.new_channel()
    await old.send("test.secret", {"text": "attack at dawn"})
    await old.send(reply, {"text": "attack at noon"})
    await old.group_add("test-secret", reply)
    await old.group_add("test-secret", "test.secret")
    await old.group_send("test-secret", {"text": "attack at dusk"})
    raw = raw_client(redis_url)
    members = stored(raw, old, "test.secret") + stored(raw, old, reply)
    assert len(members) == 4
    assert not [member for member in members if b"attack" in member or b"test." in member]
    assert await new.receive("test.secret") == {"text": "attack at dawn"}
    assert await new.receive("test.secret") == {"text": "attack at dusk"}
    assert await new.receive(reply) == {"text": "attack at noon"}
    assert await new.receive(reply) == {"text": "attack at dusk"}
    with pytest.raises(ValueError, match="must be a list of keys"):
        RedisChannelLayer(hosts=[redis_url], symmetric_encryption_keys="one-key")
    await old.close()
    await new.close()


async def test_message_encrypted_with_unknown_key_is_dropped(redis_url, prefix, caplog):
    """A message no configured key decrypts is logged and skipped; the next one arrives."""
    stranger = RedisChannelLayer(hosts=[redis_url], prefix=prefix, symmetric_encryption_keys=["x"])
    layer = RedisChannelLayer(hosts=[redis_url], prefix=prefix, symmetric_encryption_keys=["y"])
    await stranger.send("test.mixed", {"n": 1})
    await layer.send("test.mixed", {"n": 2})
    assert await layer.receive("test.mixed") == {"n": 2}
    assert "undecodable message on key" in caplog.text
    assert "dropped: it could not be decrypted (InvalidToken)" in caplog.text
    await stranger.close()
    await layer.close()


async def test_garbage_in_redis_is_reported_as_garbage(layer, redis_url, caplog):
    """Bytes no layer wrote, on a channel's key, are dropped with a warning saying they are
    not msgpack (no word about encryption keys, which this layer has none of); the next
    message arrives."""
    raw = raw_client(redis_url)
    # Scored as a message sent now (the layer drops older scores as expired).
    raw.zadd(layer.keys.key_on("test.garbage", 0), {b"x" * 12 + b"\xc1not msgpack": time.time()})
    raw.close()
    await layer.send("test.garbage", {"n": 1})
    assert await layer.receive("test.garbage") == {"n": 1}
    assert "redis layer: undecodable message on key" in caplog.text
    assert "dropped: it is not msgpack (" in caplog.text
    assert "something other than a channel layer" in caplog.text
    assert "symmetric_encryption_keys" not in caplog.text


async def test_cancelled_receives_under_load_lose_and_duplicate_nothing(redis_url, prefix):
    """10 000 messages, received by receives that are cancelled at random moments: every
    message arrives exactly once."""
    total = 10_000
    big = RedisChannelLayer(hosts=[redis_url], prefix=prefix, capacity=total)
    received: list[int] = []
    done = asyncio.Event()

    async def impatient_receiver() -> None:
        rng = random.Random()
        while not done.is_set():
            try:
                batch = await asyncio.wait_for(
                    big.receive_batch(["test.cancel"], rng.choice([1, 5, 20])),
                    rng.uniform(0.0001, 0.003),
                )
            except TimeoutError:
                continue
            received.extend(message["n"] for _, message in batch)
            if len(received) >= total:
                done.set()

    async def sender() -> None:
        for start in range(0, total, 500):
            await asyncio.gather(
                *(big.send("test.cancel", {"n": n}) for n in range(start, start + 500))
            )

    receivers = [asyncio.ensure_future(impatient_receiver()) for _ in range(8)]
    await sender()
    await asyncio.wait_for(done.wait(), 60)
    await asyncio.sleep(0.2)
    done.set()
    await asyncio.gather(*receivers)
    assert len(received) == total
    assert sorted(received) == list(range(total))
    await big.flush()
    await big.close()


async def test_layer_reports_its_settings_errors(redis_url):
    """Bad constructor arguments fail at once with the argument named."""
    with pytest.raises(ValueError, match="single string 'redis://x'"):
        RedisChannelLayer(hosts="redis://x")
    with pytest.raises(ValueError, match=r"hosts\[0\] is 42"):
        RedisChannelLayer(hosts=[42])
    with pytest.raises(ValueError, match="capacity must be a whole number of at least 1, got 0"):
        RedisChannelLayer(hosts=[redis_url], capacity=0)
    with pytest.raises(ValueError, match="capacity must be a whole number .*, got True"):
        RedisChannelLayer(hosts=[redis_url], capacity=True)
    with pytest.raises(ValueError, match="expiry must be a positive, finite number of seconds"):
        RedisChannelLayer(hosts=[redis_url], expiry=True)
    with pytest.raises(ValueError, match=r"group_expiry must be .* seconds .*, got 0\b"):
        RedisChannelLayer(hosts=[redis_url], group_expiry=0)
    with pytest.raises(ValueError, match="expiry must be .*, got inf"):
        RedisChannelLayer(hosts=[redis_url], expiry=float("inf"))
    with pytest.raises(TypeError, match="prefix must be a str"):
        RedisChannelLayer(hosts=[redis_url], prefix=b"x")


async def test_blocking_api_sends_and_groups(layer, redis_url):
    """The blocking twins (used by consumer threads and views) send, add, discard and group
    send like the async methods, and report a full channel the same way."""
    small = RedisChannelLayer(hosts=[redis_url], prefix=layer.prefix, capacity=1)
    for _ in small.shards:
        await asyncio.to_thread(small.send_sync, "test.blocking", {"n": 1})
    with pytest.raises(ChannelFull, match="'test.blocking' is full"):
        await asyncio.to_thread(small.send_sync, "test.blocking", {"n": 2})
    for _ in small.shards:
        assert await layer.receive("test.blocking") == {"n": 1}
    reply = await layer.new_channel()
    await asyncio.to_thread(layer.group_add_sync, "test-blocking", reply)
    await asyncio.to_thread(layer.group_add_sync, "test-blocking", "test.other")
    await asyncio.to_thread(layer.group_discard_sync, "test-blocking", "test.other")
    await asyncio.to_thread(layer.group_send_sync, "test-blocking", {"to": "group"})
    assert await layer.receive(reply) == {"to": "group"}
    await receive_nothing(layer, "test.other")
    await small.close()


async def test_receive_ready_answers_at_once(layer):
    """receive_ready returns what is there without waiting: nothing on an empty channel,
    the waiting messages otherwise; a process channel's other messages stay for their own
    receivers."""
    assert await asyncio.wait_for(layer.receive_ready(["test.ready"], 5), 0.5) == []
    await layer.send("test.ready", {"n": 1})
    await layer.send("test.ready", {"n": 2})
    assert await layer.receive_ready(["test.ready"], 5) == [
        ("test.ready", {"n": 1}),
        ("test.ready", {"n": 2}),
    ]
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.send(second, {"to": "second"})
    await layer.send(first, {"to": "first"})
    assert await layer.receive_ready([first], 5) == [(first, {"to": "first"})]
    assert await layer.receive(second) == {"to": "second"}


async def test_receive_ready_does_not_steal_a_wake_up(layer):
    """A one-off receive_ready between a blocked receive and a later send does not leave the
    blocked receive asleep."""
    waiting = asyncio.ensure_future(layer.receive("test.wake.one"))
    await asyncio.sleep(0.05)
    late = asyncio.ensure_future(layer.receive("test.wake.two"))
    await layer.receive_ready(["test.wake.three"])
    await layer.send("test.wake.two", {"n": 2})
    assert await asyncio.wait_for(late, 2) == {"n": 2}
    waiting.cancel()


async def test_a_channel_never_empty_does_not_keep_another_waiting(layer):
    """With messages waiting on two channels, one-message receives on both take from each
    in turn, whichever channel is named first."""
    for n in range(10):
        await layer.send("test.busy", {"n": n})
        await layer.send("test.other", {"n": n})
    channels = []
    for _ in range(4):
        ((channel, _),) = await layer.receive_batch(["test.busy", "test.other"], 1)
        channels.append(channel)
    assert sorted(set(channels)) == ["test.busy", "test.other"]


async def test_receive_batch_still_checks_names_after_a_good_receive(layer):
    """Channel lists are checked once, not trusted blindly: a bad one is refused every time."""
    await layer.send("test.checked", {"n": 1})
    assert await layer.receive_batch(["test.checked"], 1) == [("test.checked", {"n": 1})]
    for _ in range(2):
        with pytest.raises(TypeError, match="is invalid"):
            await layer.receive_batch(["test.checked", "bad name"], 1)
        with pytest.raises(TypeError, match="must be a str"):
            await layer.receive_batch(["test.checked", ["unhashable"]], 1)  # type: ignore[list-item]

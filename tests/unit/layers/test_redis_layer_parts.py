"""The Redis layer's parts: hosts, shard hashing, message encoding (no server needed), and
the command pipe's pre-packed commands (on the session's Redis)."""

from __future__ import annotations

import msgpack
import pytest
from channels_redis.serializers import registry
from channels_redis.utils import _consistent_hash

from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.layers.redis.codec import MessageCodec, UndecodableMessage
from channels_classic.layers.redis.keys import consistent_hash
from channels_classic.layers.redis.wire.redis_py import decode_hosts
from channels_classic.names import check_channel_name, check_group_name, non_local_name


def test_hosts_in_every_accepted_form():
    """URLs, (host, port) pairs and dicts become shards labelled without passwords."""
    shards = decode_hosts(
        ["redis://:secret@10.0.0.1:6380/2", ("10.0.0.2", 6381), {"host": "10.0.0.3", "port": 7}]
    )
    assert [shard.label for shard in shards] == [
        "redis://10.0.0.1:6380/2",
        "redis://10.0.0.2:6381",
        "redis://10.0.0.3:7",
    ]
    assert decode_hosts(None)[0].label == "redis://localhost:6379"


def test_shard_settings_come_from_redis_py():
    """Timeouts, password, database and client name are read the way redis-py reads them,
    and become the first commands of every connection."""
    (shard,) = decode_hosts(
        [{"address": "redis://:pw@127.0.0.1:1/3", "socket_timeout": 0.5, "client_name": "w"}]
    )
    assert shard.socket_timeout == 0.5
    assert shard.handshake() == [("AUTH", "pw"), ("SELECT", 3), ("CLIENT", "SETNAME", "w")]
    (plain,) = decode_hosts(["redis://127.0.0.1:1/0"])
    assert plain.handshake() == []


@pytest.mark.parametrize("ring_size", [1, 2, 3, 7])
def test_consistent_hash_matches_channels_redis(ring_size):
    """Both layers put a process channel or group on the same shard."""
    names = [f"daphne.response.{n}!" for n in range(200)] + [f"room-{n}" for n in range(200)]
    assert [consistent_hash(name, ring_size) for name in names] == [
        _consistent_hash(name, ring_size) for name in names
    ]


def test_codec_reads_and_writes_channels_redis_format():
    """A member encoded by either side decodes on the other."""
    ours = MessageCodec(expiry=60, symmetric_encryption_keys=None)
    theirs = registry.get_serializer("msgpack", random_prefix_length=12, expiry=60)
    message = {"text": "x", "bytes": b"\x00"}
    assert theirs.deserialize(ours.encode(message)) == message
    assert ours.decode(theirs.serialize(message)) == message
    assert ours.encode(message) != ours.encode(message)


def test_codec_refuses_what_is_not_a_message():
    """Garbage and non-dict payloads raise UndecodableMessage saying what they are, never
    something else, and without a word about keys where none are configured."""
    codec = MessageCodec(expiry=60, symmetric_encryption_keys=None)
    with pytest.raises(UndecodableMessage, match=r"^it is not msgpack \(.*\); something other "):
        codec.decode(b"x" * 12 + b"\xc1")
    with pytest.raises(UndecodableMessage, match="^it is msgpack of a list, not of a message dict"):
        codec.decode(b"x" * 12 + msgpack.packb([1]))
    for garbage in (b"\xc1", msgpack.packb([1]), b"hello"):
        with pytest.raises(UndecodableMessage) as refused:
            codec.decode(b"x" * 12 + garbage)
        assert "symmetric_encryption_keys" not in str(refused.value)


def test_codec_names_the_keys_only_where_they_are_the_cause():
    """Encrypted for a layer without keys, or not decryptable with this layer's keys: the
    error says to give every process the same keys."""
    plain = MessageCodec(expiry=60, symmetric_encryption_keys=None)
    secret = MessageCodec(expiry=60, symmetric_encryption_keys=["one"])
    other = MessageCodec(expiry=60, symmetric_encryption_keys=["two"])
    with pytest.raises(UndecodableMessage, match="^it is encrypted, and this layer has no sym"):
        plain.decode(secret.encode({"n": 1}))
    for stored in (secret.encode({"n": 1}), plain.encode({"n": 1})):
        with pytest.raises(UndecodableMessage, match=r"^it could not be decrypted \(InvalidTok"):
            other.decode(stored)
    assert secret.decode(secret.encode({"n": 1})) == {"n": 1}


def test_name_rules():
    """Valid names pass through; the non-local part ends at the '!'."""
    assert check_channel_name("daphne.response.abc!def") == "daphne.response.abc!def"
    assert check_group_name("chat-room_1.x") == "chat-room_1.x"
    assert non_local_name("a.b!c") == "a.b!"
    assert non_local_name("a.b") == "a.b"
    with pytest.raises(TypeError, match="Group name 'room 1' is invalid"):
        check_group_name("room 1")


def test_command_packing_matches_redis_py():
    """The layer's own protocol encoder writes what redis-py would."""
    from redis.asyncio.connection import Connection

    from channels_classic.layers.redis.wire.commands import pack_commands

    commands = [("EVALSHA", "abc", 1, b"key", "1.5", b"\x00\xff", 100, 2.25), ("PING",)]
    assert pack_commands(commands) == b"".join(Connection().pack_commands(commands))


async def test_pre_packed_commands_are_written_when_the_connection_is_free(redis_url):
    """call_back(packed=...) writes the packed bytes as they are when nothing is in flight,
    and falls back to the commands themselves when something is (or there is no connection
    yet): the bytes here differ from the commands only to show which was written."""
    import asyncio

    from channels_classic.layers.redis.wire.commands import pack_commands
    from channels_classic.layers.redis.wire.pipe import CommandPipe

    pipe = CommandPipe(decode_hosts([redis_url])[0])
    replies: list[object] = []
    commands = [("ECHO", "commands"), ("PING",)]
    packed = pack_commands([("ECHO", "packed"), ("PING",)])

    def record(_: int, reply: object, error: BaseException | None) -> None:
        replies.append(error or reply)

    async def replies_after(count: int) -> list[object]:
        async with asyncio.timeout(5):
            while len(replies) < count:
                await asyncio.sleep(0.01)
        return replies[-2:]

    pipe.call_back(record, *commands, packed=packed)  # not connected yet
    assert await replies_after(2) == [b"commands", b"PONG"]
    pipe.call_back(record, *commands, packed=packed)  # connected and free
    assert await replies_after(4) == [b"packed", b"PONG"]
    in_flight = pipe.call("ECHO", "first")
    pipe.call_back(record, *commands, packed=packed)  # the ECHO is in flight
    assert await in_flight == b"first"
    assert await replies_after(6) == [b"commands", b"PONG"]
    await pipe.close()


async def test_closing_writes_what_was_queued_when_connecting_was_cancelled(redis_url, prefix):
    """asyncio.run() cancels the tasks left over before the loop closes (and the layer's
    connections with it), a first connection attempt among them: close() connects again and
    writes what was queued instead of dropping it or raising CancelledError."""
    import asyncio

    import redis

    from channels_classic.layers.redis.wire.pipe import CommandPipe

    pipe = CommandPipe(decode_hosts([redis_url])[0])
    pipe.call_and_forget("SET", f"{prefix}.queued", "written")
    await asyncio.sleep(0)  # the pipe starts connecting, in a task
    for task in asyncio.all_tasks() - {asyncio.current_task()}:
        task.cancel()
    await pipe.close()
    assert redis.Redis.from_url(redis_url).getdel(f"{prefix}.queued") == b"written"


def test_capacities_first_matching_pattern_wins_and_memory_is_bounded():
    """A channel's capacity is the first channel_capacity pattern it matches, else the
    default, the same on every ask; the names remembered stay bounded however many there
    are (each socket's reply channel is a new one)."""
    from channels_classic.layers.redis.settings import KNOWN_CAPACITIES

    layer = RedisChannelLayer(
        hosts=["redis://127.0.0.1:1/0"],
        capacity=7,
        channel_capacity={"websocket.receive": 5, "websocket.*": 1000, "http.request": 9},
    )
    capacities = layer.settings.capacities
    for _ in range(2):
        assert [capacities.of(name) for name in ("websocket.receive", "websocket.connect")] == [
            5,
            1000,
        ]
        assert (capacities.of("http.request"), capacities.of("daphne.response.x!y")) == (9, 7)
    names = [f"daphne.response.{n}!reply" for n in range(KNOWN_CAPACITIES + 10)]
    assert {capacities.of(name) for name in names} == {7}
    assert len(capacities._known) <= KNOWN_CAPACITIES
    assert layer.get_capacity("websocket.disconnect") == 1000

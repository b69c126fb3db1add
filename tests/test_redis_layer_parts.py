"""The Redis layer's parts that need no server: hosts, shard hashing, message encoding."""

from __future__ import annotations

import msgpack
import pytest
from channels_redis.serializers import registry
from channels_redis.utils import _consistent_hash

from channels_classic.layers.redis.codec import MessageCodec, UndecodableMessage
from channels_classic.layers.redis.hosts import consistent_hash, decode_hosts
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
    """Garbage and non-dict payloads raise UndecodableMessage, never something else."""
    codec = MessageCodec(expiry=60, symmetric_encryption_keys=None)
    with pytest.raises(UndecodableMessage):
        codec.decode(b"x" * 12 + b"\xc1")
    with pytest.raises(UndecodableMessage, match="expected a dict, got list"):
        codec.decode(b"x" * 12 + msgpack.packb([1]))


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

    from channels_classic.layers.redis.connection import pack_commands

    commands = [("EVALSHA", "abc", 1, b"key", "1.5", b"\x00\xff", 100, 2.25), ("PING",)]
    assert pack_commands(commands) == b"".join(Connection().pack_commands(commands))

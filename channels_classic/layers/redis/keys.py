"""Where the layer keeps things in Redis: every key's name, and which shard holds it.

Names and placement are channels_redis 4's, byte for byte, so that the two layers can share
a Redis (``docs/redis-layer.md`` has the layout): a channel's messages are the sorted set
``<prefix><name>``, where every process channel of one process (``name!...``) shares the key
of its name cut after the '!'; a group is ``<prefix>:group:<name>``; names are hashed onto
shards with channels_redis's CRC32 ring. Every key the layer uses is made here and nowhere
else, so a layout that needs them otherwise (a hash tag per shard, on a Redis Cluster)
changes this module alone.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

from ...names import non_local_name


@dataclass(frozen=True, slots=True)
class KeyLayout:
    """The key names under one prefix, over ``ring_size`` shards."""

    prefix: str
    ring_size: int

    def key_of(self, channel: str) -> bytes:
        """The key holding ``channel``'s messages (shared by a process's channels)."""
        return (self.prefix + non_local_name(channel)).encode()

    def channel_of_key(self, key: bytes) -> str:
        """The channel name a message key stands for (cut after the '!' for a process's)."""
        return key.decode()[len(self.prefix) :]

    @staticmethod
    def is_process_key(key: bytes) -> bool:
        """True for the key of a process's channels (only that process receives on it)."""
        return key.endswith(b"!")

    def group_key(self, group: str) -> bytes:
        return f"{self.prefix}:group:{group}".encode()

    def marker_key(self, name: str) -> bytes:
        """The key of a marker the interface writes to tell a Redis that lost its data."""
        return f"{self.prefix}:marker:{name}".encode()

    def sent_key(self, lane: str) -> bytes:
        """The mark of one sending lane (``once``): the token of its last send added on a
        shard, kept on every shard it sends to. No channel name holds a ':'."""
        return f"{self.prefix}:sent:{lane}".encode()

    def listener_key(self, client_prefix: str, role: str) -> bytes:
        """A key of one layer object's listeners (a wake-up key, say): under its process
        channels' name, so that no channel's key can be the same."""
        return f"{self.prefix}{client_prefix}.{role}!!".encode()

    def home_shard(self, channel: str) -> int:
        """The shard a send puts a process channel's message on (a normal channel's name
        is its own non-local part: group sends use this for them too)."""
        return consistent_hash(non_local_name(channel), self.ring_size)

    def group_shard(self, group: str) -> int:
        """The shard that holds ``group``'s members."""
        return consistent_hash(group, self.ring_size)


def consistent_hash(name: str, ring_size: int) -> int:
    """Maps a name onto one of ``ring_size`` shards the way channels_redis does (CRC32)."""
    if ring_size == 1:
        return 0
    bucket = binascii.crc32(name.encode("utf8")) & 0xFFF
    return int(bucket / (4096 / float(ring_size)))

"""Where the layer keeps things in Redis: every key's name, and which shard holds it.

Names and placement are channels_redis 4's, byte for byte, so that the two layers can share
a Redis (``docs/redis-layer.md`` has the layout): a channel's messages are the sorted set
``<prefix><name>``, where every process channel of one process (``name!...``) shares the key
of its name cut after the '!'; a group is ``<prefix>:group:<name>``; names are hashed onto
shards with channels_redis's CRC32 ring.

On a Redis Cluster (``ClusterKeyLayout``) each shard is one hash slot: every key of shard
*i* carries the shard's hash tag after the prefix (``<prefix>{<tag>}<name>``), so that what
one script touches shares a slot, and tag *i*'s slot lies in the *i*-th of as many equal
slot ranges as there are shards (a fresh cluster's masters own equal ranges: the shards are
spread over them). Every key the layer uses is made here and nowhere else.

A key's name without a shard (``key_of``) stands for the channel's key on every shard: the
receiver counts its demand by it; ``on_shard`` and ``key_on`` give the name on one shard.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field

from ...names import non_local_name
from .wire.slots import SLOT_COUNT, hash_slot


@dataclass(frozen=True, slots=True)
class KeyLayout:
    """The key names under one prefix, over ``ring_size`` shards (one or more hosts)."""

    prefix: str
    ring_size: int

    #: True when a key's name depends on its shard (``ClusterKeyLayout``).
    tagged = False

    def key_of(self, channel: str) -> bytes:
        """The key holding ``channel``'s messages (shared by a process's channels), as it is
        named on every shard: without a shard's tag."""
        return (self.prefix + non_local_name(channel)).encode()

    def key_on(self, channel: str, shard: int) -> bytes:
        """The key holding ``channel``'s messages on ``shard``."""
        return (self.prefix + non_local_name(channel)).encode()

    def on_shard(self, key: bytes, shard: int) -> bytes:
        """The name on ``shard`` of a key named by ``key_of`` (or ``listener_key``)."""
        return key

    def all_on(self, keys: list[bytes], shard: int) -> list[bytes]:
        """``on_shard`` of each of ``keys`` (on one or more hosts: ``keys`` themselves)."""
        return keys

    def channel_of_key(self, key: bytes) -> str:
        """The channel name a message key stands for (cut after the '!' for a process's)."""
        return key.decode()[len(self.prefix) :]

    @staticmethod
    def is_process_key(key: bytes) -> bool:
        """True for the key of a process's channels (only that process receives on it)."""
        return key.endswith(b"!")

    def group_key(self, group: str) -> bytes:
        """The key of ``group``'s members, on its shard (``group_shard``)."""
        return f"{self.prefix}:group:{group}".encode()

    def marker_key(self, name: str, shard: int) -> bytes:
        """The key of a marker the interface writes to tell a Redis that lost its data."""
        return f"{self.prefix}:marker:{name}".encode()

    def sent_key(self, lane: str) -> bytes:
        """The mark of one sending lane (``once``): the token of its last send added on a
        shard, kept on every shard it sends to. No channel name holds a ':'."""
        return f"{self.prefix}:sent:{lane}".encode()

    def listener_key(self, client_prefix: str, role: str) -> bytes:
        """A key of one layer object's listeners (a wake-up key, say): under its process
        channels' name, so that no channel's key can be the same (``on_shard`` names it on
        a shard)."""
        return f"{self.prefix}{client_prefix}.{role}!!".encode()

    def scan_pattern(self, shard: int) -> bytes:
        """A SCAN pattern matching every key this layout puts on ``shard``."""
        return _glob_escape(self.prefix).encode() + b"*"

    def home_shard(self, channel: str) -> int:
        """The shard a send puts a process channel's message on (a normal channel's name
        is its own non-local part: group sends use this for them too)."""
        return consistent_hash(non_local_name(channel), self.ring_size)

    def group_shard(self, group: str) -> int:
        """The shard that holds ``group``'s members."""
        return consistent_hash(group, self.ring_size)


@dataclass(frozen=True, slots=True)
class ClusterKeyLayout(KeyLayout):
    """The key names on a Redis Cluster: those of ``KeyLayout``, with shard ``i``'s hash tag
    ``tags[i]`` after the prefix (see the module)."""

    tags: tuple[str, ...] = ()
    _marks: tuple[bytes, ...] = field(init=False, repr=False, compare=False)

    tagged = True

    def __post_init__(self) -> None:
        if "{" in self.prefix or "}" in self.prefix:
            raise ValueError(
                f"prefix {self.prefix!r} has a brace: on a Redis Cluster the layer puts each "
                "shard's hash tag in braces after the prefix, and a brace in the prefix "
                "would change the keys' slots; choose a prefix without '{' and '}'"
            )
        if len(self.tags) != self.ring_size:
            raise ValueError(f"{self.ring_size} shards need as many tags, got {self.tags!r}")
        object.__setattr__(self, "_marks", tuple(f"{{{tag}}}".encode() for tag in self.tags))

    @property
    def slots(self) -> tuple[int, ...]:
        """The hash slot of each shard."""
        return tuple(hash_slot(mark) for mark in self._marks)

    def key_on(self, channel: str, shard: int) -> bytes:
        return self._marks[shard].join((self.prefix.encode(), non_local_name(channel).encode()))

    def on_shard(self, key: bytes, shard: int) -> bytes:
        cut = len(self.prefix.encode())
        return key[:cut] + self._marks[shard] + key[cut:]

    def all_on(self, keys: list[bytes], shard: int) -> list[bytes]:
        return [self.on_shard(key, shard) for key in keys]

    def channel_of_key(self, key: bytes) -> str:
        rest = key.decode()[len(self.prefix) :]
        # Channel names have no braces: a leading one opens the shard's tag.
        return rest[rest.index("}") + 1 :] if rest.startswith("{") else rest

    def group_key(self, group: str) -> bytes:
        return self.on_shard(KeyLayout.group_key(self, group), self.group_shard(group))

    def marker_key(self, name: str, shard: int) -> bytes:
        return self.on_shard(KeyLayout.marker_key(self, name, shard), shard)

    def scan_pattern(self, shard: int) -> bytes:
        return _glob_escape(self.prefix).encode() + self._marks[shard] + b"*"


def cluster_tags(count: int) -> tuple[str, ...]:
    """The hash tag of each of ``count`` shards: for shard ``i``, the first of "0", "1",
    "2"... whose slot lies in the ``i``-th of ``count`` equal slot ranges. Every process
    finds the same tags, whatever the cluster's shape."""
    tags: list[str | None] = [None] * count
    missing = count
    candidate = 0
    while missing:
        tag = str(candidate)
        # The shard whose slot_range() holds the tag's slot.
        shard = ((hash_slot(tag.encode()) + 1) * count - 1) // SLOT_COUNT
        if tags[shard] is None:
            tags[shard] = tag
            missing -= 1
        candidate += 1
    return tuple(tag for tag in tags if tag is not None)


def slot_range(shard: int, count: int) -> range:
    """The slots of the ``shard``-th of ``count`` equal slot ranges."""
    return range(shard * SLOT_COUNT // count, (shard + 1) * SLOT_COUNT // count)


def consistent_hash(name: str, ring_size: int) -> int:
    """Maps a name onto one of ``ring_size`` shards the way channels_redis does (CRC32)."""
    if ring_size == 1:
        return 0
    bucket = binascii.crc32(name.encode("utf8")) & 0xFFF
    return int(bucket / (4096 / float(ring_size)))


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)

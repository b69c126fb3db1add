"""The ``hosts`` setting: which Redis servers the layer shards over, and how to reach them.

Accepts what channels_redis 4 accepts (URLs, ``(host, port)`` pairs, dicts of redis-py
connection arguments, Sentinel dicts) and hashes names onto shards exactly as it does, so both
layers agree on where a process channel or a group lives.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

DEFAULT_HOST = "redis://localhost:6379"


@dataclass(frozen=True)
class Shard:
    """One Redis server of the ring: makes fresh connections to it."""

    index: int
    label: str
    pool: ConnectionPool

    def connect(self, *, socket_timeout: float | None = None) -> AbstractConnection:
        """Returns a new, not yet connected, connection that belongs to no pool.

        ``socket_timeout`` overrides the configured read timeout (blocking commands need a
        longer one than redis-py's 5 s default).
        """
        connection = self.pool.make_connection()
        if socket_timeout is not None:
            connection.socket_timeout = socket_timeout
        return connection


def _label(entry: dict[str, Any]) -> str:
    if "address" in entry:
        parts = urlsplit(str(entry["address"]))
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    if "master_name" in entry:
        return f"sentinel master {entry['master_name']!r}"
    return f"redis://{entry.get('host', 'localhost')}:{entry.get('port', 6379)}"


def _pool(entry: dict[str, Any]) -> ConnectionPool:
    entry = dict(entry)
    if "address" in entry:
        return ConnectionPool.from_url(entry.pop("address"), **entry)
    if "master_name" in entry:
        master_name = entry.pop("master_name")
        sentinel = Sentinel(
            entry.pop("sentinels"), sentinel_kwargs=entry.pop("sentinel_kwargs", None)
        )
        return SentinelConnectionPool(master_name, sentinel, **entry)
    return ConnectionPool(**entry)


def decode_hosts(hosts: Sequence[Any] | None) -> list[Shard]:
    """Turns the ``hosts`` setting into shards; raises ValueError naming a bad entry."""
    if not hosts:
        hosts = [DEFAULT_HOST]
    if isinstance(hosts, (str, bytes)):
        raise ValueError(
            f"hosts must be a list of Redis hosts, got the single string {hosts!r}: "
            f"write hosts=[{hosts!r}]"
        )
    shards = []
    for index, entry in enumerate(hosts):
        if isinstance(entry, dict):
            config = dict(entry)
        elif isinstance(entry, (tuple, list)) and len(entry) == 2:
            config = {"host": entry[0], "port": entry[1]}
        elif isinstance(entry, str):
            config = {"address": entry}
        else:
            raise ValueError(
                f"hosts[{index}] is {entry!r}: each host must be a Redis URL "
                "('redis://host:6379/0'), a (host, port) pair, or a dict of redis-py "
                "connection arguments"
            )
        shards.append(Shard(index, _label(config), _pool(config)))
    return shards


def consistent_hash(name: str, ring_size: int) -> int:
    """Maps a name onto one of ``ring_size`` shards the way channels_redis does (CRC32)."""
    if ring_size == 1:
        return 0
    bucket = binascii.crc32(name.encode("utf8")) & 0xFFF
    return int(bucket / (4096 / float(ring_size)))

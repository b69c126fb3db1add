"""The ``hosts`` setting: which Redis servers the layer shards over, and how to reach them.

Accepts what channels_redis 4 accepts (URLs, ``(host, port)`` pairs, dicts of redis-py
connection arguments, Sentinel dicts) and hashes names onto shards exactly as it does, so both
layers agree on where a process channel or a group lives.
"""

from __future__ import annotations

import asyncio
import binascii
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

P = TypeVar("P", bound=asyncio.Protocol)

DEFAULT_HOST = "redis://localhost:6379"


@dataclass(frozen=True)
class Shard:
    """One Redis server of the ring, and how to open connections to it.

    The connection settings are redis-py's own (``pool.make_connection()`` is a description of
    a connection, never connected here), so every URL and option redis-py accepts works.
    """

    index: int
    label: str
    pool: ConnectionPool

    @cached_property
    def settings(self) -> AbstractConnection:
        return self.pool.make_connection()

    @property
    def socket_timeout(self) -> float | None:
        return self.settings.socket_timeout

    def address(self) -> tuple[str, int]:
        """Host and port to connect to (from blocking code: Sentinel asked synchronously)."""
        if isinstance(self.pool, SentinelConnectionPool):
            from redis.sentinel import Sentinel as BlockingSentinel

            manager = self.pool.sentinel_manager
            sentinels = [
                (
                    client.connection_pool.connection_kwargs["host"],
                    client.connection_pool.connection_kwargs["port"],
                )
                for client in manager.sentinels
            ]
            master: tuple[str, int] = BlockingSentinel(sentinels).discover_master(
                self.pool.service_name
            )
            return master
        settings: Any = self.settings
        return settings.host, settings.port

    async def open(self, protocol_factory: Callable[[], P]) -> P:
        """Connects a new ``protocol_factory()`` protocol to this server and returns it."""
        settings: Any = self.settings
        loop = asyncio.get_running_loop()
        path = getattr(settings, "path", None)
        if path:
            connecting = loop.create_unix_connection(protocol_factory, path)
        else:
            if isinstance(self.pool, SentinelConnectionPool):
                host, port = await self.pool.get_master_address()
            else:
                host, port = settings.host, settings.port
            ssl_context = settings.ssl_context.get() if hasattr(settings, "ssl_context") else None
            connecting = loop.create_connection(
                protocol_factory,
                host,
                port,
                ssl=ssl_context,
                server_hostname=host if ssl_context else None,
            )
        transport, protocol = await asyncio.wait_for(connecting, settings.socket_connect_timeout)
        sock = transport.get_extra_info("socket")
        if settings.socket_keepalive and sock is not None and sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for option, value in (settings.socket_keepalive_options or {}).items():
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
        return protocol

    def handshake(self) -> list[tuple[Any, ...]]:
        """The commands a new connection sends first: AUTH, SELECT, CLIENT SETNAME."""
        settings: Any = self.settings
        username, password = settings.username, settings.password
        if settings.credential_provider is not None:
            credentials = settings.credential_provider.get_credentials()
            username, password = (None, *credentials)[-2:]
        commands: list[tuple[Any, ...]] = []
        if password is not None:
            commands.append(("AUTH", username, password) if username else ("AUTH", password))
        if settings.db:
            commands.append(("SELECT", settings.db))
        if settings.client_name:
            commands.append(("CLIENT", "SETNAME", settings.client_name))
        return commands


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

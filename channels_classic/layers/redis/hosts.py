"""The ``hosts`` setting: which Redis servers the layer shards over, and how to reach them.

Accepts what channels_redis 4 accepts (URLs, ``(host, port)`` pairs, dicts of redis-py
connection arguments, Sentinel dicts) and hashes names onto shards with its CRC32 ring, so both
layers agree on where a group lives and where a process channel's receiver reads.
"""

from __future__ import annotations

import asyncio
import binascii
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection, Connection, SSLConnection
from redis.sentinel import Sentinel

P = TypeVar("P", bound=asyncio.Protocol)

DEFAULT_HOST = "redis://localhost:6379"


class SentinelMaster:
    """The master of one Sentinel service, looked up again before every new connection (so
    a failover is followed). The lookup uses blocking sockets: it is made from threads."""

    def __init__(self, sentinel: Sentinel, service_name: str) -> None:
        self.sentinel = sentinel
        self.service_name = service_name
        # redis-py reorders its list of sentinels while it asks them.
        self._lock = threading.Lock()

    def address(self) -> tuple[str, int]:
        """(host, port) of the master; redis.sentinel.MasterNotFoundError if none is known."""
        with self._lock:
            address: tuple[str, int] = self.sentinel.discover_master(self.service_name)
        return address


@dataclass(frozen=True)
class Shard:
    """One Redis server of the ring, and how to open connections to it.

    The connection settings are redis-py's own (``pool.make_connection()`` is a description of
    a connection, never connected here), so every URL and option redis-py accepts works.
    Connections are opened here, for the event loop and for blocking code alike, so both get
    the same address, TLS and socket options.
    """

    index: int
    label: str
    pool: ConnectionPool
    master: SentinelMaster | None = None

    @cached_property
    def settings(self) -> AbstractConnection:
        return self.pool.make_connection()

    @property
    def socket_timeout(self) -> float | None:
        return self.settings.socket_timeout

    @property
    def _unix_path(self) -> str | None:
        return getattr(self.settings, "path", None) or None

    def _address(self) -> tuple[str, int]:
        if self.master is not None:
            return self.master.address()
        settings: Any = self.settings
        return settings.host, settings.port

    def _tls(self) -> ssl.SSLContext | None:
        settings: Any = self.settings
        return settings.ssl_context.get() if isinstance(settings, SSLConnection) else None

    def _tune(self, sock: socket.socket) -> None:
        """Applies the TCP options: no Nagle delay (commands are batched already), and the
        keepalive settings redis-py was given."""
        if sock.family == socket.AF_UNIX:
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        settings: Any = self.settings
        if settings.socket_keepalive:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for option, value in (settings.socket_keepalive_options or {}).items():
                sock.setsockopt(socket.IPPROTO_TCP, option, value)

    async def open(self, protocol_factory: Callable[[], P]) -> P:
        """Connects a new ``protocol_factory()`` protocol to this server and returns it."""
        settings: Any = self.settings
        loop = asyncio.get_running_loop()
        path = self._unix_path
        if path:
            connecting = loop.create_unix_connection(protocol_factory, path)
        else:
            if self.master is not None:
                host, port = await asyncio.to_thread(self.master.address)
            else:
                host, port = self._address()
            tls = self._tls()
            connecting = loop.create_connection(
                protocol_factory, host, port, ssl=tls, server_hostname=host if tls else None
            )
        transport, protocol = await asyncio.wait_for(connecting, settings.socket_connect_timeout)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self._tune(sock)
        return protocol

    def open_blocking(self) -> socket.socket:
        """A connected blocking socket to this server, with the configured read timeout."""
        settings: Any = self.settings
        timeout = settings.socket_connect_timeout
        path = self._unix_path
        sock: socket.socket
        if path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(path)
        else:
            host, port = self._address()
            sock = socket.create_connection((host, port), timeout=timeout)
            self._tune(sock)
            tls = self._tls()
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=host)
        sock.settimeout(settings.socket_timeout)
        return sock

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


def _connection_settings(entry: dict[str, Any]) -> tuple[ConnectionPool, SentinelMaster | None]:
    entry = dict(entry)
    if "address" in entry:
        return ConnectionPool.from_url(entry.pop("address"), **entry), None
    if "master_name" in entry:
        service_name = entry.pop("master_name")
        sentinels = entry.pop("sentinels")
        sentinel_kwargs = entry.pop("sentinel_kwargs", None)
        # As in redis-py, the sentinels get the socket_* options when sentinel_kwargs are unset.
        sentinel = Sentinel(sentinels, sentinel_kwargs=sentinel_kwargs, **entry)
        connection_class = SSLConnection if entry.pop("ssl", False) else Connection
        pool = ConnectionPool(connection_class=connection_class, **entry)
        return pool, SentinelMaster(sentinel, service_name)
    return ConnectionPool(**entry), None


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
        shards.append(Shard(index, _label(config), *_connection_settings(config)))
    return shards


def consistent_hash(name: str, ring_size: int) -> int:
    """Maps a name onto one of ``ring_size`` shards the way channels_redis does (CRC32)."""
    if ring_size == 1:
        return 0
    bucket = binascii.crc32(name.encode("utf8")) & 0xFFF
    return int(bucket / (4096 / float(ring_size)))

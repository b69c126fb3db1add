"""How to reach one Redis server, as plain values: what every connection to it needs.

The adapter (``redis_py``) reads the ``hosts`` setting into these; the connections (``pipe``,
``blocking``, ``sockets``) read nothing else. So the wire code does not depend on how redis-py
describes a connection, and where a server is can be decided outside it (``locate``).
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: redis-py's asyncio client waits this long for a connection and for a reply by default;
#: the layer does the same.
DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """One Redis server, how to connect to it, and what to tell it first.

    ``locate``, when set, is asked before every new connection where the server is now
    (it blocks: async code runs it in a thread); a Sentinel's current master is found that
    way, so a failover is followed, and so is the node serving a cluster shard's slot.
    ``moved_to``, set for a cluster shard only, is told where Redis said (MOVED) that slot
    went; the connections follow redirects only when it is set. ``credentials``, when set,
    is asked for (username, password) before every new connection (rotating passwords,
    cloud IAM tokens).
    """

    label: str
    host: str = "localhost"
    port: int = 6379
    unix_path: str | None = None
    tls: ssl.SSLContext | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    credentials: Callable[[], tuple[str | None, str | None]] | None = None
    client_name: str | None = None
    socket_timeout: float | None = DEFAULT_TIMEOUT
    connect_timeout: float | None = DEFAULT_TIMEOUT
    #: TCP keepalive options as (option, value) pairs; None: keepalive off.
    keepalive: tuple[tuple[int, int], ...] | None = ()
    locate: Callable[[], tuple[str, int]] | None = None
    moved_to: Callable[[tuple[str, int]], None] | None = None

    def at(self, address: tuple[str, int]) -> ConnectionSettings:
        """The same settings for the server at ``address`` itself (a cluster node)."""
        host, port = address
        return dataclasses.replace(
            self,
            label=f"{self.label} ({host}:{port})",
            host=host,
            port=port,
            locate=None,
            moved_to=None,
        )

    def address(self) -> tuple[str, int]:
        """(host, port) to connect to now; blocks while ``locate`` asks (see the class)."""
        if self.locate is not None:
            return self.locate()
        return self.host, self.port

    def handshake(self) -> list[tuple[Any, ...]]:
        """The commands a new connection sends first: AUTH, SELECT, CLIENT SETNAME."""
        username, password = self.username, self.password
        if self.credentials is not None:
            username, password = self.credentials()
        commands: list[tuple[Any, ...]] = []
        if password is not None:
            commands.append(("AUTH", username, password) if username else ("AUTH", password))
        if self.db:
            commands.append(("SELECT", self.db))
        if self.client_name:
            commands.append(("CLIENT", "SETNAME", self.client_name))
        return commands


@dataclass(frozen=True, slots=True)
class ClusterHosts:
    """A Redis Cluster, as a ``hosts`` entry names it: the nodes to discover it from, the
    settings of a connection to any node (``node``: its host is the first seed), and how
    many shards the layer cuts it into."""

    label: str
    seeds: tuple[tuple[str, int], ...]
    node: ConnectionSettings
    shard_count: int

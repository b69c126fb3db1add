"""The one module of the layer that uses redis-py (and hiredis, its protocol parser).

redis-py defines what users write in ``hosts``: its URLs and connection options, its
credential providers, its Sentinel client, and the exception classes they catch. This module
turns a ``hosts`` entry into a plain ``ConnectionSettings`` (building the TLS context and
reading credentials itself, from redis-py's documented options), finds a Sentinel's master
with redis-py's Sentinel client, makes the reply parser, and names redis-py's exceptions.
The connections themselves are the layer's own (``pipe``, ``blocking``): see
``docs/redis-layer.md`` for why, with the measurements.

Accepts what channels_redis 4 accepts: URLs, ``(host, port)`` pairs, dicts of redis-py
connection options (with ``address`` for a URL), and Sentinel dicts (``master_name``,
``sentinels``, ``sentinel_kwargs``); and a Redis Cluster, as the only entry: a
``redis+cluster://`` (or ``rediss+cluster://``) URL naming one or more nodes, or a dict with
the nodes under ``cluster`` (``cluster_of``).
"""

from __future__ import annotations

import inspect
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import hiredis
import redis
import redis.exceptions
from redis.asyncio.connection import parse_url
from redis.credentials import CredentialProvider
from redis.sentinel import Sentinel

from ....exceptions import ChannelLayerUnavailable
from .cluster_hosts import (
    DEFAULT_CLUSTER_SHARDS,
    check_cluster_options,
    cluster_label,
    names_cluster,
    node_list,
    shard_count_of,
    split_cluster_url,
)
from .connection_settings import DEFAULT_TIMEOUT, ClusterHosts, ConnectionSettings
from .tls import tls_context

DEFAULT_HOST = "redis://localhost:6379"

#: Every option redis-py's client takes; other names in a host entry are mistakes.
REDIS_PY_OPTIONS = frozenset(inspect.signature(redis.Redis.__init__).parameters) - {
    "self",
    "connection_pool",
}
#: redis-py options the layer's connections cannot honour, and what to do instead.
REFUSED_OPTIONS = {
    name: "the layer's TLS connections do not check OCSP; remove it"
    for name in ("ssl_validate_ocsp", "ssl_validate_ocsp_stapled", "ssl_ocsp_context")
}
#: TCP keepalive when ``socket_keepalive_options`` is not given: redis-py's documented
#: defaults (idle 30 s, then a probe every 5 s, 3 probes), where the platform has them.
DEFAULT_KEEPALIVE = tuple(
    (getattr(socket, name), value)
    for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3))
    if hasattr(socket, name)
)

#: What opening or using a connection raises when the server is unreachable or went away
#: (redis-py's own when its Sentinel client finds no master).
CONNECTION_ERRORS = (
    ChannelLayerUnavailable,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
    TimeoutError,
)
#: An error reply from the server, as redis-py users catch it.
ResponseError = redis.exceptions.ResponseError
#: The error reply to EVALSHA of a script the server does not hold (after SCRIPT FLUSH or a
#: restart).
NoScriptError = redis.exceptions.NoScriptError
#: What the parser raises on bytes that are not the Redis protocol.
ProtocolError = hiredis.ProtocolError
#: A cluster's redirects: the slot has moved (for good), is being moved (ask there, once),
#: a multi-key command must wait for its keys to be moved (try again), the cluster is down.
MovedError = redis.exceptions.MovedError
AskError = redis.exceptions.AskError
TryAgainError = redis.exceptions.TryAgainError
ClusterDownError = redis.exceptions.ClusterDownError


class Parser(Protocol):
    """Turns the bytes read from a connection into replies, in order."""

    def feed(self, data: bytes) -> None: ...

    def gets(self) -> Any:
        """The next complete reply (an error reply as a ResponseError), False if none yet."""


def new_parser() -> Parser:
    """A reply parser for one connection (hiredis, the C parser redis-py uses too)."""
    return hiredis.Reader(replyError=error_reply)


def error_reply(message: str) -> redis.exceptions.ResponseError:
    """The redis-py exception for an error reply (NoScriptError for NOSCRIPT, and the
    cluster's redirects as redis-py's cluster client names them)."""
    if message.startswith("NOSCRIPT"):
        return NoScriptError(message)
    if message.startswith("MOVED "):
        return MovedError(message[len("MOVED ") :])
    if message.startswith("ASK "):
        return AskError(message[len("ASK ") :])
    if message.startswith("TRYAGAIN"):
        return TryAgainError(message)
    if message.startswith("CLUSTERDOWN"):
        return ClusterDownError(message)
    return ResponseError(message)


#: What to do about a server that refused the layer's credentials, by what it answered.
CREDENTIALS_ADVICE = {
    "NOAUTH": "It asks for a password: give it in the host's URL "
    "(redis://:PASSWORD@host:port, redis+cluster://:PASSWORD@host:port) or as the host's "
    '"password" option.',
    "WRONGPASS": "It refused the password (or username) given: check the host's URL or its "
    '"password" and "username" options.',
}


def unavailable(label: str, error: BaseException) -> ChannelLayerUnavailable:
    """The exception a layer user sees when the server ``label`` cannot be used."""
    if isinstance(error, ChannelLayerUnavailable):
        return error
    text = str(error)
    advice = next(
        (advice for answer, advice in CREDENTIALS_ADVICE.items() if answer in text),
        "Check that it is running and reachable; the layer reconnects on its next call.",
    )
    return ChannelLayerUnavailable(
        f"Redis at {label} is unavailable ({text or type(error).__name__}). {advice}"
    )


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


def decode_hosts(hosts: Sequence[Any] | None) -> list[ConnectionSettings]:
    """Turns the ``hosts`` setting into one ConnectionSettings per host; raises ValueError
    naming a bad entry and what is wrong with it."""
    if not hosts:
        hosts = [DEFAULT_HOST]
    _check_list(hosts)
    for index, entry in enumerate(hosts):
        if names_cluster(entry):
            raise ValueError(
                f"hosts[{index}] names a Redis Cluster, which must be the only entry of hosts "
                "(the cluster spreads the layer's keys over its masters itself): remove the "
                "other entries, or name more nodes of the cluster in that one"
            )
    return [_decode_host(index, entry) for index, entry in enumerate(hosts)]


def _check_list(hosts: object) -> None:
    if isinstance(hosts, (str, bytes)):
        raise ValueError(
            f"hosts must be a list of Redis hosts, got the single string {hosts!r}: "
            f"write hosts=[{hosts!r}]"
        )


def cluster_of(hosts: Sequence[Any] | None) -> ClusterHosts | None:
    """The cluster that ``hosts`` names (its only entry), or None if it names none; raises
    ValueError saying what is wrong with a cluster entry."""
    if not hosts:
        return None
    _check_list(hosts)
    if len(hosts) != 1 or not names_cluster(hosts[0]):
        return None
    entry = hosts[0]
    options = dict(entry) if isinstance(entry, dict) else {"address": entry}
    label = cluster_label(options)
    try:
        if "address" in options:
            url = split_cluster_url(str(options.pop("address")))
            parsed: dict[str, Any] = dict(parse_url(url.node_url))
            parsed.pop("connection_class", None)
            options = options | parsed | ({"ssl": True} if url.tls else {})
            seeds = url.seeds
        else:
            seeds = node_list(options.pop("cluster"))
        shard_count = shard_count_of(options.pop("shards", DEFAULT_CLUSTER_SHARDS))
        check_cluster_options(options)
        options["host"], options["port"] = seeds[0]
        node = _settings(label, options)
    except (ValueError, TypeError, OSError, ssl.SSLError) as error:
        raise ValueError(f"hosts[0] ({label}): {error}") from error
    return ClusterHosts(label=label, seeds=seeds, node=node, shard_count=shard_count)


def _decode_host(index: int, entry: Any) -> ConnectionSettings:
    if isinstance(entry, dict):
        options = dict(entry)
    elif isinstance(entry, (tuple, list)) and len(entry) == 2:
        options = {"host": entry[0], "port": entry[1]}
    elif isinstance(entry, str):
        options = {"address": entry}
    else:
        raise ValueError(
            f"hosts[{index}] is {entry!r}: each host must be a Redis URL "
            "('redis://host:6379/0'), a (host, port) pair, or a dict of redis-py "
            "connection options"
        )
    label = _label(options)
    try:
        if "master_name" in options:
            return _sentinel_master(label, options)
        if "address" in options:
            options = _url_options(options)
        return _settings(label, options)
    except (ValueError, TypeError, OSError, ssl.SSLError) as error:
        raise ValueError(f"hosts[{index}] ({label}): {error}") from error


def _label(options: dict[str, Any]) -> str:
    if "address" in options:
        parts = urlsplit(str(options["address"]))
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    if "master_name" in options:
        return f"sentinel master {options['master_name']!r}"
    return f"redis://{options.get('host', 'localhost')}:{options.get('port', 6379)}"


def _url_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options of a host given as a URL; what the URL says wins, as in redis-py."""
    url = options.pop("address")
    parsed: dict[str, Any] = dict(parse_url(url))
    parsed.pop("connection_class", None)
    scheme = urlsplit(url).scheme
    if scheme == "rediss":
        parsed["ssl"] = True
    elif scheme == "unix":
        parsed["unix_socket_path"] = parsed.pop("path")
    return options | parsed


def _sentinel_master(label: str, options: dict[str, Any]) -> ConnectionSettings:
    service_name = options.pop("master_name")
    sentinels = options.pop("sentinels")
    sentinel_kwargs = options.pop("sentinel_kwargs", None)
    # As in redis-py, the sentinels get the socket_* options when sentinel_kwargs are unset.
    sentinel = Sentinel(sentinels, sentinel_kwargs=sentinel_kwargs, **options)
    return _settings(label, options, locate=SentinelMaster(sentinel, service_name).address)


def _settings(
    label: str, options: dict[str, Any], locate: Callable[[], tuple[str, int]] | None = None
) -> ConnectionSettings:
    unknown = sorted(set(options) - REDIS_PY_OPTIONS)
    if unknown:
        raise ValueError(
            f"{', '.join(map(repr, unknown))}: not a redis-py connection option; check the "
            "spelling against redis.Redis()'s arguments"
        )
    for name, why in REFUSED_OPTIONS.items():
        if options.get(name):
            raise ValueError(f"{name!r} is not supported: {why}")
    socket_timeout = _seconds(options, "socket_timeout", DEFAULT_TIMEOUT)
    # As in redis-py: without a connect timeout of its own, connecting waits as long as a
    # reply would.
    connect_timeout = _seconds(options, "socket_connect_timeout", DEFAULT_TIMEOUT)
    provider = options.get("credential_provider")
    return ConnectionSettings(
        label=label,
        host=str(options.get("host") or "localhost"),
        port=int(options.get("port") or 6379),
        unix_path=options.get("unix_socket_path"),
        tls=tls_context(options) if options.get("ssl") else None,
        db=int(options.get("db") or 0),
        username=options.get("username"),
        password=options.get("password"),
        credentials=None if provider is None else _credentials(provider),
        client_name=options.get("client_name"),
        socket_timeout=socket_timeout,
        connect_timeout=socket_timeout if connect_timeout is None else connect_timeout,
        keepalive=_keepalive(options),
        locate=locate,
    )


def _seconds(options: dict[str, Any], name: str, default: float) -> float | None:
    value = options.get(name, default)
    return None if value is None else float(value)


def _keepalive(options: dict[str, Any]) -> tuple[tuple[int, int], ...] | None:
    if not options.get("socket_keepalive", True):
        return None
    given = options.get("socket_keepalive_options", DEFAULT_KEEPALIVE)
    return tuple(dict(given or {}).items())


def _credentials(provider: CredentialProvider) -> Callable[[], tuple[str | None, str | None]]:
    """(username, password) from a redis-py credential provider, asked on every connection
    (it returns (password,) or (username, password))."""

    def read() -> tuple[str | None, str | None]:
        username, password = (None, *provider.get_credentials())[-2:]
        return username, password

    return read

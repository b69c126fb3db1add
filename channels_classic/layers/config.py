"""One ``CHANNEL_LAYERS`` entry → a backend object: which class, with which arguments.

The 1.x backend names keep working: ``asgi_redis`` layers map to the project's Redis layer
and ``asgiref.inmemory`` to its in-memory layer, their 1.x options translated; what has no
equivalent is refused with a message naming the option and what to do instead. Any other
``BACKEND`` is imported and used as a channels 4 layer (channels_redis, for one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.module_loading import import_string

from ..exceptions import InvalidChannelLayerError
from .capabilities import ChannelLayer, missing_api

REDIS_LAYER = "channels_classic.layers.redis.RedisChannelLayer"
IN_MEMORY_LAYER = "channels_classic.layers.inmemory.InMemoryChannelLayer"

_COMMON_KEYS = {"expiry", "group_expiry", "capacity", "channel_capacity"}
_REDIS_KEYS = _COMMON_KEYS | {"hosts", "prefix", "symmetric_encryption_keys"}

#: 1.x backends that cannot run on this stack, and what to use instead.
REFUSED_BACKENDS = {
    "asgi_redis.RedisLocalChannelLayer": (
        "it needs asgi_ipc, which cannot be installed beside Django 5; use "
        f"{REDIS_LAYER!r}, which has no 5 s shard switching to work around"
    ),
    "asgi_ipc.IPCChannelLayer": (
        "asgi_ipc cannot be installed beside Django 5; use "
        f"{REDIS_LAYER!r} (with the embedded Redis of bin/run for development)"
    ),
    "asgi_rabbitmq.RabbitmqChannelLayer": (
        f"asgi_rabbitmq is unmaintained and needs asgiref 1.x; use {REDIS_LAYER!r}"
    ),
}

#: Settings of asgi_redis 1.x that no longer mean anything, and why.
REFUSED_KEYS = {
    "stats_prefix": "the statistics extension is gone; remove the key",
    "sentinel_refresh_interval": (
        "redis-py asks the sentinels on every new connection; remove the key"
    ),
}


def _error(alias: str, text: str) -> InvalidChannelLayerError:
    return InvalidChannelLayerError(f"CHANNEL_LAYERS[{alias!r}]: {text}")


def _check_keys(alias: str, config: Mapping[str, Any], allowed: set[str], backend: str) -> None:
    for key in config:
        if key in REFUSED_KEYS:
            raise _error(
                alias, f"CONFIG key {key!r} of {backend!r} is not supported: {REFUSED_KEYS[key]}"
            )
        if key not in allowed:
            raise _error(
                alias,
                f"CONFIG key {key!r} is not an option of {backend!r}; it "
                f"takes {', '.join(sorted(allowed))}",
            )


def _asgi_redis(alias: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """asgi_redis 1.x options → the Redis layer's (connection_kwargs go into each host)."""
    config = dict(config)
    connection_kwargs = config.pop("connection_kwargs", None) or {}
    _check_keys(alias, config, _REDIS_KEYS, "asgi_redis.RedisChannelLayer")
    if connection_kwargs:
        hosts = config.get("hosts") or [("localhost", 6379)]
        if isinstance(hosts, (str, bytes)):
            raise _error(alias, f"hosts must be a list of hosts, got the string {hosts!r}")
        config["hosts"] = [_host_dict(host) | connection_kwargs for host in hosts]
    return config


def _host_dict(host: Any) -> dict[str, Any]:
    if isinstance(host, str):
        return {"address": host}
    if isinstance(host, (tuple, list)):
        return {"host": host[0], "port": host[1]}
    return dict(host)


def _asgi_redis_sentinel(alias: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """asgi_redis 1.x Sentinel options → one Redis layer shard per sentinel service."""
    config = dict(config)
    services = config.pop("services", None)
    sentinels = config.pop("hosts", None) or [("localhost", 26379)]
    connection_kwargs = config.pop("connection_kwargs", None) or {}
    if not services:
        raise _error(
            alias,
            "asgi_redis.RedisSentinelChannelLayer needs 'services' (the sentinel service "
            "names to shard over): list them in CONFIG",
        )
    _check_keys(alias, config, _REDIS_KEYS - {"hosts"}, "asgi_redis.RedisSentinelChannelLayer")
    config["hosts"] = [
        {"master_name": service, "sentinels": [tuple(s) for s in sentinels], **connection_kwargs}
        for service in services
    ]
    return config


def _in_memory(alias: str, config: Mapping[str, Any]) -> dict[str, Any]:
    _check_keys(alias, config, _COMMON_KEYS, "asgiref.inmemory.ChannelLayer")
    return dict(config)


#: 1.x (and channels 4 in-memory) backend names → (our class, options translation).
LEGACY_BACKENDS: dict[str, tuple[str, Callable[[str, Mapping[str, Any]], dict[str, Any]]]] = {
    "asgi_redis.RedisChannelLayer": (REDIS_LAYER, _asgi_redis),
    "asgi_redis.core.RedisChannelLayer": (REDIS_LAYER, _asgi_redis),
    "asgi_redis.RedisSentinelChannelLayer": (REDIS_LAYER, _asgi_redis_sentinel),
    "asgiref.inmemory.ChannelLayer": (IN_MEMORY_LAYER, _in_memory),
    "channels.layers.InMemoryChannelLayer": (IN_MEMORY_LAYER, _in_memory),
}


def make_backend(alias: str, backend: Any, config: Any) -> ChannelLayer:
    """Builds the backend named by ``backend`` (a dotted path or a 1.x name) with ``config``."""
    if not isinstance(backend, str) or not backend:
        raise _error(alias, f"BACKEND must be a dotted path to a layer class, got {backend!r}")
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise _error(alias, f"CONFIG must be a dict of layer options, got {config!r}")
    if backend in REFUSED_BACKENDS:
        raise _error(alias, f"BACKEND {backend!r} is not supported: {REFUSED_BACKENDS[backend]}")
    if backend in LEGACY_BACKENDS:
        backend, translate = LEGACY_BACKENDS[backend]
        config = translate(alias, config)
    try:
        layer_class = import_string(backend)
    except ImportError as error:
        raise InvalidChannelLayerError(
            f"Cannot import BACKEND {backend!r} specified for {alias}: {error}; check "
            f"CHANNEL_LAYERS[{alias!r}]['BACKEND']"
        ) from error
    try:
        layer = layer_class(**config)
    except (TypeError, ValueError) as error:
        raise _error(alias, f"{backend} rejected CONFIG {dict(config)!r}: {error}") from error
    missing = missing_api(layer)
    if missing:
        raise _error(
            alias,
            f"BACKEND {backend!r} is not a channel layer: it has no {', '.join(missing)}; name "
            "a channels 4 layer class (e.g. 'channels_classic.layers.redis.RedisChannelLayer')",
        )
    return layer

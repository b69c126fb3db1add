"""A pytest plugin that runs channels_redis 4.3's own tests against this project's Redis layer
(``tests/e2e/layers/test_channels_redis_suite.py`` loads it into a pytest of their own).

Their tests make ``channels_redis.core.RedisChannelLayer`` objects; before they are imported,
that name is pointed at ``UpstreamLayer``: the project's layer, with the hosts they name
(Redis on localhost:6379, a Sentinel on localhost:26379) moved to the private servers of
UPSTREAM_REDIS_PORT and UPSTREAM_SENTINEL_PORT. The tests listed in NOT_APPLICABLE test
channels_redis's internals, or assert its log records where this layer deliberately differs;
they are skipped with the reason shown.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import channels_redis.core
import pytest

from channels_classic.layers.redis import RedisChannelLayer

#: Their default host, where a layer made without hosts connects.
DEFAULT_HOST = "redis://localhost:6379"
_GROUP_LOG = (
    "asserts that every log record is channels_redis's INFO line 'N of M channels over "
    "capacity in group G'; this layer logs the skipped members as a WARNING of its own (a "
    "dropped message is a warning here; the README lists the difference)"
)
_INTERNALS = {
    "test_default_group_key_format": (
        "reads the private _group_key(); the group key format itself is the same (tests/"
        "test_redis_layer_interop.py shares groups with channels_redis)"
    ),
    "test_custom_group_key_format": "reads the private _group_key(), as above",
    "test_receive_buffer_respects_capacity": (
        "fills channels_redis's receive_buffer, a structure this layer does not have (what "
        "it reads ahead waits in buffers of its own, layers/redis/buffers.py, which also "
        "drop the oldest message past a channel's capacity)"
    ),
}
#: "file::test" → why it does not apply to this layer.
NOT_APPLICABLE = {
    f"{module}::{name}": reason
    for module in ("test_core.py", "test_sentinel.py")
    for name, reason in {
        **_INTERNALS,
        "test_group_send_capacity": _GROUP_LOG,
        "test_group_send_capacity_multiple_channels": _GROUP_LOG,
    }.items()
}


def _redis_port() -> int:
    return int(os.environ["UPSTREAM_REDIS_PORT"])


def _private(host: Any) -> Any:
    """``host`` as their tests give it, pointed at the private servers."""
    if isinstance(host, str):
        database = urlsplit(host).path.strip("/") or "0"
        return f"redis://127.0.0.1:{_redis_port()}/{database}"
    if isinstance(host, dict) and "sentinels" in host:
        sentinel = ("127.0.0.1", int(os.environ["UPSTREAM_SENTINEL_PORT"]))
        return {**host, "sentinels": [sentinel for _ in host["sentinels"]]}
    raise ValueError(f"channels_redis's tests gave a host this plugin does not know: {host!r}")


class UpstreamLayer(RedisChannelLayer):
    """The project's layer, on the private servers."""

    def __init__(self, hosts: Any = None, **kwargs: Any) -> None:
        super().__init__(hosts=[_private(host) for host in hosts or [DEFAULT_HOST]], **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    channels_redis.core.RedisChannelLayer = UpstreamLayer  # type: ignore[misc]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = getattr(item, "originalname", item.name)
        reason = NOT_APPLICABLE.get(f"{item.path.name}::{name}")
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"not applicable: {reason}"))

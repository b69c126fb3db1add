"""What each backend can do, found once when it is wrapped (``layers.capabilities``), and the
check that a BACKEND is a channel layer at all."""

from __future__ import annotations

import channels.layers
import pytest
from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer

from channels_classic.exceptions import InvalidChannelLayerError
from channels_classic.layers.capabilities import Capabilities
from channels_classic.layers.config import make_backend
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.layers.redis import RedisChannelLayer

ABILITIES = ("batches", "ready", "delivery", "release", "blocking", "progress", "health", "waiting")


def abilities(capabilities: Capabilities) -> set[str]:
    """The names of the abilities ``capabilities`` found (each is the backend itself)."""
    found = {name for name in ABILITIES if getattr(capabilities, name) is not None}
    assert all(getattr(capabilities, name) is capabilities.layer for name in found)
    return found


@pytest.mark.parametrize(
    ("backend", "expected", "local_only"),
    [
        (RedisChannelLayer(hosts=["redis://127.0.0.1:1/0"]), set(ABILITIES), False),
        (
            InMemoryChannelLayer(),
            {"batches", "ready", "release", "blocking", "waiting"},
            True,
        ),
        (ChannelsRedisLayer(hosts=["redis://127.0.0.1:1/0"]), set(), False),
        (channels.layers.InMemoryChannelLayer(), set(), True),
    ],
    ids=["redis", "inmemory", "channels_redis", "channels4-inmemory"],
)
def test_each_backend_shows_what_it_can_do(backend, expected, local_only):
    """The project's Redis layer has every ability, its in-memory layer those a process can
    have, channels_redis and channels 4's in-memory layer none; the in-memory layers are
    process-local."""
    wrapped = ClassicLayer(backend, alias="test")
    assert abilities(wrapped.capabilities) == expected
    assert wrapped.capabilities.local_only is local_only
    assert wrapped.local_only() is local_only


class RenamedLocalLayer(InMemoryChannelLayer):
    """An in-memory layer whose names say nothing about it."""


RenamedLocalLayer.__module__ = "myproject.layers"


class InMemoryLookingRedisLayer(RedisChannelLayer):
    """A Redis layer whose name says "InMemory"."""


def test_process_local_is_said_by_the_layer_not_by_its_name():
    """A layer is process-local when it says so (``local_only``), whatever its class and
    module are called."""
    assert ClassicLayer(RenamedLocalLayer(), alias="test").local_only()
    remote = InMemoryLookingRedisLayer(hosts=["redis://127.0.0.1:1/0"])
    assert not ClassicLayer(remote, alias="test").local_only()


def test_a_backend_that_is_no_layer_is_refused():
    """A BACKEND class without the channels 4 layer API is refused when built, naming the
    methods it lacks."""
    with pytest.raises(
        InvalidChannelLayerError,
        match=r"BACKEND 'collections.OrderedDict' is not a channel layer: it has no send, "
        r"receive, new_channel, group_add, group_discard, group_send, flush; name a channels 4",
    ):
        make_backend("default", "collections.OrderedDict", {})

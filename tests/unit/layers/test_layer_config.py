"""CHANNEL_LAYERS → layers: backends, 1.x names and options, errors, and the registry."""

from __future__ import annotations

import pytest

from channels_classic import channel_layers, get_channel_layer
from channels_classic.exceptions import ChannelFull, InvalidChannelLayerError
from channels_classic.layers.config import make_backend
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.layers.redis import RedisChannelLayer

ROUTING = "routing.channel_routing"


def test_project_layers_by_their_own_names():
    """The project's layers are built from their dotted paths with their options."""
    redis_layer = make_backend(
        "default",
        "channels_classic.layers.redis.RedisChannelLayer",
        {"hosts": ["redis://127.0.0.1:1/0"], "capacity": 7, "prefix": "x"},
    )
    assert isinstance(redis_layer, RedisChannelLayer)
    assert (redis_layer.capacity, redis_layer.prefix) == (7, "x")


def test_asgi_redis_name_and_options_are_translated():
    """asgi_redis.RedisChannelLayer maps to the Redis layer; connection_kwargs go into each
    host, so options like socket timeouts keep applying."""
    layer = make_backend(
        "default",
        "asgi_redis.RedisChannelLayer",
        {
            "hosts": [("10.0.0.1", 6379), "redis://10.0.0.2:6380/1"],
            "expiry": 30,
            "group_expiry": 600,
            "connection_kwargs": {"socket_connect_timeout": 2},
        },
    )
    assert isinstance(layer, RedisChannelLayer)
    assert (layer.expiry, layer.group_expiry) == (30, 600)
    assert [shard.label for shard in layer.shards] == [
        "redis://10.0.0.1:6379",
        "redis://10.0.0.2:6380/1",
    ]
    assert all(shard.connect_timeout == 2 for shard in layer.shards)


def test_sentinel_layer_becomes_one_shard_per_service():
    """asgi_redis's Sentinel layer maps to sentinel-discovered shards, one per service."""
    layer = make_backend(
        "default",
        "asgi_redis.RedisSentinelChannelLayer",
        {"hosts": [("10.0.0.9", 26379)], "services": ["a", "b"]},
    )
    assert [shard.label for shard in layer.shards] == [
        "sentinel master 'a'",
        "sentinel master 'b'",
    ]
    with pytest.raises(InvalidChannelLayerError, match="needs 'services'"):
        make_backend("default", "asgi_redis.RedisSentinelChannelLayer", {})


@pytest.mark.parametrize(
    "name", ["asgiref.inmemory.ChannelLayer", "channels.layers.InMemoryChannelLayer"]
)
def test_in_memory_names(name):
    """Both in-memory names give the thread-safe in-memory layer, options kept."""
    layer = make_backend("default", name, {"capacity": 5})
    assert isinstance(layer, InMemoryChannelLayer)
    assert layer.capacity == 5


@pytest.mark.parametrize(
    ("backend", "config", "error"),
    [
        ("asgi_redis.RedisChannelLayer", {"stats_prefix": "s:"}, "'stats_prefix'.*statistics"),
        ("asgi_redis.RedisChannelLayer", {"hostz": []}, "'hostz' is not an option.*takes"),
        ("asgiref.inmemory.ChannelLayer", {"hosts": []}, "'hosts' is not an option"),
        ("asgi_redis.RedisLocalChannelLayer", {}, "needs asgi_ipc"),
        ("asgi_ipc.IPCChannelLayer", {}, "not supported"),
        ("no.such.Layer", {}, "^Cannot import BACKEND 'no.such.Layer' specified for"),
        ("channels_classic.layers.redis.RedisChannelLayer", {"capacity": -1}, "rejected CONFIG"),
        ("channels_classic.layers.redis.RedisChannelLayer", "x", "CONFIG must be a dict"),
    ],
)
def test_bad_configurations_name_the_alias_and_the_problem(backend, config, error):
    """Every refused configuration says which alias, which key, and what to do."""
    with pytest.raises(InvalidChannelLayerError, match=error) as raised:
        make_backend("chat", backend, config)
    assert "CHANNEL_LAYERS['chat']" in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_registry_reads_settings_lazily_and_resets_on_change(settings):
    """Layers are built on first use, cached by alias, rebuilt when the setting changes."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "asgiref.inmemory.ChannelLayer", "ROUTING": ROUTING},
        "other": {
            "BACKEND": "asgiref.inmemory.ChannelLayer",
            "ROUTING": ROUTING,
            "TEST_CONFIG": {"capacity": 3},
        },
    }
    first = get_channel_layer()
    assert isinstance(first, ClassicLayer)
    assert first is get_channel_layer("default")
    assert "other" in channel_layers and "missing" not in channel_layers
    assert channel_layers.make_test_backend("other").channel_layer.capacity == 3
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "asgiref.inmemory.ChannelLayer", "ROUTING": ROUTING}
    }
    assert get_channel_layer() is not first


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"ROUTING": ROUTING}, "^No BACKEND specified for default: .* name the layer class"),
        (
            {"BACKEND": "asgiref.inmemory.ChannelLayer"},
            "^No ROUTING specified for default: .* point it at",
        ),
        ({"BACKEND": "x", "ROUTING": ROUTING, "OPTIONS": {}}, "unknown keys \\['OPTIONS'\\]"),
    ],
)
def test_registry_errors(settings, config, error):
    """Missing and unknown keys of an entry are reported with the fix."""
    settings.CHANNEL_LAYERS = {"default": config}
    with pytest.raises(InvalidChannelLayerError, match=error):
        get_channel_layer()
    with pytest.raises(
        InvalidChannelLayerError, match="No channel layer 'nope'.*configured: 'default'"
    ):
        get_channel_layer("nope")


def test_the_facade_is_synchronous_and_forwards_attributes():
    """The 1.x wrapper sends and receives synchronously, exposes ChannelFull and forwards
    unknown attributes to the backend."""
    layer = ClassicLayer(InMemoryChannelLayer(capacity=1), alias="mem", routing=[])
    assert str(layer) == "mem (channels_classic.layers.inmemory.InMemoryChannelLayer)"
    assert layer.local_only()
    assert layer.capacity == 1 and layer.extensions == ["groups", "flush"]
    layer.send("test.sync", {"n": 1})
    with pytest.raises(layer.ChannelFull):
        layer.send("test.sync", {"n": 2})
    assert layer.receive(["test.other", "test.sync"], block=True) == ("test.sync", {"n": 1})
    assert layer.receive(["test.sync"]) == (None, None)
    assert issubclass(layer.ChannelFull, ChannelFull)
    reply = layer.new_channel("daphne.response?")
    assert reply.startswith("daphne.response.inmemory!")

"""ChannelLiveServerTestCase (channels_classic.test.liveserver) before it starts anything:
the settings it hands its processes, and the settings it refuses, each with the fix
(tests/e2e/testing/test_test_tools_liveserver.py runs its processes)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from channels_classic.exceptions import InvalidChannelLayerError
from channels_classic.test import ChannelLiveServerTestCase
from tests.support.tools import IN_MEMORY_LAYER, REDIS_LAYER

# ChannelLiveServerTestCase


def live_layers(redis_url: str, **config: Any) -> dict[str, Any]:
    """CHANNEL_LAYERS with the default layer on Redis, its TEST_CONFIG on ``redis_url``."""
    layer = {
        "BACKEND": REDIS_LAYER,
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # never used: the tests use TEST_CONFIG
        "TEST_CONFIG": {"hosts": [redis_url], "prefix": "live"},
        "ROUTING": "tests.support.project.routing.channel_routing",
    }
    return {"default": {**layer, **config}}


class _Probe(ChannelLiveServerTestCase):
    __test__ = False  # only its set-up is tried, by the tests below
    databases = set()

    def test_it(self):
        """Never run: the set-up is what these tests try."""


def test_live_server_processes_get_the_settings_the_test_sees(redis_url):
    """Every setting goes to the processes as the test sees it, overrides included, with the
    layers' TEST_CONFIG as their CONFIG, the live host allowed and the databases the test
    case does not use closed."""
    layers = live_layers(redis_url)
    with override_settings(CHANNEL_LAYERS=layers, TEST_MARKER=["seen"]):
        pickled = _Probe._settings_for_processes()
    values = {name: pickle.loads(data) for name, data in pickled.items()}
    assert values["TEST_MARKER"] == ["seen"]
    assert values["SECRET_KEY"] == settings.SECRET_KEY
    assert values["CHANNEL_LAYERS"] == {
        "default": {**layers["default"], "CONFIG": {"hosts": [redis_url], "prefix": "live"}}
    }
    assert values["ALLOWED_HOSTS"] == [*settings.ALLOWED_HOSTS, "localhost"]
    assert values["DATABASES"] == {"default": {"ENGINE": "django.db.backends.dummy"}}


def test_live_server_needs_a_test_config(redis_url):
    """Without TEST_CONFIG the error says what to add."""
    layers = live_layers(redis_url)
    del layers["default"]["TEST_CONFIG"]
    with override_settings(CHANNEL_LAYERS=layers):
        with pytest.raises(InvalidChannelLayerError, match=r"needs CHANNEL_LAYERS\['default'\] "):
            _Probe._pre_setup()


def test_live_server_refuses_an_in_memory_layer(redis_url):
    """An in-memory BACKEND cannot span processes: the error names the Redis layer."""
    layers = live_layers(redis_url, BACKEND=IN_MEMORY_LAYER, TEST_CONFIG={})
    with override_settings(CHANNEL_LAYERS=layers):
        with pytest.raises(InvalidChannelLayerError, match=f"BACKEND'\\] to '{REDIS_LAYER}'"):
            _Probe._pre_setup()


@pytest.mark.django_db
def test_live_server_refuses_an_in_memory_test_database(redis_url):
    """A test case that uses a database whose test database is SQLite in memory is told to
    give it a file (the processes could not open it)."""

    class UsesDatabase(_Probe):
        databases = {"default"}

    with override_settings(CHANNEL_LAYERS=live_layers(redis_url)):
        with pytest.raises(ImproperlyConfigured, match=r"SQLite in memory.*\['TEST'\]"):
            UsesDatabase._pre_setup()


def test_live_server_refuses_settings_that_do_not_pickle(redis_url):
    """Settings are handed to the processes pickled; one that cannot be is named."""
    with override_settings(CHANNEL_LAYERS=live_layers(redis_url), TEST_HOOK=lambda: None):
        with pytest.raises(ImproperlyConfigured, match=r"settings.TEST_HOOK = <function"):
            _Probe._pre_setup()

"""ChannelTestCase, TransactionChannelTestCase and apply_routes (channels_classic.test.base),
and the deprecated channels_classic.tests package."""

from __future__ import annotations

import importlib
import sys
import unittest
from typing import Any

import pytest

from channels_classic import Channel, route
from channels_classic import test as test_tools
from channels_classic.exceptions import InvalidChannelLayerError
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.layers.registry import channel_layers
from channels_classic.routing import Include
from channels_classic.test import (
    ChannelTestCase,
    Client,
    TransactionChannelTestCase,
    apply_routes,
)
from channels_classic.test.base import install_test_layers, restore_layers
from tests.support.project.bindings import NOTES_GROUP
from tests.support.project.models import Note
from tests.support.tools import (
    IN_MEMORY_LAYER,
    peek_while_running,
    problems,
    reply_kwargs,
    run_tests,
)

# ChannelTestCase and TransactionChannelTestCase


def test_channel_test_case_gives_each_test_a_fresh_layer_and_puts_the_old_one_back():
    """Each test gets a new in-memory layer routed like the configured one; a message left
    by one test is gone in the next; the configured layer is back afterwards."""
    configured = channel_layers["default"]
    seen: list[Any] = []

    class Probe(ChannelTestCase):
        databases = set()

        def test_one(self):
            seen.append(channel_layers["default"])
            Channel("test.left").send({"left": "behind"})

        def test_two(self):
            seen.append(channel_layers["default"])
            seen.append(self.get_next_message("test.left"))

    result = run_tests(Probe, "test_one", "test_two")
    assert result.wasSuccessful(), problems(result)
    first, second, leftover = seen
    assert first is not configured and second is not first
    assert isinstance(first.channel_layer, InMemoryChannelLayer)
    assert first.routing == configured.routing
    assert leftover is None
    assert channel_layers["default"] is configured


@pytest.mark.django_db
def test_channel_test_case_sets_its_class_up_on_layers_of_its_own():
    """setUpTestData runs on test layers of the class: the message a bound row's save sends
    (data binding) stays there instead of reaching the configured layer, which is back once
    the class is done."""
    configured = channel_layers["default"]
    listener = configured.new_channel("test.listener")
    configured.group_add(NOTES_GROUP, listener)
    seen: list[Any] = []

    class Probe(ChannelTestCase):
        @classmethod
        def setUpTestData(cls):
            seen.append(channel_layers["default"])
            Note.objects.create(text="Set up once")

        def test_it(self):
            seen.append(channel_layers["default"])
            assert Note.objects.get().text == "Set up once"

    try:
        result = run_tests(Probe, "test_it")
    finally:
        configured.group_discard(NOTES_GROUP, listener)
    assert result.wasSuccessful(), problems(result)
    class_layer, test_layer = seen
    assert class_layer is not configured and test_layer not in (configured, class_layer)
    assert isinstance(class_layer.channel_layer, InMemoryChannelLayer)
    assert configured.receive([listener]) == (None, None)
    assert channel_layers["default"] is configured


def test_transaction_channel_test_case_swaps_layers_for_its_first_test_too():
    """TransactionTestCase runs the first test's set-up in setUpClass; that test gets a test
    layer as well, and every layer is put back."""
    configured = channel_layers["default"]
    seen: list[Any] = []

    class Probe(TransactionChannelTestCase):
        databases = set()

        def test_one(self):
            seen.append(channel_layers["default"])

        def test_two(self):
            seen.append(channel_layers["default"])

    result = run_tests(Probe, "test_one", "test_two")
    assert result.wasSuccessful(), problems(result)
    assert configured not in seen and seen[0] is not seen[1]
    assert channel_layers["default"] is configured


def test_test_channel_aliases_swaps_every_alias_listed(settings):
    """test_channel_aliases names the layers swapped; the others stay as configured."""
    settings.CHANNEL_LAYERS = {
        **settings.CHANNEL_LAYERS,
        "other": {"BACKEND": IN_MEMORY_LAYER, "ROUTING": []},
        "third": {"BACKEND": IN_MEMORY_LAYER, "ROUTING": []},
    }
    configured = {alias: channel_layers[alias] for alias in ("default", "other", "third")}
    seen: dict[str, Any] = {}

    class Probe(ChannelTestCase):
        databases = set()
        test_channel_aliases = ["default", "other"]

        def test_it(self):
            seen.update({alias: channel_layers[alias] for alias in configured})

    result = run_tests(Probe, "test_it")
    assert result.wasSuccessful(), problems(result)
    assert seen["default"] is not configured["default"]
    assert seen["other"] is not configured["other"]
    assert seen["third"] is configured["third"]
    assert {alias: channel_layers[alias] for alias in configured} == configured


def test_test_channel_aliases_given_as_a_string_is_refused():
    """A single alias string (a common slip) is a TypeError naming it."""
    with pytest.raises(TypeError, match="list of layer aliases, got the string 'default'"):
        install_test_layers("default")


def test_an_unknown_alias_swaps_nothing():
    """An alias missing from CHANNEL_LAYERS is the registry's error, and the aliases before
    it are not left swapped."""
    configured = channel_layers["default"]
    with pytest.raises(InvalidChannelLayerError, match="No channel layer 'nowhere'"):
        install_test_layers(["default", "nowhere"])
    assert channel_layers["default"] is configured


def test_get_next_message_with_require_fails_the_test_when_empty():
    """require=True turns an empty channel into a test failure naming the channel."""

    class Probe(ChannelTestCase):
        databases = set()

        def test_it(self):
            self.get_next_message("test.empty", require=True)

    result = run_tests(Probe, "test_it")
    assert len(result.failures) == 1
    assert (
        "Expected a message on channel test.empty, got none (layer 'default')"
        in (result.failures[0][1])
    )


# apply_routes


@pytest.fixture
def layers(settings):
    """Test layers for "default" and "other", put back after the test."""
    settings.CHANNEL_LAYERS = {
        **settings.CHANNEL_LAYERS,
        "other": {"BACKEND": IN_MEMORY_LAYER, "ROUTING": []},
    }
    replaced = install_test_layers(["default", "other"])
    yield {alias: channel_layers[alias] for alias in replaced}
    restore_layers(replaced)


def test_apply_routes_replaces_the_routing_and_puts_the_router_back(layers):
    """Inside the block the layer routes only the given routes; afterwards its own router
    object (with routes added to it) is back."""
    layer = layers["default"]
    router = layer.router
    router.add_route(route("test.added", reply_kwargs))
    with apply_routes(route("test.peek", peek_while_running)):
        assert layer.router.channels == {"test.peek"}
        assert Client().get_consumer_by_channel("test.peek") is peek_while_running
    assert layer.router is router and "test.added" in layer.router.channels


def test_apply_routes_patches_the_aliases_given(layers):
    """aliases=["other"] routes the other layer and leaves the default one alone (1.x always
    patched the default layer)."""
    default_router = layers["default"].router
    with apply_routes([route("test.peek", peek_while_running)], aliases=["other"]):
        assert layers["other"].router.channels == {"test.peek"}
        assert layers["default"].router is default_router
    assert layers["other"].router.channels == frozenset()


def test_apply_routes_turns_lists_into_includes(layers):
    """A list of lists becomes a list of includes."""
    routes = [[route("test.a", reply_kwargs)], [route("test.b", peek_while_running)]]
    with apply_routes(routes):
        entries = layers["default"].router.root.routing
        assert [type(entry) for entry in entries] == [Include, Include]
        assert layers["default"].router.channels == {"test.a", "test.b"}


def test_apply_routes_decorates_functions_and_plain_classes(layers):
    """On a function the routes hold while it runs; on a class that is no TestCase, around
    each test method."""

    @apply_routes([route("test.peek", peek_while_running)])
    def routed_function():
        return sorted(channel_layers["default"].router.channels)

    @apply_routes([route("test.b", peek_while_running)])
    class RoutedClass:
        def test_it(self):
            return sorted(channel_layers["default"].router.channels)

    assert routed_function() == ["test.peek"]
    assert RoutedClass().test_it() == ["test.b"]
    assert channel_layers["default"].router.channels.isdisjoint({"test.peek", "test.b"})


def test_apply_routes_on_a_test_case_holds_from_set_up_to_tear_down():
    """On a TestCase the routes are in place in setUp, the test and tearDown."""
    seen = []

    @apply_routes([route("test.peek", peek_while_running)])
    class Probe(ChannelTestCase):
        databases = set()

        def setUp(self):
            seen.append(sorted(channel_layers["default"].router.channels))

        def test_it(self):
            seen.append(sorted(channel_layers["default"].router.channels))

        def tearDown(self):
            seen.append(sorted(channel_layers["default"].router.channels))

    result = run_tests(Probe, "test_it")
    assert result.wasSuccessful(), problems(result)
    assert seen == [["test.peek"]] * 3


def test_apply_routes_on_a_test_case_is_undone_when_set_up_fails(layers):
    """A setUp that raises skips tearDown, yet the routes are put back (by a cleanup)."""
    router = layers["default"].router

    @apply_routes([route("test.peek", peek_while_running)])
    class Probe(unittest.TestCase):
        def setUp(self):
            raise RuntimeError("set-up failed on purpose")

        def test_it(self):
            """Never runs."""

    result = run_tests(Probe, "test_it")
    assert [text.splitlines()[-1] for _, text in result.errors] == [
        "RuntimeError: set-up failed on purpose"
    ]
    assert layers["default"].router is router
    assert "test.peek" not in router.channels


def test_apply_routes_misuse_is_explained():
    """A string of aliases and decorating a non-callable are TypeErrors saying the fix."""
    with pytest.raises(TypeError, match=r"write aliases=\['other'\]"):
        apply_routes([], aliases="other")
    with pytest.raises(TypeError, match="decorates test functions and classes, got 42"):
        apply_routes([])(42)


# The deprecated package name


def test_the_1x_package_name_warns_and_gives_the_same_tools(monkeypatch):
    """Importing channels_classic.tests warns DeprecationWarning naming channels_classic.test,
    whose tools it gives."""
    monkeypatch.delitem(sys.modules, "channels_classic.tests", raising=False)
    with pytest.warns(
        DeprecationWarning,
        match=r"^channels_classic\.tests is deprecated: import from channels_classic\.test, ",
    ):
        old = importlib.import_module("channels_classic.tests")
    for name in test_tools.__all__:
        assert getattr(old, name) is getattr(test_tools, name)

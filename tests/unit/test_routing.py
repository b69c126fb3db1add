"""Routing: route, route_class, include and Router, and the default routes Router adds."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from channels_classic.channel import Channel
from channels_classic.default_consumers import connect_consumer, null_consumer
from channels_classic.message import Message
from channels_classic.routing import (
    Include,
    Route,
    RouteClass,
    Router,
    dotted_name,
    include,
    route,
    route_class,
)


def consumer_a(message: Message, **kwargs: Any) -> None:
    """Importable by dotted path from the tests below."""


def consumer_b(message: Message, **kwargs: Any) -> None:
    """Importable by dotted path from the tests below."""


def http_view_consumer(message: Message) -> None:
    """Stands for the Django view consumer in check_default tests."""


class ChatConsumer:
    """A class-based consumer in the 1.x style: it lists its channels."""

    def __init__(self, message: Message, **kwargs: Any) -> None:
        self.message = message

    @classmethod
    def channel_names(cls) -> set[str]:
        return {"websocket.connect", "websocket.receive"}


class NotAConsumerClass:
    """A class without ``channel_names``."""


class Uncallable:
    """A class whose ``channel_names`` is not callable."""

    channel_names = ["websocket.connect"]


chat_routing = [
    route("websocket.receive", consumer_a, path=r"^/(?P<room>[^/]+)/$"),
    route("websocket.connect", consumer_b, path=r"^/mentions/$"),
]
dict_routing = {"test.a": consumer_a, "test.b": "tests.unit.test_routing.consumer_b"}
not_a_routing = 42


def msg(channel: str, **content: Any) -> Message:
    return Message(content, channel, None)


# route


def test_route_matches_its_channel_and_returns_consumer_and_no_kwargs():
    """A route without filters matches any message on its channel, with empty kwargs."""
    assert route("test.a", consumer_a).match(msg("test.a")) == (consumer_a, {})


def test_route_ignores_other_channels():
    """A route does not match a message on a channel it does not list."""
    assert route("test.a", consumer_a).match(msg("test.b")) is None


def test_route_takes_a_list_of_channels_and_decodes_bytes_names():
    """Channels may be a list; bytes names are decoded as ASCII."""
    entry = route([b"test.a", "test.b"], consumer_a)
    assert entry.channel_names() == {"test.a", "test.b"}
    assert entry.match(msg("test.a")) == (consumer_a, {})
    assert entry.match(msg("test.b")) == (consumer_a, {})


def test_route_imports_a_dotted_consumer_at_construction():
    """A consumer given as a dotted path is imported when the route is built."""
    assert route("test.a", "tests.unit.test_routing.consumer_a").consumer is consumer_a


def test_route_with_unimportable_consumer_names_path_and_route():
    """A consumer path that cannot be imported raises ImproperlyConfigured naming it."""
    with pytest.raises(
        ImproperlyConfigured,
        match=r"Cannot import consumer 'tests\.unit\.test_routing\.missing' for route\('test\.a'",
    ):
        route("test.a", "tests.unit.test_routing.missing")


def test_route_rejects_a_consumer_that_is_not_callable():
    """A consumer that is neither callable nor a dotted path is refused at construction."""
    with pytest.raises(ValueError, match=r"consumer must be a callable .*got 42"):
        route("test.a", 42)  # type: ignore[arg-type]


def test_route_rejects_invalid_channel_names():
    """A channel name no layer accepts is refused at construction."""
    with pytest.raises(ValueError, match=r"route\('http response'.*'http response' is invalid"):
        route("http response", consumer_a)


def test_a_single_reader_name_is_routed_under_its_valid_name():
    """1.x's '?' names are accepted and routed under the name a Channel of them sends to."""
    entry = route("test.single?x", consumer_a)
    assert entry.channel_names() == {Channel("test.single?x").name} == {"test.single__q__x"}
    assert entry.match(msg("test.single__q__x")) == (consumer_a, {})


def test_route_rejects_channels_that_are_not_names():
    """Channels that are neither a name nor a list of names are refused."""
    with pytest.raises(ValueError, match=r"channels must be a channel name or a list of them"):
        route(None, consumer_a)  # type: ignore[arg-type]


def test_filter_is_anchored_at_the_start_only():
    """Filters use re.match: anchored at the start, so a missing '$' matches longer values."""
    entry = route("test.a", consumer_a, path=r"^/chat/")
    assert entry.match(msg("test.a", path="/chat/room/")) == (consumer_a, {})
    assert route("test.a", consumer_a, path="chat").match(msg("test.a", path="/chat/")) is None


def test_filter_that_does_not_match_rejects_the_message():
    """A message whose value fails a filter does not match."""
    entry = route("test.a", consumer_a, path=r"^/chat/$")
    assert entry.match(msg("test.a", path="/other/")) is None


def test_filter_key_must_exist():
    """A message without the filtered key does not match, even for a pattern matching ''."""
    assert route("test.a", consumer_a, path=r".*").match(msg("test.a", text="x")) is None


def test_bytes_patterns_and_values_are_decoded_as_ascii():
    """Bytes patterns and bytes message values are matched as ASCII text."""
    entry = route("test.a", consumer_a, query_string=b"^a=(?P<a>\\d+)")
    assert entry.match(msg("test.a", query_string=b"a=12")) == (consumer_a, {"a": "12"})
    assert entry.match(msg("test.a", query_string="a=7")) == (consumer_a, {"a": "7"})


def test_non_ascii_bytes_value_does_not_match():
    """A bytes value that is not ASCII does not match instead of raising."""
    entry = route("test.a", consumer_a, query_string=r"^")
    assert entry.match(msg("test.a", query_string=b"\xff")) is None


def test_non_text_value_does_not_match():
    """A filter on a non-text value (like ``order``) does not match, where 1.x raised."""
    entry = route("test.a", consumer_a, order=r"^1$")
    assert entry.match(msg("test.a", order=1)) is None
    assert entry.match(msg("test.a", order="1")) == (consumer_a, {})


def test_filters_are_anded():
    """Every filter must match for the route to match."""
    entry = route("http.request", consumer_a, path=r"^/poll/$", method=r"^POST$")
    assert entry.match(msg("http.request", path="/poll/", method="POST")) == (consumer_a, {})
    assert entry.match(msg("http.request", path="/poll/", method="GET")) is None
    assert entry.match(msg("http.request", path="/other/", method="POST")) is None


def test_named_groups_become_kwargs_and_unmatched_optional_groups_are_none():
    """Named groups of every filter become kwargs; an optional group that did not take part
    is None."""
    entry = route(
        "test.a", consumer_a, path=r"^/(?P<room>\w+)/(?P<page>\d+)?", to=r"^(?P<user>\w+)@"
    )
    result = entry.match(msg("test.a", path="/lobby/", to="ann@example.com"))
    assert result == (consumer_a, {"room": "lobby", "page": None, "user": "ann"})


def test_positional_groups_are_refused_naming_route_and_pattern():
    """A pattern with unnamed groups raises ValueError at construction."""
    with pytest.raises(
        ValueError,
        match=r"^Filter for path on route\('test\.a'.*path='\^/\(\\\\d\+\)/\$'\) contains "
        r"positional groups; only named groups are allowed\.",
    ):
        route("test.a", consumer_a, path=r"^/(\d+)/$")


def test_mixed_named_and_positional_groups_are_refused():
    """One positional group among named ones is enough to refuse the pattern."""
    with pytest.raises(ValueError, match="positional groups"):
        route("test.a", consumer_a, path=r"^/(?P<room>\w+)/(\d+)$")


def test_invalid_regex_is_refused_naming_the_filter():
    """A pattern that does not compile raises ValueError naming the filter."""
    with pytest.raises(ValueError, match=r"filter path='\^/\(' is not usable"):
        route("test.a", consumer_a, path=r"^/(")


def test_non_text_pattern_is_refused():
    """A filter that is not a str or bytes regex raises ValueError at construction."""
    with pytest.raises(ValueError, match=r"filter order=1 is not usable: .*str or bytes"):
        route("test.a", consumer_a, order=1)


def test_routing_on_other_keys_than_path():
    """Routes may filter on any key, e.g. ``method`` or a custom ``to_address``."""
    entry = route("email.receive", consumer_a, to_address=r"^support@")
    assert entry.match(msg("email.receive", to_address="support@example.com")) == (consumer_a, {})


def test_route_sees_the_full_process_channel_name():
    """Matching uses the whole ``prefix!local`` name of a process channel."""
    entry = route("daphne.response!abc", consumer_a)
    assert entry.match(msg("daphne.response!abc")) == (consumer_a, {})
    assert entry.match(msg("daphne.response!xyz")) is None


def test_route_repr_shows_channels_consumer_and_filters():
    """A route's repr names its channels, consumer and patterns, for error messages."""
    assert repr(route("test.a", consumer_a, path=r"^/x$")) == (
        "route(['test.a'], tests.unit.test_routing.consumer_a, path='^/x$')"
    )


# route_class


def test_route_class_takes_channels_from_the_class():
    """route_class listens on consumer_class.channel_names() and routes to the class."""
    entry = route_class(ChatConsumer, path=r"^/chat/")
    assert isinstance(entry, RouteClass)
    assert entry.channel_names() == {"websocket.connect", "websocket.receive"}
    assert entry.match(msg("websocket.receive", path="/chat/")) == (ChatConsumer, {})
    assert entry.match(msg("websocket.receive", path="/other/")) is None


def test_route_class_imports_a_dotted_class():
    """The class may be given as a dotted path."""
    assert route_class("tests.unit.test_routing.ChatConsumer").consumer is ChatConsumer


def test_route_class_without_channel_names_names_the_class():
    """A class without channel_names() raises ValueError naming it."""
    with pytest.raises(ValueError, match=r"NotAConsumerClass'> has no callable channel_names"):
        route_class(NotAConsumerClass)


def test_route_class_with_uncallable_channel_names_is_refused():
    """A channel_names attribute that is not callable raises ValueError naming the class."""
    with pytest.raises(ValueError, match=r"Uncallable'> has no callable channel_names"):
        route_class(Uncallable)


# include


def test_include_cuts_the_prefix_for_inner_routes_and_merges_kwargs():
    """An include matches its prefix, inner patterns continue after it, and both sets of
    groups reach the consumer."""
    entry = include(chat_routing, path=r"^/chat/(?P<site>\w+)")
    result = entry.match(msg("websocket.receive", path="/chat/main/lobby/"))
    assert result == (consumer_a, {"site": "main", "room": "lobby"})


def test_include_leaves_the_original_message_untouched():
    """The consumer gets the original message: matching works on a copy."""
    message = msg("websocket.receive", path="/chat/main/lobby/")
    assert Router([include(chat_routing, path=r"^/chat/main")]).match(message) is not None
    assert message.content == {"path": "/chat/main/lobby/"}


def test_include_inner_kwargs_win_on_clash():
    """When the include and the inner route capture the same name, the inner value wins."""
    inner = [route("test.a", consumer_a, path=r"^/(?P<id>\d+)$")]
    entry = include(inner, path=r"^/(?P<id>[a-z]+)")
    assert entry.match(msg("test.a", path="/abc/42")) == (consumer_a, {"id": "42"})


def test_include_prefix_needs_the_key_and_a_match():
    """An include's prefix, like a filter, needs the key to exist and to match."""
    entry = include(chat_routing, path=r"^/chat")
    assert entry.match(msg("websocket.receive", text="hi")) is None
    assert entry.match(msg("websocket.receive", path="/other/lobby/")) is None
    assert entry.match(msg("websocket.receive", path=5)) is None


def test_include_tries_inner_entries_in_order():
    """Inside an include the first matching inner entry wins."""
    inner = [route("test.a", consumer_a, path=r"^/x"), route("test.a", consumer_b)]
    entry = include(inner, path=r"^/p")
    assert entry.match(msg("test.a", path="/p/x")) == (consumer_a, {})
    assert entry.match(msg("test.a", path="/p/y")) == (consumer_b, {})


def test_nested_includes_cut_each_prefix_in_turn():
    """Prefixes of nested includes are cut one after the other."""
    entry = include([include(chat_routing, path=r"^/b")], path=r"^/a")
    assert entry.match(msg("websocket.connect", path="/a/b/mentions/")) == (consumer_b, {})


def test_include_prefix_on_bytes_value():
    """A bytes value is decoded before its prefix is cut."""
    inner = [route("test.a", consumer_a, query=r"^&(?P<b>\w+)$")]
    entry = include(inner, query=rb"^a=(?P<a>\w+)")
    assert entry.match(msg("test.a", query=b"a=1&b")) == (consumer_a, {"a": "1", "b": "b"})


def test_include_without_prefix_needs_no_filtered_key():
    """An include with no prefix filters just tries its entries."""
    assert include({"test.a": consumer_a}).match(msg("test.a")) == (consumer_a, {})


def test_include_accepts_a_dict_of_channel_to_consumer():
    """A ``{channel: consumer}`` dict becomes one route per item, in order."""
    entry = include(dict_routing)
    assert entry.channel_names() == {"test.a", "test.b"}
    assert entry.match(msg("test.b")) == (consumer_b, {})


def test_include_accepts_a_dotted_path_to_a_list_or_dict():
    """An include may name its routing by dotted path, to a list or to a dict."""
    listed = include("tests.unit.test_routing.chat_routing", path=r"^/chat")
    assert listed.match(msg("websocket.receive", path="/chat/lobby/")) == (
        consumer_a,
        {"room": "lobby"},
    )
    assert include("tests.unit.test_routing.dict_routing").match(msg("test.a")) == (consumer_a, {})


def test_include_with_unimportable_path_names_it():
    """An include path that cannot be imported raises ImproperlyConfigured naming it."""
    with pytest.raises(
        ImproperlyConfigured,
        match=r"Cannot import channel routing 'tests\.unit\.test_routing\.nope'",
    ):
        include("tests.unit.test_routing.nope")


def test_include_positional_prefix_groups_are_refused():
    """An include prefix with unnamed groups raises ValueError naming the include."""
    with pytest.raises(ValueError, match=r"include\(<list of 2>, path=.*positional groups"):
        include(chat_routing, path=r"^/(chat)")


def test_include_channel_names_is_the_union_of_its_entries():
    """An include listens on every channel of its entries."""
    entry = include([*chat_routing, route_class(ChatConsumer), route("test.a", consumer_a)])
    assert entry.channel_names() == {"websocket.receive", "websocket.connect", "test.a"}


def test_include_ignores_channels_none_of_its_entries_route():
    """An include does not match a message on a channel its entries do not list."""
    assert include(chat_routing).match(msg("test.a", path="/lobby/")) is None


# Router


def test_router_first_match_wins():
    """Of two routes matching a message, the one listed first is used."""
    router = Router(
        [
            route("test.a", consumer_a, path=r"^/x"),
            route("test.a", consumer_b),
        ]
    )
    assert router.match(msg("test.a", path="/x")) == (consumer_a, {})
    assert router.match(msg("test.a", path="/y")) == (consumer_b, {})


def test_router_channels_is_the_union_of_routes():
    """Router.channels holds every channel routed anywhere, includes too."""
    router = Router([route("test.a", consumer_a), include(chat_routing, path=r"^/chat")])
    assert router.channels == {"test.a", "websocket.receive", "websocket.connect"}
    assert isinstance(router.root, Include)


def test_router_does_not_match_unrouted_channels():
    """A message on a channel no route lists matches nothing."""
    assert Router([route("test.a", consumer_a)]).match(msg("test.b")) is None


def test_router_returns_none_when_no_route_matches():
    """A message on a routed channel that no filter accepts matches nothing."""
    router = Router([route("test.a", consumer_a, path=r"^/x$")])
    assert router.match(msg("test.a", path="/y")) is None


def test_router_accepts_a_dict():
    """A dict routing becomes one route per item."""
    router = Router(dict_routing)
    assert router.channels == {"test.a", "test.b"}
    assert router.match(msg("test.a")) == (consumer_a, {})


def test_router_accepts_a_dotted_path():
    """A routing named by dotted path is imported."""
    router = Router("tests.unit.test_routing.chat_routing")
    assert router.match(msg("websocket.connect", path="/mentions/")) == (consumer_b, {})


def test_router_of_none_routes_nothing():
    """A layer without ROUTING (None) has a router with no channels."""
    router = Router(None)
    assert router.channels == frozenset()
    assert router.match(msg("test.a")) is None


def test_router_with_unimportable_path_raises_improperly_configured():
    """A ROUTING path that cannot be imported raises ImproperlyConfigured naming it."""
    with pytest.raises(
        ImproperlyConfigured, match=r"Cannot import channel routing 'routingx\.channel_routing'"
    ):
        Router("routingx.channel_routing")


def test_router_of_a_path_to_something_else_is_refused():
    """A ROUTING path naming something other than a list or dict is refused."""
    with pytest.raises(
        ValueError,
        match=r"channel routing 'tests\.unit\.test_routing\.not_a_routing' must be .*got 42",
    ):
        Router("tests.unit.test_routing.not_a_routing")


def test_router_refuses_a_bare_function_entry_naming_its_position():
    """A consumer put in the routing list without route() is refused at load time."""
    with pytest.raises(ValueError, match=r"Entry 1 .*consumer_a.*not a routing object"):
        Router([route("test.a", consumer_a), consumer_a])


def test_router_refuses_a_string_entry():
    """A dotted string inside the routing list is refused, naming it and its position."""
    with pytest.raises(ValueError, match=r"Entry 0 .*'tests\.unit\.test_routing\.chat_routing'"):
        Router(["tests.unit.test_routing.chat_routing"])


def test_router_refuses_a_class_entry():
    """A consumer class in the list is refused (route_class() is the way to route it)."""
    with pytest.raises(ValueError, match=r"Entry 0 .*ChatConsumer.*route_class"):
        Router([ChatConsumer])


def test_router_accepts_any_object_with_match_and_channel_names():
    """A custom routing object with match() and channel_names() is routed."""

    class Everything:
        def match(self, message: Message) -> tuple[Any, dict[str, Any]]:
            return consumer_b, {"seen": message.channel.name}

        def channel_names(self) -> set[str]:
            return {"test.custom"}

    router = Router([Everything()])
    assert router.channels == {"test.custom"}
    assert router.match(msg("test.custom")) == (consumer_b, {"seen": "test.custom"})


def test_add_route_appends_after_existing_routes_and_updates_channels():
    """add_route puts the route last and listens on its channels."""
    router = Router([route("test.a", consumer_a, path=r"^/x")])
    router.add_route(route(["test.a", "test.b"], consumer_b))
    assert router.channels == {"test.a", "test.b"}
    assert router.match(msg("test.a", path="/x")) == (consumer_a, {})
    assert router.match(msg("test.a", path="/y")) == (consumer_b, {})
    assert router.match(msg("test.b")) == (consumer_b, {})


def test_add_route_refuses_non_routing_objects():
    """add_route refuses something that is not a routing object, naming it."""
    with pytest.raises(ValueError, match=r"Entry 0 .*Router\.add_route\(\) is 'test\.a'"):
        Router([]).add_route("test.a")  # type: ignore[arg-type]


def test_router_does_not_change_the_users_list():
    """Defaults added to a router do not leak into the routing list it was built from."""
    routing = [route("test.a", consumer_a)]
    Router(routing).check_default()
    assert len(routing) == 1
    assert Router(routing).channels == {"test.a"}


def test_normalise_re_arg_decodes_bytes_only():
    """normalise_re_arg decodes bytes as ASCII and leaves other values alone."""
    assert Router.normalise_re_arg(b"^/x") == "^/x"
    assert Router.normalise_re_arg("^/x") == "^/x"
    assert Router.normalise_re_arg(3) == 3


def test_resolve_routing_turns_a_dict_into_routes():
    """resolve_routing makes one Route per dict item, in order."""
    routes = Router.resolve_routing({"test.b": consumer_b, "test.a": consumer_a})
    assert [type(entry) for entry in routes] == [Route, Route]
    assert [entry.channel_names() for entry in routes] == [{"test.b"}, {"test.a"}]


# Default routing


def test_check_default_routes_websockets_after_user_routes():
    """check_default adds connect, receive and disconnect consumers after the user's."""
    router = Router([route("websocket.connect", consumer_a, path=r"^/chat/")])
    router.check_default()
    assert router.channels == {"websocket.connect", "websocket.receive", "websocket.disconnect"}
    assert router.match(msg("websocket.connect", path="/chat/")) == (consumer_a, {})
    assert router.match(msg("websocket.connect", path="/else/")) == (connect_consumer, {})
    assert router.match(msg("websocket.receive", path="/else/")) == (null_consumer, {})
    assert router.match(msg("websocket.disconnect", path="/else/")) == (null_consumer, {})


def test_check_default_without_http_consumer_leaves_http_unrouted():
    """Without an http_consumer, http.request is not routed by the defaults."""
    router = Router([])
    router.check_default()
    assert "http.request" not in router.channels
    assert router.match(msg("http.request", path="/")) is None


def test_check_default_routes_unmatched_http_to_the_http_consumer():
    """Un-routed HTTP requests fall through to the http_consumer given."""
    router = Router([route("http.request", consumer_a, path=r"^/poll/$")])
    router.check_default(http_consumer=http_view_consumer)
    assert router.match(msg("http.request", path="/poll/")) == (consumer_a, {})
    assert router.match(msg("http.request", path="/")) == (http_view_consumer, {})


def test_check_default_accepts_a_dotted_http_consumer():
    """The http_consumer may be a dotted path, like any consumer."""
    router = Router([])
    router.check_default(http_consumer="tests.unit.test_routing.http_view_consumer")
    assert router.match(msg("http.request", path="/")) == (http_view_consumer, {})


def test_check_default_again_adds_only_what_is_missing():
    """A second check_default (runworker and runserver share a cached router) adds no route
    twice; an http_consumer given only the second time is still added."""
    router = Router([route("test.a", consumer_a)])
    router.check_default()
    router.check_default(http_consumer=http_view_consumer)
    router.check_default(http_consumer=consumer_b)
    assert len(router.root.routing) == 5
    assert router.match(msg("http.request", path="/")) == (http_view_consumer, {})
    assert router.match(msg("websocket.connect", path="/")) == (connect_consumer, {})


def test_dotted_name_names_functions_and_instances():
    """dotted_name gives module.qualname of a function, and of the class of an instance."""
    assert dotted_name(consumer_a) == "tests.unit.test_routing.consumer_a"
    assert dotted_name(ChatConsumer) == "tests.unit.test_routing.ChatConsumer"
    assert dotted_name(Router([])) == "channels_classic.routing.Router"

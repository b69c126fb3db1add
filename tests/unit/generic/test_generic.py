"""BaseConsumer and its as_route(), run by a real worker on the in-memory layer, with real
sessions and users where its flags need them."""

from __future__ import annotations

from typing import Any

import pytest

from channels_classic import route, route_class
from channels_classic.auth import channel_session_user_from_http
from channels_classic.generic import BaseConsumer
from channels_classic.message import Message
from tests.support.generic import (
    Socket,
    connect_then_ask,
    login,
    make_layer,
    run,
    use_cache_sessions,
)


@pytest.fixture(autouse=True)
def sessions(settings):
    use_cache_sessions(settings)


def test_each_message_runs_its_channels_method_on_a_new_instance():
    """route_class listens on method_mapping's keys; each message makes an instance that
    runs the method of its channel with the message and the route's keyword arguments."""
    seen: list[tuple[str, Any, bool, dict[str, Any], dict[str, Any]]] = []

    class Pair(BaseConsumer):
        method_mapping = {"test.one": "one", "test.two": "two"}

        def one(self, message: Message, **kwargs: Any) -> None:
            seen.append(("one", self, self.message is message, self.kwargs, kwargs))

        def two(self, message: Message, **kwargs: Any) -> None:
            seen.append(("two", self, self.message is message, self.kwargs, kwargs))

    layer = make_layer(route_class(Pair, key=r"^(?P<letter>[a-z])$"))
    layer.send("test.one", {"key": "a"})
    layer.send("test.two", {"key": "b"})
    layer.send("test.two", {"key": "B"})  # filtered out: no route matches
    assert run(layer).handled == 3
    assert Pair.channel_names() == {"test.one", "test.two"}
    assert layer.router.channels == {"test.one", "test.two"}
    seen.sort(key=lambda item: item[0])
    assert [(name, same, own, kw) for name, _, same, own, kw in seen] == [
        ("one", True, {"letter": "a"}, {"letter": "a"}),
        ("two", True, {"letter": "b"}, {"letter": "b"}),
    ]
    assert isinstance(seen[0][1], Pair) and seen[0][1] is not seen[1][1]


class Greeter(BaseConsumer):
    method_mapping = {"test.greet": "greet"}
    greeting = "hello"

    def greet(self, message: Message, lang: str) -> None:
        message.reply_channel.send({"text": f"{type(self).__name__}: {self.greeting} ({lang})"})


def test_as_route_gives_class_attributes_to_its_route_alone():
    """as_route(attrs=...) routes to a subclass carrying attrs, named as the class; without
    attrs (or with none) it routes the class itself, which stays as it was."""
    layer = make_layer(
        Greeter.as_route(attrs={"greeting": "bonjour"}, lang=r"^(?P<lang>fr)$"),
        Greeter.as_route(attrs={}, lang=r"^(?P<lang>en)$"),
        Greeter.as_route(lang=r"^(?P<lang>\w+)$"),
    )
    for lang in ("fr", "en", "de"):
        layer.send("test.greet", {"reply_channel": f"r!{lang}", "lang": lang})
    run(layer)
    assert [layer.receive([f"r!{lang}"])[1] for lang in ("fr", "en", "de")] == [
        {"text": "Greeter: bonjour (fr)"},
        {"text": "Greeter: hello (en)"},
        {"text": "Greeter: hello (de)"},
    ]
    routed = [entry.consumer for entry in layer.router.root.routing]
    assert routed[0] is not Greeter and issubclass(routed[0], Greeter)
    assert routed[0].__qualname__ == Greeter.__qualname__
    assert routed[1] is Greeter and routed[2] is Greeter
    assert Greeter.greeting == "hello"


def test_as_route_refuses_attrs_that_are_not_a_dict():
    """Filters passed positionally in place of attrs are refused with the fix."""
    with pytest.raises(
        TypeError,
        match=r"Greeter\.as_route\(attrs=\.\.\.\) takes a dict of class attributes, got "
        r"\['greeting'\]; filters go in keyword arguments",
    ):
        Greeter.as_route(["greeting"])


def test_a_misconfigured_method_mapping_is_refused_when_routed():
    """A mapping to a method the class lacks, or a mapping that is not a dict, fails at
    route_class(), not at each message as in 1.x."""

    class Missing(BaseConsumer):
        method_mapping = {"test.x": "handle"}

    class Listed(BaseConsumer):
        method_mapping = ["test.x"]  # type: ignore[assignment]

    with pytest.raises(
        ValueError,
        match=r"Missing\.method_mapping maps 'test\.x' to 'handle', which is not a method of "
        r".*Missing; map it to the name of a method",
    ):
        route_class(Missing)
    with pytest.raises(ValueError, match=r"Listed\.method_mapping must be a dict .*\['test\.x'\]"):
        Listed.as_route()


def test_a_message_on_an_unmapped_channel_names_the_mapped_ones():
    """A class routed with route() on a channel it has no method for says which it has."""
    layer = make_layer(route("test.other", Greeter))
    with pytest.raises(
        ValueError,
        match=r"Greeter has no method for messages on 'test\.other'; its method_mapping has "
        r"channels 'test\.greet'\. Route it with route_class\(Greeter\)",
    ):
        Greeter(Message({"lang": "fr"}, "test.other", layer))


def test_channel_session_flag_keeps_state_across_a_sockets_messages():
    """channel_session = True gives every message of a socket the same session."""

    class Counter(BaseConsumer):
        method_mapping = {"websocket.receive": "count"}
        channel_session = True

        def count(self, message: Message, **kwargs: Any) -> None:
            count = message.channel_session.get("count", 0) + 1
            message.channel_session["count"] = count
            message.reply_channel.send({"text": str(count)})

    layer = make_layer(route_class(Counter))
    first, second = Socket(layer), Socket(layer)
    for socket in (first, second, first):
        socket.send("websocket.receive", text="tick")
    run(layer)
    assert first.replies() == [{"text": "1"}, {"text": "2"}]
    assert second.replies() == [{"text": "1"}]


def test_channel_session_user_flag_gives_each_message_its_sockets_user(alice):
    """channel_session_user = True sets message.user from the login that connect copied
    into the channel session; a socket without one gets AnonymousUser."""

    @channel_session_user_from_http
    def connect(message: Message) -> None:
        message.reply_channel.send({"accept": True})

    class Whoami(BaseConsumer):
        method_mapping = {"websocket.receive": "whoami"}
        channel_session_user = True

        def whoami(self, message: Message, **kwargs: Any) -> None:
            message.reply_channel.send({"text": str(message.user)})

    layer = make_layer(route("websocket.connect", connect), route_class(Whoami))
    alices, strangers = Socket(layer, session_key=login(alice)), Socket(layer)
    connect_then_ask(layer, (alices, strangers), "who?")
    assert alices.replies() == [{"accept": True}, {"text": "alice"}]
    assert strangers.replies() == [{"accept": True}, {"text": "AnonymousUser"}]


def test_get_handler_can_be_overridden_to_add_decorators():
    """An overridden get_handler wraps the method; dispatch runs the wrapped handler."""

    class Stamped(BaseConsumer):
        method_mapping = {"test.stamp": "stamp"}

        def get_handler(self, message: Message, **kwargs: Any) -> Any:
            handler = super().get_handler(message, **kwargs)

            def stamped(message: Message, **kwargs: Any) -> object:
                message["stamped"] = type(self).__name__
                return handler(message, **kwargs)

            return stamped

        def stamp(self, message: Message, **kwargs: Any) -> None:
            message.reply_channel.send({"text": message["stamped"]})

    layer = make_layer(route_class(Stamped))
    layer.send("test.stamp", {"reply_channel": "r!1"})
    run(layer)
    assert layer.receive(["r!1"])[1] == {"text": "Stamped"}

"""Channel routing: which consumer runs for a message.

A routing is a list of routing objects tried top to bottom; the first that matches wins.
``route`` matches a channel name and, optionally, regexes against message keys whose named
groups become the consumer's keyword arguments; ``route_class`` takes its channels from a
consumer class; ``include`` nests a routing under prefix regexes. ``Router`` is what a layer
holds: the whole routing plus the set of channels a worker listens on.

Errors: a dotted path that cannot be imported raises ``ImproperlyConfigured``; any other bad
value given to these constructors raises ``ValueError`` at construction, never at match time.
A filter on a key whose value is not text (say ``order``) does not match that message: a
message's keys are the client's to choose, and matching must not raise in the worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .default_consumers import connect_consumer, null_consumer
from .names import check_channel_name, classic_channel_name

if TYPE_CHECKING:
    from .message import Message

Consumer = Callable[..., object]
#: What ``match`` returns on success: the consumer and its keyword arguments.
Match = tuple[Consumer, dict[str, Any]]


class RoutingObject(Protocol):
    """What a routing list holds: ``route``, ``route_class``, ``include`` or your own."""

    def match(self, message: Message) -> Match | None: ...

    def channel_names(self) -> set[str]: ...


class Route:
    """Runs ``consumer`` for messages on ``channels`` whose keys match every filter.

    ``channels`` is one name or a list of names; ``consumer`` a callable or a dotted path to
    one; each filter ``key=regex`` must ``re.match`` the message's ``key`` (only named groups
    allowed, each becomes a consumer keyword argument).
    """

    def __init__(
        self,
        channels: str | bytes | Iterable[str | bytes],
        consumer: Consumer | str,
        **filters: Any,
    ) -> None:
        label = _label("route", channels, consumer, filters)
        self.channels = _channel_set(channels, label)
        self.consumer = _consumer(consumer, label)
        self.filters = {key: _compile(pattern, key, label) for key, pattern in filters.items()}

    def __repr__(self) -> str:
        return _label("route", sorted(self.channels), self.consumer, self.filters)

    def channel_names(self) -> set[str]:
        return set(self.channels)

    def match(self, message: Message) -> Match | None:
        """Returns (consumer, kwargs) if ``message`` matches, None otherwise."""
        if message.channel.name not in self.channels:
            return None
        kwargs: dict[str, Any] = {}
        for key, regex in self.filters.items():
            found = _match(regex, message.content, key)
            if found is None:
                return None
            kwargs.update(found.groupdict())
        return self.consumer, kwargs


class RouteClass(Route):
    """A ``Route`` for a class-based consumer: the channels come from
    ``consumer_class.channel_names()``. The class may be given as a dotted path."""

    def __init__(self, consumer_class: type | str, **filters: Any) -> None:
        label = _label("route_class", None, consumer_class, filters)
        resolved = _consumer(consumer_class, label)
        channel_names = getattr(resolved, "channel_names", None)
        if not callable(channel_names):
            raise ValueError(
                "The consumer passed to RouteClass has no valid channel_names method: "
                f"{label}: {resolved!r} has no callable channel_names(); route_class() needs a "
                "class-based consumer that lists its channels. Route a plain function with "
                "route('channel.name', consumer) instead."
            )
        super().__init__(list(channel_names()), resolved, **filters)

    def __repr__(self) -> str:
        return _label("route_class", None, self.consumer, self.filters)


class Include:
    """Tries the entries of another routing, for messages whose keys start with the prefix
    regexes. ``routing`` is a list, a ``{channel: consumer}`` dict or a dotted path to either.

    The matched prefixes are cut off the values in a copy of the message that only the inner
    entries see, so their patterns continue where the prefix stopped; the consumer still gets
    the original message. Groups of the prefixes and of the inner route become the consumer's
    keyword arguments; on a name clash the inner route's value wins.
    """

    def __init__(self, routing: Any, **prefix_filters: Any) -> None:
        label = _label("include", None, routing, prefix_filters)
        self.routing = Router.resolve_routing(routing)
        self.prefixes = {
            key: _compile(pattern, key, label) for key, pattern in prefix_filters.items()
        }
        self._label = label
        self._channels = _union(self.routing)

    def __repr__(self) -> str:
        return self._label

    def channel_names(self) -> set[str]:
        return set(self._channels)

    def match(self, message: Message) -> Match | None:
        """Returns (consumer, kwargs) of the first inner entry that matches, None if none."""
        if message.channel.name not in self._channels:
            return None
        if not self.prefixes:
            return _first_match(self.routing, message)
        kwargs: dict[str, Any] = {}
        rest: dict[str, str] = {}
        for key, regex in self.prefixes.items():
            found = _match(regex, message.content, key)
            if found is None:
                return None
            kwargs.update(found.groupdict())
            rest[key] = found.string[found.end() :]
        # A shallow copy is enough: only top-level values are replaced, and inner entries
        # only read the message. The original stays untouched for the consumer.
        stripped = message.with_content(rest)
        result = _first_match(self.routing, stripped)
        if result is None:
            return None
        consumer, inner_kwargs = result
        return consumer, {**kwargs, **inner_kwargs}

    def _append(self, entry: RoutingObject) -> None:
        self.routing.append(entry)
        self._channels = _union(self.routing)


class Router:
    """A layer's routing: ``root`` is an ``Include`` of the whole routing, ``channels``
    the channels a worker listens on. ``None`` (no ROUTING) routes nothing."""

    def __init__(self, routing: Any) -> None:
        self.root = Include([] if routing is None else routing)
        self.channels = frozenset(self.root.channel_names())
        # Channels check_default() has routed already (a layer's router is cached: runworker
        # and runserver may both ask for the defaults in one process).
        self._defaulted: set[str] = set()

    def match(self, message: Message) -> Match | None:
        """Returns (consumer, kwargs) for ``message``, or None if no route matches it."""
        if message.channel.name not in self.channels:
            return None
        return self.root.match(message)

    def add_route(self, route: RoutingObject) -> None:
        """Appends ``route`` after every other entry and listens on its channels too."""
        self.root._append(_checked(route, len(self.root.routing), "Router.add_route()"))
        self.channels = frozenset(self.root.channel_names())

    def check_default(self, http_consumer: Consumer | str | None = None) -> None:
        """Appends the default routes after the user's: ``http.request`` to
        ``http_consumer`` when one is given, and consumers that accept every WebSocket and
        discard its frames, since those channels must always be consumed (see
        ``default_consumers``). Calling it again adds only the defaults not added yet."""
        defaults: list[tuple[str, Consumer | str]] = [
            ("websocket.connect", connect_consumer),
            ("websocket.receive", null_consumer),
            ("websocket.disconnect", null_consumer),
        ]
        if http_consumer is not None:
            defaults.insert(0, ("http.request", http_consumer))
        for channel, consumer in defaults:
            if channel not in self._defaulted:
                self._defaulted.add(channel)
                self.add_route(Route(channel, consumer))

    @classmethod
    def resolve_routing(cls, value: Any) -> list[RoutingObject]:
        """A new list of the routing objects of ``value``: a list, a ``{channel: consumer}``
        dict (one ``route`` per item, in order) or a dotted path to either."""
        where = "the channel routing"
        if isinstance(value, str):
            where = f"channel routing {value!r}"
            try:
                value = import_string(value)
            except ImportError as error:
                raise ImproperlyConfigured(
                    f"Cannot import channel routing {value!r}: {error}. Point ROUTING (or "
                    "include()) at a list in an importable module, e.g. "
                    "'routing.channel_routing'."
                ) from error
        if isinstance(value, dict):
            return [Route(channel, consumer) for channel, consumer in value.items()]
        if not isinstance(value, list | tuple):
            raise ValueError(
                f"{where} must be a list of routes or a {{channel: consumer}} dict, got {value!r}"
            )
        return [_checked(entry, index, where) for index, entry in enumerate(value)]

    @classmethod
    def normalise_re_arg(cls, value: Any) -> Any:
        """``value`` decoded as ASCII if it is bytes, unchanged otherwise."""
        return value.decode("ascii") if isinstance(value, bytes) else value


def _match(regex: re.Pattern[str], content: Mapping[str, Any], key: str) -> re.Match[str] | None:
    """``regex.match`` on ``content[key]``; None when the key is missing or the value is not
    text (bytes that are not ASCII, numbers, None...), where 1.x raised from ``re``."""
    value = content.get(key)
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    return regex.match(value)


def _first_match(routing: list[RoutingObject], message: Message) -> Match | None:
    for entry in routing:
        result = entry.match(message)
        if result is not None:
            return result
    return None


def _union(routing: list[RoutingObject]) -> frozenset[str]:
    return frozenset(name for entry in routing for name in entry.channel_names())


def _checked(entry: Any, index: int, where: str) -> RoutingObject:
    """``entry`` if it can be routed on (has ``match`` and ``channel_names``)."""
    if isinstance(entry, type) or not (
        callable(getattr(entry, "match", None)) and callable(getattr(entry, "channel_names", None))
    ):
        raise ValueError(
            f"Entry {index} (counting from 0) of {where} is {entry!r}, not a routing object: "
            "wrap consumers in route('channel.name', consumer), class-based consumers in "
            "route_class(ConsumerClass), and other routings in include(...)"
        )
    return entry  # type: ignore[no-any-return]


def _channel_set(channels: Any, label: str) -> frozenset[str]:
    names = [channels] if isinstance(channels, str | bytes) else channels
    if not isinstance(names, Iterable):
        raise ValueError(f"{label}: channels must be a channel name or a list of them")
    result = set()
    for name in names:
        try:
            result.add(check_channel_name(classic_channel_name(Router.normalise_re_arg(name))))
        except (TypeError, UnicodeDecodeError) as error:
            raise ValueError(f"{label}: {error}") from error
    return frozenset(result)


def _consumer(consumer: Any, label: str) -> Consumer:
    if isinstance(consumer, str):
        try:
            consumer = import_string(consumer)
        except ImportError as error:
            raise ImproperlyConfigured(
                f"Cannot import consumer {consumer!r} for {label}: {error}"
            ) from error
    if not callable(consumer):
        raise ValueError(
            f"{label}: the consumer must be a callable or a dotted path to one, got {consumer!r}"
        )
    return consumer  # type: ignore[no-any-return]


def _compile(pattern: Any, key: str, label: str) -> re.Pattern[str]:
    """The compiled filter ``key=pattern`` of ``label``; only named groups allowed
    (they become keyword arguments)."""
    try:
        source = Router.normalise_re_arg(pattern)
        if not isinstance(source, str):
            raise ValueError("a filter must be a regex given as str or bytes")
        regex = re.compile(source)
    except (ValueError, re.error) as error:
        raise ValueError(f"{label}: filter {key}={pattern!r} is not usable: {error}") from error
    if regex.groups != len(regex.groupindex):
        raise ValueError(
            f"Filter for {key} on {label} contains positional groups; only named groups are "
            "allowed. Name them (?P<name>...): each one becomes a consumer keyword argument"
        )
    return regex


def dotted_name(consumer: Any) -> str:
    """``module.QualifiedName`` of a consumer (of its class, for an instance), for logs."""
    module = getattr(consumer, "__module__", None) or type(consumer).__module__
    name = getattr(consumer, "__qualname__", None) or type(consumer).__qualname__
    return f"{module}.{name}"


def _label(kind: str, channels: Any, target: Any, filters: Mapping[str, Any]) -> str:
    """How errors and reprs show a routing object, e.g. ``route('a.b', app.f, path='^/x')``."""
    parts = [] if channels is None else [repr(channels)]
    if isinstance(target, str):
        parts.append(repr(target))
    elif callable(target):
        parts.append(dotted_name(target))
    elif isinstance(target, list | tuple | dict):
        parts.append(f"<{type(target).__name__} of {len(target)}>")
    else:
        parts.append(repr(target))
    shown = {key: getattr(value, "pattern", value) for key, value in filters.items()}
    parts += [f"{key}={value!r}" for key, value in shown.items()]
    return f"{kind}({', '.join(parts)})"


route = Route
route_class = RouteClass
include = Include

"""``BaseConsumer``: a class whose methods are consumers, one per channel.

The worker calls a routed class the way it calls a function consumer, ``Consumer(message,
**kwargs)``, so every message makes a new instance, whose constructor runs the method that
``method_mapping`` names for the message's channel. What a method keeps on ``self`` lasts
one message; what must last as long as the socket belongs in its channel session
(``channel_session = True``).

Route a class with ``route_class(Consumer, path=...)``, which listens on the keys of
``method_mapping``, or with ``Consumer.as_route(path=...)``, which can also give the class
other attributes for that route alone::

    ChatConsumer.as_route(attrs={"groups": ["lobby"]}, path=r"^/lobby/$")

A class whose ``method_mapping`` names a method it lacks is refused when it is routed, so the
mistake shows at start-up instead of on each of its messages, and a message on a channel the
class has no method for says which channels it has.
"""

from __future__ import annotations

from typing import Any

from .. import auth, sessions
from ..message import Message
from ..routing import Consumer, RouteClass


class BaseConsumer:
    """A consumer class: ``method_mapping`` maps channel names to method names, and each
    message runs its channel's method as ``method(message, **kwargs)`` on a new instance.

    The instance has ``message`` and ``kwargs`` (the route's keyword arguments). The flags
    wrap the method in the session decorators: ``channel_session`` in @channel_session,
    ``channel_session_user`` in @channel_session_user (which implies the session). Override
    ``get_handler`` to add decorators of your own.
    """

    #: ``{channel name: method name}``: the method that runs for each channel's messages.
    method_mapping: dict[str, str] = {}
    #: Gives the method ``message.channel_session``, the socket's session.
    channel_session: bool = False
    #: Gives it ``message.user`` too, the user logged in to that session.
    channel_session_user: bool = False

    def __init__(self, message: Message, **kwargs: Any) -> None:
        self.message = message
        self.kwargs = kwargs
        self.dispatch(message, **kwargs)

    @classmethod
    def channel_names(cls) -> set[str]:
        """The channels this class consumes: the keys of ``method_mapping``.

        ``route_class`` calls it, so a misconfigured class is refused (ValueError) when it
        is routed rather than when its messages come.
        """
        cls._check_class()
        return set(cls.method_mapping)

    @classmethod
    def as_route(cls, attrs: dict[str, Any] | None = None, **filters: Any) -> RouteClass:
        """``route_class(cls, **filters)``; with ``attrs``, the route is to a subclass made
        for it alone, with those class attributes. The subclass keeps the class's name, so
        logs show the class you wrote."""
        if attrs is not None and not isinstance(attrs, dict):
            raise TypeError(
                f"{cls.__qualname__}.as_route(attrs=...) takes a dict of class attributes, got "
                f"{attrs!r}; filters go in keyword arguments: as_route(path=r'^/chat/$')"
            )
        consumer = cls
        if attrs:
            namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__, **attrs}
            consumer = type(cls.__name__, (cls,), namespace)
        return RouteClass(consumer, **filters)

    @classmethod
    def _check_class(cls) -> None:
        """Raises ValueError, saying what to change, if the class cannot consume messages.
        Subclasses with more settings to check extend it (calling super())."""
        if not isinstance(cls.method_mapping, dict):
            raise ValueError(
                f"{cls.__qualname__}.method_mapping must be a dict of channel name to method "
                f"name, got {cls.method_mapping!r}"
            )
        for channel, name in cls.method_mapping.items():
            if not isinstance(name, str) or not callable(getattr(cls, name, None)):
                raise ValueError(
                    f"{cls.__qualname__}.method_mapping maps {channel!r} to {name!r}, which is "
                    f"not a method of {cls.__qualname__}; map it to the name of a method "
                    "taking (message, **kwargs)"
                )

    def get_handler(self, message: Message, **kwargs: Any) -> Consumer:
        """The bound method for ``message``'s channel, wrapped as the flags say.

        Raises ValueError for a channel ``method_mapping`` does not map (the class was routed
        with ``route()`` on another channel).
        """
        type(self)._check_class()
        channel = message.channel.name
        name = self.method_mapping.get(channel)
        if name is None:
            mapped = ", ".join(map(repr, sorted(self.method_mapping))) or "none"
            raise ValueError(
                f"{type(self).__qualname__} has no method for messages on {channel!r}; its "
                f"method_mapping has channels {mapped}. Route it with "
                f"route_class({type(self).__qualname__}), which listens on those only, or add "
                f"{channel!r} to method_mapping"
            )
        handler: Consumer = getattr(self, name)
        if self.channel_session_user:
            return auth.channel_session_user(handler)
        if self.channel_session:
            return sessions.channel_session(handler)
        return handler

    def dispatch(self, message: Message, **kwargs: Any) -> object:
        """Runs the handler of ``message`` with the route's keyword arguments; returns what
        it returns."""
        return self.get_handler(message, **kwargs)(message, **kwargs)

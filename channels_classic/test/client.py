"""``Client``: sends messages as a client would and runs their consumers in the test's thread
(``docs/testing.md``).

A consumer runs here as the worker runs it: between ``consumer_started`` and
``consumer_finished``, its sends buffered in an outbox and sent once it has returned, even if
it raised (``docs/guarantees.md``, "The outbox"). Two things differ on purpose: exceptions
reach the test instead of a log (``DenyConnection`` included), and database connections stay
open, since closing them would break the transaction a Django ``TestCase`` runs each test
in.

The routing is the layer's own, without the default routes a worker adds, as in 1.x: a
message no route matches fails the test instead of being accepted or dropped.
"""

from __future__ import annotations

import copy
import secrets
import string
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db import close_old_connections

from ..channel import Group
from ..exceptions import ChannelSocketException
from ..layers.facade import ClassicLayer
from ..layers.registry import DEFAULT_CHANNEL_LAYER, channel_layers
from ..message import Message
from ..signals import DB_CLOSING, consumer_finished, consumer_started
from ..worker import outbox

#: Random letters after the alias in a client's reply channel name (as in 1.x).
REPLY_CHANNEL_LETTERS = 5


def _next_message(layer: ClassicLayer, channel: str) -> Message | None:
    """The next message waiting on ``channel`` of ``layer``, or None if there is none."""
    received, content = layer.receive([channel])
    if received is None or content is None:
        return None
    return Message(content, received, layer)


@contextmanager
def _connections_left_open() -> Iterator[None]:
    """Takes ``close_old_connections`` off the consumer signals for the block, as Django's
    test client does around its requests: closing the connection would end the test's
    transaction."""
    removed = [signal for signal, uid in DB_CLOSING if signal.disconnect(dispatch_uid=uid)]
    try:
        yield
    finally:
        for signal, uid in DB_CLOSING:
            if signal in removed:
                signal.connect(close_old_connections, dispatch_uid=uid)


def _run_consumer(
    consumer: Callable[..., Any], message: Message, kwargs: Mapping[str, Any], sender: type
) -> Any:
    """Calls ``consumer(message, **kwargs)`` as the worker does and returns what it returned.

    A ``ChannelSocketException`` it raises is run on the message's socket (then None is
    returned); any other exception propagates, after the buffered sends went out.
    """
    with _connections_left_open():
        try:
            with outbox.collecting() as box:
                consumer_started.send(sender=sender, environ={})
                try:
                    return consumer(message, **kwargs)
                except ChannelSocketException as error:
                    error.run(message)
                    return None
                finally:
                    consumer_finished.send(sender=sender)
        finally:
            box.flush()


class Client:
    """A client with a reply channel of its own, on the layer of ``alias``.

    ``send`` puts messages on the layer with ``reply_channel`` set, ``consume`` takes the next
    message of a channel and runs its consumer, ``receive`` returns what consumers sent to
    the reply channel.
    """

    def __init__(self, alias: str = DEFAULT_CHANNEL_LAYER) -> None:
        self.alias = alias
        letters = (secrets.choice(string.ascii_letters) for _ in range(REPLY_CHANNEL_LETTERS))
        self.reply_channel = alias + "".join(letters)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.reply_channel!r}>"

    @property
    def channel_layer(self) -> ClassicLayer:
        """The layer of ``alias`` (looked up on each use, so a test's layer swap applies)."""
        return channel_layers[self.alias]

    def get_next_message(self, channel: str) -> Message | None:
        """The next message on ``channel``, or None if there is none."""
        return _next_message(self.channel_layer, channel)

    def get_consumer_by_channel(self, channel: str) -> Callable[..., Any] | None:
        """The consumer a message ``{"text": ""}`` on ``channel`` would run, or None."""
        match = self.channel_layer.router.match(Message({"text": ""}, channel, self.channel_layer))
        return None if match is None else match[0]

    def send(self, to: str, content: Mapping[str, Any] | None = None) -> None:
        """Sends a copy of ``content`` to channel ``to`` now, with ``reply_channel`` set to
        this client's unless ``content`` has one."""
        self.channel_layer.send(to, self._content(to, content))

    def _content(self, to: str, content: Mapping[str, Any] | None) -> dict[str, Any]:
        if content is None:
            content = {}
        if not isinstance(content, Mapping):
            raise TypeError(
                f"{type(self).__name__}.send() to {to!r} takes the message as a dict, got "
                f"{content!r}"
            )
        message = copy.deepcopy(dict(content))
        message.setdefault("reply_channel", self.reply_channel)
        return message

    def consume(self, channel: str, fail_on_none: bool = True) -> Any:
        """Takes the next message on ``channel`` and runs the consumer its route names, as a
        worker would (see the module docstring); returns what the consumer returned.

        With ``fail_on_none``, raises AssertionError when there is no message or no route
        matches it; otherwise returns None then (the unmatched message is gone, as from a
        worker).
        """
        message = self.get_next_message(channel)
        if message is None:
            if fail_on_none:
                raise AssertionError(
                    f"No message for channel {channel}: there is none on {channel!r} to "
                    "consume; send() one first, or pass fail_on_none=False"
                )
            return None
        match = self.channel_layer.router.match(message)
        if match is None:
            if fail_on_none:
                raise AssertionError(
                    f"Can't find consumer for message {message}: no route of channel layer "
                    f"{self.alias!r} matches the message on "
                    f"{channel!r} (keys: {', '.join(sorted(message.content))}); check its "
                    "routing (tests get no default routes) or use apply_routes()"
                )
            return None
        consumer, kwargs = match
        return _run_consumer(consumer, message, kwargs, type(self))

    def send_and_consume(
        self, channel: str, content: Mapping[str, Any] | None = None, fail_on_none: bool = True
    ) -> Any:
        """``send`` then ``consume`` on ``channel``; returns what the consumer returned."""
        self.send(channel, content)
        return self.consume(channel, fail_on_none=fail_on_none)

    def receive(self) -> Any:
        """The content of the next message on the reply channel, or None if there is none."""
        message = self.get_next_message(self.reply_channel)
        return None if message is None else message.content

    def join_group(self, group: str) -> None:
        """Adds the reply channel to ``group`` (on this client's layer)."""
        Group(group, alias=self.alias).add(self.reply_channel)

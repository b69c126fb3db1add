"""``Message``: what a consumer receives.

A thin wrapper over the message dict that knows where it came from: ``channel`` (the channel
it arrived on), ``channel_layer`` and ``reply_channel`` (from the ``reply_channel`` key).
Decorators attach ``channel_session``, ``http_session`` and ``user`` to it.

Also here, as in 1.x: ``pending_message_store``, the handle 1.x code has on the sends a
consumer buffers (they live in ``outbox``), and ``header_pairs``, which reads a message's
``headers`` in either of the shapes 1.x code sends.
"""

from __future__ import annotations

import copy
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any

from .channel import Channel, Group
from .worker import outbox

if TYPE_CHECKING:
    from .layers.facade import ClassicLayer


class Message:
    """A received message: dict-like access to ``content``, plus its channels."""

    def __init__(
        self, content: dict[str, Any], channel_name: str, channel_layer: ClassicLayer | None
    ) -> None:
        self.content = content
        self.channel_layer = channel_layer
        self.channel = Channel(channel_name, channel_layer=channel_layer)
        reply_channel = content.get("reply_channel")
        self.reply_channel = (
            Channel(reply_channel, channel_layer=channel_layer) if reply_channel else None
        )

    def __repr__(self) -> str:
        return f"<Message on {self.channel.name!r}>"

    def __getitem__(self, key: str) -> Any:
        return self.content[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.content[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self.content

    def __iter__(self) -> Iterator[str]:
        return iter(self.content)

    def keys(self) -> KeysView[str]:
        return self.content.keys()

    def values(self) -> ValuesView[Any]:
        return self.content.values()

    def items(self) -> ItemsView[str, Any]:
        return self.content.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self.content.get(key, default)

    def copy(self) -> Message:
        """A new Message with a deep copy of the content, on the same channel and layer."""
        return type(self)(copy.deepcopy(self.content), self.channel.name, self.channel_layer)

    def with_content(self, changes: Mapping[str, Any]) -> Message:
        """A new Message on the same channel and layer, its content this one's with
        ``changes`` on top (a shallow copy: the values not changed are shared)."""
        return type(self)({**self.content, **changes}, self.channel.name, self.channel_layer)


def header_pairs(headers: Any) -> list[tuple[bytes, bytes]]:
    """``headers`` as (lower-case name, value) byte pairs, in order. They may be what the
    interface server sends (a list of [name, value] byte pairs) or what 1.x test clients and
    older code send (a dict of name to value); names and values may be str (read as
    latin-1) or bytes. None is no headers; anything else raises ValueError."""
    if headers is None:
        return []
    entries = headers.items() if isinstance(headers, Mapping) else headers
    pairs = []
    try:
        for name, value in entries:
            pairs.append((_header_bytes(name).lower(), _header_bytes(value)))
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"headers must be a list of [name, value] pairs or a dict of name: value, with "
            f"str or bytes names and values; got {headers!r} ({error})"
        ) from None
    return pairs


def _header_bytes(part: Any) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        return part.encode("latin-1")
    raise TypeError(f"{part!r} is neither str nor bytes")


class PendingMessageStore:
    """1.x's handle on the sends a consumer buffers, one per thread (``pending_message_store``).

    ``active`` tells whether sends in this thread are buffered now (inside a consumer);
    ``append`` buffers one for a Channel or Group; ``send_and_flush`` sends what is buffered
    and makes later sends of the consumer go out at once; ``prepare`` starts buffering afresh.
    The worker buffers and flushes on its own: these are for code that did it by hand in 1.x.
    """

    @property
    def active(self) -> bool:
        return outbox.current() is not None

    def prepare(self, **kwargs: Any) -> None:
        """Buffers this thread's sends from now on, dropping what was buffered."""
        outbox.replace(outbox.Outbox())

    def append(self, sender: Channel | Group, message: dict[str, Any]) -> None:
        """Buffers ``message`` for ``sender``; RuntimeError outside a consumer (nothing is
        buffered there: send it)."""
        box = outbox.current()
        if box is None:
            raise RuntimeError(
                f"pending_message_store.append() for {sender!r} outside a consumer, where "
                "nothing is buffered: call send() on it, which sends at once"
            )
        box.add(sender.channel_layer, sender.name, message, group=isinstance(sender, Group))

    def send_and_flush(self, **kwargs: Any) -> None:
        """Sends what this thread buffered, in order; later sends go out at once."""
        box = outbox.replace(None)
        if box is not None:
            box.flush()


#: The store of every thread (each sees its own buffer).
pending_message_store = PendingMessageStore()

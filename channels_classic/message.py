"""``Message``: what a consumer receives (SPEC M1–M7).

A thin wrapper over the message dict that knows where it came from: ``channel`` (the channel
it arrived on), ``channel_layer`` and ``reply_channel`` (from the ``reply_channel`` key).
Decorators attach ``channel_session``, ``http_session`` and ``user`` to it.
"""

from __future__ import annotations

import copy
from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from typing import TYPE_CHECKING, Any

from .channel import Channel

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

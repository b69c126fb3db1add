"""``Channel`` and ``Group``: named destinations that 1.x consumers send to.

Inside a consumer, sends wait in the consumer's outbox until it finishes; elsewhere (views,
shells, scripts) they go out at once. Group membership changes always act at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .layers.registry import DEFAULT_CHANNEL_LAYER, channel_layers
from .names import classic_channel_name
from .worker import outbox

if TYPE_CHECKING:
    from .layers.facade import ClassicLayer


def _name(value: str | bytes | Channel) -> str:
    if isinstance(value, Channel):
        return value.name
    if isinstance(value, bytes):
        return value.decode("ascii")
    return value


class _Destination:
    def __init__(
        self,
        name: str | bytes,
        alias: str = DEFAULT_CHANNEL_LAYER,
        channel_layer: ClassicLayer | None = None,
    ) -> None:
        self.name = _name(name)
        self.alias = alias
        self._channel_layer = channel_layer

    @property
    def channel_layer(self) -> ClassicLayer:
        """The layer given, else the layer of ``alias`` from the settings."""
        return self._channel_layer or channel_layers[self.alias]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.name == self.name  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.name))


class Channel(_Destination):
    """A channel by name, on the layer of ``alias`` (or the ``channel_layer`` given). A 1.x
    single-reader name (``"name?suffix"``) becomes a valid one (``names``)."""

    def __init__(
        self,
        name: str | bytes,
        alias: str = DEFAULT_CHANNEL_LAYER,
        channel_layer: ClassicLayer | None = None,
    ) -> None:
        super().__init__(classic_channel_name(_name(name)), alias, channel_layer)

    def send(self, content: dict[str, Any], immediately: bool = False) -> None:
        """Sends ``content``: at the end of the current consumer, or now when
        ``immediately`` or outside consumers (then ChannelFull can be raised here)."""
        if not isinstance(content, dict):
            raise TypeError(
                "You can only send dicts as content on channels. Channel.send() got "
                f"{type(content).__name__} for {self.name!r}"
            )
        box = outbox.current()
        if box is None or immediately:
            self.channel_layer.send(self.name, content)
        else:
            box.add(self.channel_layer, self.name, content, group=False)


class Group(_Destination):
    """A group by name; ``send`` reaches every member channel."""

    def add(self, channel: str | bytes | Channel) -> None:
        """Adds ``channel`` now (never buffered, so a later send in this consumer reaches it)."""
        self.channel_layer.group_add(self.name, _name(channel))

    def discard(self, channel: str | bytes | Channel) -> None:
        """Removes ``channel`` now; nothing happens if it was not a member."""
        self.channel_layer.group_discard(self.name, _name(channel))

    def send(self, content: dict[str, Any], immediately: bool = False) -> None:
        """Sends ``content`` to every member, buffered like ``Channel.send``. Full members are
        skipped. A non-dict raises ValueError (as in 1.x, where Channel raised TypeError)."""
        if not isinstance(content, dict):
            raise ValueError(
                "You can only send dicts as content on channels. Group.send() got "
                f"{type(content).__name__} for {self.name!r}"
            )
        box = outbox.current()
        if box is None or immediately:
            self.channel_layer.send_group(self.name, content)
        else:
            box.add(self.channel_layer, self.name, content, group=True)

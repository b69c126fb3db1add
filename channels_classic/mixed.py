"""Mixed mode: Channels 4 consumers in the same ASGI application as the classic routes, on
the same layer, in the same groups (``docs/mixed-mode.md`` is the guide).

Channels 4 finds its layer with ``channels.layers.get_channel_layer(alias)``, which would
read ``CHANNEL_LAYERS`` itself and refuse its ``ROUTING`` key. So, when Django is ready (and
again whenever ``CHANNEL_LAYERS`` changes), ``share_layers`` puts a ``Channels4Layer`` for
each alias of ours into Channels 4's registry (its ``channel_layers.set()``, the supported
way to give it a layer): Channels 4 consumers, ``channels.testing`` and code calling
``get_channel_layer()`` then use this library's backend of the alias, whatever it is now
(tests swap layers in).

Messages cross between the two worlds like this:

- Classic to Channels 4. A classic message has no ``type`` (``Group("room").send({"text":
  "hi"})``), and Channels 4 dispatches on ``type``: a message without one reaches a
  Channels 4 consumer as ``{"type": "classic.message", **message}``, handled by a
  ``classic_message`` method. The ``ClassicMessages`` mixin gives WebSocket consumers
  (sync or async) one that does what a classic reply does: sends ``text`` or ``bytes``,
  then closes if ``close`` says so.
- Channels 4 to classic. A message with a ``type`` reaching a classic socket's reply
  channel (a ``group_send`` to a group classic sockets are in) is a reply: its
  ``text``, ``bytes``, ``close`` and ``accept`` are carried out and its other keys are
  ignored (``interface.replies``). To reach both kinds of member, put the frame in
  ``text``: ``group_send("room", {"type": "chat.message", "text": frame})``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from django.conf import settings

from .layers.capabilities import ChannelLayer
from .layers.registry import channel_layers

#: The ``type`` a classic (typeless) message gets on its way to a Channels 4 consumer.
CLASSIC_MESSAGE_TYPE = "classic.message"


class Channels4Layer:
    """Stands for one alias of ours in Channels 4's registry: every attribute is that of the
    backend this library holds for the alias now, and ``receive`` gives typeless messages
    CLASSIC_MESSAGE_TYPE."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def __repr__(self) -> str:
        return f"<Channels4Layer {self.alias!r}: {self._backend()!r}>"

    def _backend(self) -> ChannelLayer:
        return channel_layers[self.alias].channel_layer

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._backend(), name)

    async def receive(self, channel: str) -> dict[str, Any]:
        message: dict[str, Any] = await self._backend().receive(channel)
        if "type" not in message:
            return {"type": CLASSIC_MESSAGE_TYPE, **message}
        return message


def share_layers(**kwargs: Any) -> None:
    """Puts a Channels4Layer for each alias of CHANNEL_LAYERS into Channels 4's registry
    (connected to ``setting_changed``: only a change of CHANNEL_LAYERS does anything)."""
    if kwargs.get("setting", "CHANNEL_LAYERS") != "CHANNEL_LAYERS":
        return
    from channels.layers import channel_layers as channels4_layers

    for alias in getattr(settings, "CHANNEL_LAYERS", None) or {}:
        channels4_layers.set(alias, Channels4Layer(alias))


class ClassicMessages:
    """For Channels 4 WebSocket consumers, sync or async: a classic message, from a group
    shared with classic consumers, is sent to the client as a classic reply channel would
    (its ``text`` or ``bytes``, then its ``close``: True or a close code)."""

    def classic_message(self, message: dict[str, Any]) -> Any:
        consumer: Any = self  # a Channels 4 WebSocket consumer, with send() and close()
        steps: list[Callable[[], Any]] = []
        if "text" in message:
            steps.append(functools.partial(consumer.send, text_data=message["text"]))
        elif "bytes" in message:
            steps.append(functools.partial(consumer.send, bytes_data=message["bytes"]))
        close = message.get("close", False)
        if close:
            steps.append(functools.partial(consumer.close, None if close is True else close))
        if inspect.iscoroutinefunction(consumer.send):
            return _in_turn(steps)  # an async consumer awaits what its handler returns
        for step in steps:
            step()
        return None


async def _in_turn(steps: list[Callable[[], Any]]) -> None:
    for step in steps:
        await step()

"""A room's live socket, ``/live/<room>/``: the room's topic, kept in step across browsers by
data binding, over one demultiplexed socket beside the chat socket.

Frames are ``{"stream": name, "payload": {...}}``, on two streams:

- ``snapshot``: the topic as it is now (``{"topic", "set_by", "updated_at"}``; empty for a
  room whose topic was never set), sent when the socket connects and again in answer to any
  frame on the stream: bindings send changes only, so a client that reconnects asks again.
- ``topic``: every change of the room's topic, as ``RoomTopicBinding`` sends it
  (``{"action", "pk", "data", "model"}``), and edits from the page:
  ``{"action": "update", "pk": room, "data": {"topic": "..."}}``. Only logged-in users may
  edit, and only their room's topic; a refused or invalid edit (``data`` that is not an
  object included) is answered ``{"error": ...}`` on this stream.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from channels_classic.binding import WebsocketBinding
from channels_classic.generic import WebsocketDemultiplexer, WebsocketMultiplexer
from channels_classic.message import Message
from channels_classic.routing import Consumer
from channels_classic.security import allowed_hosts_only

from .models import RoomTopic
from .rooms import ROOM_NAME

#: The path of a room's live socket.
LIVE_PATH = rf"^/live/{ROOM_NAME}/$"


def live_group(room: str) -> str:
    return f"live-{room}"


class RoomTopicBinding(WebsocketBinding):
    """Sends each change of a room's topic to the room's live sockets; takes topic edits from
    logged-in users in the room, and stamps them with the user's name."""

    model = RoomTopic
    stream = "topic"
    fields = ["topic", "set_by", "updated_at"]

    @classmethod
    def group_names(cls, instance: RoomTopic) -> list[str]:
        return [live_group(instance.room)]

    def has_permission(self, user: Any, action: str, pk: Any) -> bool:
        return user.is_authenticated and action == "update" and pk == self.kwargs["room"]

    def permission_denied(self, action: str, pk: Any) -> None:
        if not self.user.is_authenticated:
            self.refuse("log in to change the topic")
        elif action != "update":
            self.refuse(f"topics are updated, not {action}d")
        else:
            self.refuse("you can change the topic of your own room only")

    def update(self, pk: Any, data: Any) -> None:
        if not isinstance(data, dict):
            self.refuse('send the fields to change as an object, e.g. {"topic": "..."}')
            return
        data = {**data, "set_by": self.user.username}  # who set it is for the server to say
        try:
            self._set_topic(pk, data)
        except ValidationError as error:
            self.refuse(" ".join(error.messages))

    def _set_topic(self, pk: Any, data: dict[str, Any]) -> None:
        """Updates the room's row, or creates it: a room has none until its topic is first
        set. Of two first edits at once, the one that finds the row made by the other as it
        creates its own (a failed check or insert) updates that row instead."""
        if RoomTopic.objects.filter(room=pk).exists():
            super().update(pk, data)
            return
        try:
            with transaction.atomic():
                super().create(data)
        except (IntegrityError, ValidationError):
            if not RoomTopic.objects.filter(room=pk).exists():
                raise
            super().update(pk, data)

    def refuse(self, error: str) -> None:
        """Tells the client on the topic stream why its edit was not made."""
        multiplexer: WebsocketMultiplexer = self.kwargs["multiplexer"]
        multiplexer.send({"error": error})


def topic_data(room: str) -> dict[str, Any]:
    """The room's topic as the topic stream sends it (empty if it was never set)."""
    row = RoomTopic.objects.filter(room=room).first() or RoomTopic(room=room)
    return RoomTopicBinding().serialize_data(row)


def snapshot(message: Message, multiplexer: WebsocketMultiplexer, room: str) -> None:
    """Answers the socket's connect, and every frame on its stream, with the topic now."""
    if message.channel.name != "websocket.disconnect":
        multiplexer.send(topic_data(room))


class RoomLive(WebsocketDemultiplexer):
    """The live socket of a room: in the room's live group while connected, logged in as the
    page's user (for topic edits), and refused to pages from other origins."""

    http_user = True
    consumers = {"snapshot": snapshot, "topic": RoomTopicBinding.consumer}

    def connection_groups(self, room: str, **kwargs: Any) -> list[str]:
        return [live_group(room)]

    def get_handler(self, message: Message, **kwargs: Any) -> Consumer:
        handler = super().get_handler(message, **kwargs)
        if message.channel.name == "websocket.connect":
            # The socket acts as the visitor: another site's page must not open it.
            return allowed_hosts_only(handler)
        return handler

"""A Channels 4 consumer and classic consumers sharing the group ``mixed-room``, for the
mixed-mode tests (``tests/support/e2e/mixed_asgi.py`` serves them)."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer

from channels_classic import Group
from channels_classic.mixed import ClassicMessages
from channels_classic.routing import route

ROOM = "mixed-room"


class ModernChat(ClassicMessages, AsyncWebsocketConsumer):
    """Joins the room; what its client says goes to the room as a Channels 4 event whose
    ``text`` is the frame, which classic sockets in the room get too."""

    async def connect(self):
        await self.channel_layer.group_add(ROOM, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(ROOM, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send(
            ROOM, {"type": "chat.message", "text": f"modern: {text_data}", "sender": "v4"}
        )

    async def chat_message(self, event):
        await self.send(text_data=event["text"])


def classic_connect(message):
    Group(ROOM).add(message.reply_channel)
    message.reply_channel.send({"accept": True})


def classic_receive(message):
    Group(ROOM).send({"text": f"classic: {message['text']}"})


def classic_disconnect(message):
    Group(ROOM).discard(message.reply_channel)


channel_routing = [
    route("websocket.connect", classic_connect, path=r"^/classic/"),
    route("websocket.receive", classic_receive, path=r"^/classic/"),
    route("websocket.disconnect", classic_disconnect, path=r"^/classic/"),
]

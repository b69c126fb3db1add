"""The demo's consumers: plain functions, run by ``manage.py runworker``."""

from __future__ import annotations

from .models import Presence
from .rooms import announce, frame, group, nickname, now, parse_chat_frame


def websocket_receive(message):
    """Echoes each text frame of a /chat/ socket back to it."""
    text = message.content.get("text")
    if text:
        message.reply_channel.send({"text": f"You said: {text}"})


def room_connect(message, room):
    """Accepts the socket, puts it in the room's group and tells the room."""
    name = nickname(message)
    Presence.objects.update_or_create(
        reply_channel=message.reply_channel.name, defaults={"room": room, "name": name}
    )
    group(room).add(message.reply_channel)
    message.reply_channel.send({"accept": True})
    announce(room, "join", name)


def room_receive(message, room):
    """Broadcasts a chat message to the room; a bad frame gets an error frame back."""
    try:
        text = parse_chat_frame(message.content.get("text"))
    except ValueError as error:
        message.reply_channel.send(frame(type="error", error=str(error)))
        return
    presence = Presence.objects.filter(reply_channel=message.reply_channel.name).first()
    name = presence.name if presence else nickname(message)
    group(room).send(frame(type="message", user=name, text=text, ts=now()))


def room_disconnect(message, room):
    """Takes the socket out of the room and tells the others."""
    group(room).discard(message.reply_channel)
    presence = Presence.objects.filter(reply_channel=message.reply_channel.name).first()
    if presence is not None:
        presence.delete()
        announce(room, "leave", presence.name)

"""The demo's consumers: plain functions, run by ``manage.py runworker``.

Room sockets carry the user of the Django session whose cookie came with the handshake;
anyone may read a room, only logged-in users may post. Pages on other origins cannot open
room sockets with a visitor's cookies (cross-site WebSocket hijacking): 403. A socket whose
path names no valid room is told so and closed.
"""

from __future__ import annotations

from channels_classic.auth import channel_session_user, channel_session_user_from_http
from channels_classic.security import allowed_hosts_only

from .models import Presence
from .rooms import (
    BAD_ROOM_CLOSE_CODE,
    announce,
    bad_room_name,
    frame,
    group,
    history,
    parse_chat_frame,
    post,
)


def websocket_receive(message):
    """Echoes each text frame of a /chat/ socket back to it."""
    text = message.content.get("text")
    if text:
        message.reply_channel.send({"text": f"You said: {text}"})


@allowed_hosts_only
@channel_session_user_from_http
def room_connect(message, room):
    """Accepts the socket, sends it the room's last messages, puts it in the room's group and
    tells the room."""
    name = message.user.username if message.user.is_authenticated else ""
    Presence.objects.update_or_create(
        reply_channel=message.reply_channel.name, defaults={"room": room, "name": name}
    )
    group(room).add(message.reply_channel)
    message.reply_channel.send({"accept": True})
    message.reply_channel.send(history(room))
    announce(room, "join", name)


def bad_room_connect(message, name):
    """Tells a socket whose path names no valid room what is wrong, and closes it."""
    error = frame(type="error", error=bad_room_name(name))
    message.reply_channel.send({**error, "close": BAD_ROOM_CLOSE_CODE})


@channel_session_user
def room_receive(message, room):
    """Keeps and broadcasts a chat message from a logged-in user; anything else gets an
    error frame."""
    if not message.user.is_authenticated:
        message.reply_channel.send(frame(type="error", error="log in to post in this room"))
        return
    try:
        text = parse_chat_frame(message.content.get("text"))
    except ValueError as error:
        message.reply_channel.send(frame(type="error", error=str(error)))
        return
    group(room).send(post(room, message.user.username, text))


@channel_session_user
def room_disconnect(message, room):
    """Takes the socket out of the room and tells the others."""
    group(room).discard(message.reply_channel)
    Presence.objects.filter(reply_channel=message.reply_channel.name).delete()
    announce(room, "leave", message.user.username if message.user.is_authenticated else "")

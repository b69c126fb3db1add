"""Chat rooms: what the room consumers say, and who is where.

Every frame a room sends is a JSON object with a ``type``: ``history`` (``messages``: the
room's last HISTORY_LENGTH messages, oldest first, sent once to a socket that joins),
``message`` (``user``, ``text``, ``ts``), ``join`` and ``leave`` (``user``, ``ts``),
``presence`` (``users``: the logged-in members, ``guests``: how many anonymous readers), or
``error`` (``error``: what was wrong with the frame the client sent, or with the room's name,
in which case the socket is closed with BAD_ROOM_CLOSE_CODE). ``ts`` is an ISO 8601 time in
UTC.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Max
from django.utils import timezone

from channels_classic import Group

from .models import ChatMessage, Presence

#: What a room's name may be, as a regular expression that reads the same to Python and to
#: browsers (an HTML ``pattern`` is compiled with JavaScript's ``v`` flag, under which a
#: ``-`` in a class must be escaped, or the pattern is invalid and checks nothing).
ROOM_NAME_PATTERN = r"[A-Za-z0-9_\-]{1,50}"
#: The same rule, in words.
ROOM_NAME_RULE = "1 to 50 letters, digits, - or _"
#: A room's name in socket paths; the named group is the room.
ROOM_NAME = rf"(?P<room>{ROOM_NAME_PATTERN})"
#: The path of a room's chat socket (and of its page).
ROOM_PATH = rf"^/rooms/{ROOM_NAME}/$"
#: A room socket's path whose name is not a room's (tried after ROOM_PATH and LIVE_PATH).
BAD_ROOM_PATH = r"^/(?:rooms|live)/(?P<name>.*?)/?$"
#: The close code of a socket whose room name is not one (the application's own range
#: 4000-4999: 4000 + HTTP's 400).
BAD_ROOM_CLOSE_CODE = 4400
#: How many of a room's last messages a joining socket is sent.
HISTORY_LENGTH = 50
#: How many rooms the front page lists.
ACTIVE_ROOMS_LISTED = 20
#: The most UTF-8 bytes of text one chat message may carry.
MAX_TEXT_BYTES = 4096
#: Frames over this many UTF-8 bytes are refused before they are parsed: room for a text of
#: MAX_TEXT_BYTES with any ordinary JSON escaping.
MAX_FRAME_BYTES = 4 * MAX_TEXT_BYTES


def group(room: str) -> Group:
    return Group(f"room-{room}")


def stamp(moment: datetime) -> str:
    """``moment`` as frames carry it: ISO 8601 in UTC, to the millisecond."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def now() -> str:
    return stamp(timezone.now())


def is_room_name(name: str) -> bool:
    return re.fullmatch(ROOM_NAME_PATTERN, name) is not None


def bad_room_name(name: str) -> str:
    """What is wrong with ``name``, which is not a room's, and what a name may be."""
    return f"{json.dumps(name, ensure_ascii=False)} is not a room name: use {ROOM_NAME_RULE}"


def frame(**content: Any) -> dict[str, str]:
    """A reply message carrying ``content`` as a JSON text frame."""
    return {"text": json.dumps(content)}


def presence(room: str) -> dict[str, str]:
    """Who is in the room: the sockets recorded there, up to the layer's group expiry."""
    max_age = group(room).channel_layer.group_expiry
    rows = Presence.objects.current(max_age).filter(room=room)
    names = list(rows.values_list("name", flat=True))
    users = sorted({name for name in names if name})
    return frame(type="presence", users=users, guests=names.count(""))


def announce(room: str, kind: str, name: str) -> None:
    """Tells the room who joined or left (guests silently) and who is there now."""
    if name:
        group(room).send(frame(type=kind, user=name, ts=now()))
    group(room).send(presence(room))


def message_fields(message: ChatMessage) -> dict[str, str]:
    """A stored message as frames carry it."""
    return {"user": message.author, "text": message.text, "ts": stamp(message.sent_at)}


def post(room: str, author: str, text: str) -> dict[str, str]:
    """Keeps a message in the room's history; returns the frame that tells the room."""
    message = ChatMessage.objects.create(room=room, author=author, text=text)
    return frame(type="message", **message_fields(message))


def history(room: str) -> dict[str, str]:
    """The room's last HISTORY_LENGTH messages, oldest first, as one frame."""
    latest = ChatMessage.objects.filter(room=room).order_by("-sent_at", "-id")[:HISTORY_LENGTH]
    return frame(type="history", messages=[message_fields(m) for m in reversed(latest)])


def active_rooms() -> list[dict[str, Any]]:
    """The rooms people have posted in, the most recent first: ``room``, ``messages`` (how
    many are kept), ``last`` (when the last was sent)."""
    rooms = ChatMessage.objects.values("room").annotate(messages=Count("id"), last=Max("sent_at"))
    return list(rooms.order_by("-last")[:ACTIVE_ROOMS_LISTED])


def parse_chat_frame(text: str | None) -> str:
    """The text of a chat frame ``{"text": "..."}``; ValueError saying what is wrong."""
    if text is None:
        raise ValueError("send text frames: binary frames are not chat messages")
    if len(text) > MAX_FRAME_BYTES or len(text.encode()) > MAX_FRAME_BYTES:
        raise ValueError(f"the frame is larger than {MAX_FRAME_BYTES} bytes")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError('frames must be JSON like {"text": "hello"}') from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ValueError('frames need a "text" field holding a string')
    if not data["text"].strip():
        raise ValueError("the text is empty")
    if len(data["text"].encode(errors="surrogatepass")) > MAX_TEXT_BYTES:
        raise ValueError(f"the text is longer than {MAX_TEXT_BYTES} bytes (UTF-8)")
    return data["text"]

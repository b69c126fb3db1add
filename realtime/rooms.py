"""Chat rooms: what the room consumers say, and who is where.

Every frame a room sends is a JSON object with a ``type``: ``message`` (``user``, ``text``,
``ts``), ``join`` and ``leave`` (``user``, ``ts``), ``presence`` (``users``: the logged-in
members, ``guests``: how many anonymous readers), or ``error`` (``error``: what was wrong
with the frame the client sent).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from channels_classic import Group

from .models import Presence

#: A room's name in socket paths; the named group is the room.
ROOM_NAME = r"(?P<room>[A-Za-z0-9_-]{1,50})"
#: The path of a room's chat socket.
ROOM_PATH = rf"^/rooms/{ROOM_NAME}/$"
#: The most UTF-8 bytes of text one chat message may carry.
MAX_TEXT_BYTES = 4096
#: Frames over this many UTF-8 bytes are refused before they are parsed: room for a text of
#: MAX_TEXT_BYTES with any ordinary JSON escaping.
MAX_FRAME_BYTES = 4 * MAX_TEXT_BYTES


def group(room: str) -> Group:
    return Group(f"room-{room}")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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

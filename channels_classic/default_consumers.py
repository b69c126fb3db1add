"""The consumers ``Router.check_default()`` routes after the user's routes.

The interface server needs ``websocket.connect`` and ``websocket.receive`` to be consumed:
an unanswered connect keeps the handshake waiting until it times out, and a receive channel
that fills up holds every socket's frames and in the end closes sockets. So, as in 1.x, a
socket that no user route claims is accepted and its frames and disconnect are taken off the
layer and dropped; un-routed HTTP goes to Django's views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .message import Message


def connect_consumer(message: Message) -> None:
    """Accepts the socket of a ``websocket.connect`` no user route matched."""
    if message.reply_channel is None:
        raise ValueError(
            f"Cannot accept the socket of {message!r}: it has no reply_channel (keys: "
            f"{sorted(message.content)}); only the interface server's websocket.connect "
            "messages can be accepted"
        )
    message.reply_channel.send({"accept": True})


def null_consumer(message: Message) -> None:
    """Does nothing: taking an un-routed ``websocket.receive`` or ``websocket.disconnect``
    off its channel is the whole point, so it never fills up."""

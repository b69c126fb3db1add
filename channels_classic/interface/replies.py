"""Reply messages (what consumers send to a reply channel) → ASGI events, in one place.

WebSocket replies have ``accept``, ``text``, ``bytes`` and ``close`` keys
(``docs/messages.md``, "Replies to a socket"); data implies accept; ``close`` is True (1000)
or a code. A message with a ``type`` is one Channels 4 code sent (mixed mode,
``docs/mixed-mode.md``): its reply keys are carried out, its others ignored. An empty frame is
still a frame (protocols use them), and every close code RFC 6455 lets a server send works,
while others are refused with an error saying which are valid.
"""

from __future__ import annotations

from typing import Any

from .. import close_codes
from ..exceptions import InvalidReply

WEBSOCKET_REPLY_KEYS = frozenset({"accept", "text", "bytes", "close"})


def close_code(value: Any) -> int | None:
    """The close code a reply's ``close`` value asks for (None: no close); InvalidReply,
    saying which codes are valid, for a value that is none."""
    try:
        return close_codes.close_code(value)
    except ValueError as error:
        raise InvalidReply(str(error)) from None


def check_websocket_reply(reply: Any) -> None:
    """Raises InvalidReply, saying what is wrong, unless ``reply`` is a valid reply."""
    if not isinstance(reply, dict):
        raise InvalidReply(f"a WebSocket reply must be a dict, got {type(reply).__name__}")
    unknown = set(reply) - WEBSOCKET_REPLY_KEYS
    if unknown:
        raise InvalidReply(
            f"unknown keys {sorted(unknown)} in WebSocket reply; the keys are accept, text, "
            "bytes and close"
        )
    if "text" in reply and "bytes" in reply:
        raise InvalidReply("a WebSocket reply has either 'text' or 'bytes', not both")
    if "text" in reply and not isinstance(reply["text"], str):
        raise InvalidReply(f"'text' must be a str, got {type(reply['text']).__name__}")
    if "bytes" in reply and not isinstance(reply["bytes"], bytes):
        raise InvalidReply(f"'bytes' must be bytes, got {type(reply['bytes']).__name__}")
    if "accept" in reply and not isinstance(reply["accept"], bool):
        raise InvalidReply(f"'accept' must be True or False, got {reply['accept']!r}")
    close_code(reply.get("close"))


def classic_reply(reply: Any) -> Any:
    """``reply`` with only the reply keys if it has a ``type`` (a Channels 4 message, say a
    ``group_send`` to a group classic sockets are in); InvalidReply if it then has none."""
    if not isinstance(reply, dict) or "type" not in reply:
        return reply
    kept = {key: value for key, value in reply.items() if key in WEBSOCKET_REPLY_KEYS}
    if not kept:
        raise InvalidReply(
            f"a message of type {reply['type']!r} reached a classic socket with none of the "
            "keys it acts on (accept, text, bytes, close): put the frame in 'text' or 'bytes' "
            "to reach classic sockets too"
        )
    return kept


def websocket_events(
    reply: dict[str, Any], *, connecting: bool, subprotocol: str | None = None
) -> list[dict[str, Any]]:
    """The ASGI events that carry out ``reply``: accept, frame, close, in that order.

    While connecting, ``accept: False`` or a bare ``close`` rejects the handshake (one close
    event); data implies accept. Once open, ``accept`` is ignored.
    """
    reply = classic_reply(reply)
    check_websocket_reply(reply)
    code = close_code(reply.get("close"))
    has_frame = "text" in reply or "bytes" in reply
    events: list[dict[str, Any]] = []
    if connecting:
        if reply.get("accept") is False or (code is not None and not has_frame):
            return [{"type": "websocket.close", "code": code or close_codes.WS_1000_NORMAL_CLOSURE}]
        if not reply.get("accept") and not has_frame:
            return []
        events.append({"type": "websocket.accept", "subprotocol": subprotocol})
    if "text" in reply:
        events.append({"type": "websocket.send", "text": reply["text"]})
    elif "bytes" in reply:
        events.append({"type": "websocket.send", "bytes": reply["bytes"]})
    if code is not None:
        events.append({"type": "websocket.close", "code": code})
    return events


HTTP_FIRST_KEYS = frozenset({"status", "headers", "content", "more_content"})
HTTP_LATER_KEYS = frozenset({"content", "more_content"})


def _http_headers(headers: Any) -> list[tuple[bytes, bytes]]:
    if not isinstance(headers, (list, tuple)):
        raise InvalidReply(f"'headers' must be a list of [name, value] pairs, got {headers!r}")
    pairs = []
    for header in headers:
        if (
            not isinstance(header, (list, tuple))
            or len(header) != 2
            or not all(isinstance(part, bytes) for part in header)
        ):
            raise InvalidReply(f"each header must be a [name, value] pair of bytes, got {header!r}")
        pairs.append((header[0], header[1]))
    return pairs


def http_events(reply: Any, *, started: bool) -> list[dict[str, Any]]:
    """The ASGI events that carry out one HTTP response message (``docs/messages.md``,
    "Response messages").

    The first message of a response must have ``status``; later ones must not. The response
    ends with the first message whose ``more_content`` is false.
    """
    if not isinstance(reply, dict):
        raise InvalidReply(f"an HTTP response message must be a dict, got {type(reply).__name__}")
    allowed = HTTP_LATER_KEYS if started else HTTP_FIRST_KEYS
    unknown = set(reply) - allowed
    if unknown:
        raise InvalidReply(
            f"unexpected keys {sorted(unknown)} in an HTTP response message"
            + ("; status and headers belong in the first message only" if started else "")
            + f"; the keys are {', '.join(sorted(allowed))}"
        )
    content = reply.get("content", b"")
    if not isinstance(content, bytes):
        raise InvalidReply(f"'content' must be bytes, got {type(content).__name__}")
    more = reply.get("more_content", False)
    if not isinstance(more, bool):
        raise InvalidReply(f"'more_content' must be True or False, got {more!r}")
    events: list[dict[str, Any]] = []
    if not started:
        status = reply.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise InvalidReply(
                f"the first HTTP response message needs an int 'status' (100-599), got {status!r}"
            )
        events.append(
            {
                "type": "http.response.start",
                "status": status,
                "headers": _http_headers(reply.get("headers", [])),
            }
        )
    events.append({"type": "http.response.body", "body": content, "more_body": more})
    return events

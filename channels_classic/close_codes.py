"""WebSocket close codes: the ones the server sends, and which a consumer may ask for.

A leaf module (it imports nothing of the library), so that the exceptions, the generic
consumers and the interface server all check close codes by the same rules.
"""

from __future__ import annotations

from typing import Any

WS_1000_NORMAL_CLOSURE = 1000
#: The server is shutting down (SIGTERM): the client may reconnect to another one.
WS_1001_GOING_AWAY = 1001
WS_1006_ABNORMAL_CLOSURE = 1006
#: The client does not read what is sent to it: its unsent output passed the limit.
WS_1008_POLICY_VIOLATION = 1008
WS_1011_INTERNAL_ERROR = 1011
#: The channel layer came back without its data (groups are gone): reconnect and rejoin.
WS_1012_SERVICE_RESTART = 1012
#: The socket's frames waited longer than the hold timeout to get onto the layer.
WS_1013_TRY_AGAIN_LATER = 1013

#: The close codes a server may send (RFC 6455 section 7.4 and the IANA registry): 1004-1006
#: and 1015 are reserved for reporting, never sent.
SERVER_CLOSE_CODES = (range(1000, 1004), range(1007, 1015), range(3000, 5000))
#: The codes autobahn's ``sendClose`` takes (the rule for browsers' close() calls).
AUTOBAHN_CLOSE_CODES = (range(1000, 1001), range(3000, 5000))


def in_ranges(code: int, ranges: tuple[range, ...]) -> bool:
    return any(code in allowed for allowed in ranges)


def describe(ranges: tuple[range, ...]) -> str:
    """``ranges`` for an error message, e.g. '1000-1003, 1007-1014 or 3000-4999'."""
    parts = [f"{r.start}-{r.stop - 1}" if len(r) > 1 else str(r.start) for r in ranges]
    return f"{', '.join(parts[:-1])} or {parts[-1]}" if len(parts) > 1 else parts[0]


def is_valid_close_code(code: int) -> bool:
    """True for the codes a server may send in a close frame."""
    return in_ranges(code, SERVER_CLOSE_CODES)


def close_code(value: Any) -> int | None:
    """The close code a reply's ``close`` value asks for: None for no close, 1000 for True.
    ValueError, saying which codes are valid, for anything else."""
    if value is False or value is None:
        return None
    if value is True:
        return WS_1000_NORMAL_CLOSURE
    if isinstance(value, int) and is_valid_close_code(value):
        return value
    raise ValueError(
        f"'close' must be True or a close code ({describe(SERVER_CLOSE_CODES)}), got {value!r}"
    )

"""The WebSocket close codes and HTTP answers the interface server uses, in one place."""

from __future__ import annotations

WS_1000_NORMAL_CLOSURE = 1000
WS_1006_ABNORMAL_CLOSURE = 1006
WS_1011_INTERNAL_ERROR = 1011
WS_1013_TRY_AGAIN_LATER = 1013

#: The close codes a server may send (RFC 6455 section 7.4 and the IANA registry): 1004-1006
#: and 1015 are reserved for reporting, never sent.
SERVER_CLOSE_CODES = (range(1000, 1004), range(1007, 1015), range(3000, 5000))
#: The codes autobahn's ``sendClose`` takes (the rule for browsers' close() calls).
AUTOBAHN_CLOSE_CODES = (range(1000, 1001), range(3000, 5000))

#: The handshake answer when websocket.connect is at capacity (SPEC WS17), as daphne 1.x gave.
HTTP_503_SERVICE_UNAVAILABLE = 503
CONNECTION_QUEUE_FULL = "Connection queue at capacity"


def in_ranges(code: int, ranges: tuple[range, ...]) -> bool:
    return any(code in allowed for allowed in ranges)


def describe(ranges: tuple[range, ...]) -> str:
    """``ranges`` for an error message, e.g. '1000-1003, 1007-1014 or 3000-4999'."""
    parts = [f"{r.start}-{r.stop - 1}" if len(r) > 1 else str(r.start) for r in ranges]
    return f"{', '.join(parts[:-1])} or {parts[-1]}" if len(parts) > 1 else parts[0]

"""The WebSocket close codes and HTTP answers the interface server uses, in one place."""

from __future__ import annotations

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

#: The handshake answer when websocket.connect is at capacity, as daphne 1.x gave.
HTTP_503_SERVICE_UNAVAILABLE = 503
CONNECTION_QUEUE_FULL = "Connection queue at capacity"
#: What a handshake or a request is told when the layer cannot be reached.
LAYER_UNAVAILABLE = (
    "The channel layer is unavailable (its Redis cannot be reached); try again shortly."
)
#: What a handshake or a new request is told while the server shuts down.
SHUTTING_DOWN = "This server is shutting down; try again (another server will answer)."
#: What a request is told when http.request is at capacity.
SERVER_BUSY = "The server is too busy to take this request; try again."


def in_ranges(code: int, ranges: tuple[range, ...]) -> bool:
    return any(code in allowed for allowed in ranges)


def describe(ranges: tuple[range, ...]) -> str:
    """``ranges`` for an error message, e.g. '1000-1003, 1007-1014 or 3000-4999'."""
    parts = [f"{r.start}-{r.stop - 1}" if len(r) > 1 else str(r.start) for r in ranges]
    return f"{', '.join(parts[:-1])} or {parts[-1]}" if len(parts) > 1 else parts[0]

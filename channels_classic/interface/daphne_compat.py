"""Fixes to daphne 4's WebSocket protocol, applied when the interface app starts.

- Close codes: daphne hands them to autobahn's ``sendClose``, which only takes 1000 and
  3000–4999 (the rule for browsers), so a server could not close with 1001 "going away",
  1011 "internal error" or 1013 "try again later" (SPEC Q7). Other codes go through
  autobahn's lower-level ``sendCloseFrame``, as daphne's own error path does.
- Empty frames: daphne drops ``websocket.send`` events whose text or bytes are empty, so
  they never reached the client (Q6). They are sent.
- The accept timeout: daphne's ``--websocket_connect_timeout`` (default 5 s) drives both
  autobahn's opening-handshake timer, which drops the TCP connection, and daphne's own
  periodic check, which refuses with 403; either cut a socket off while its connect consumer
  was still deciding, whatever CHANNELS_WEBSOCKET_ACCEPT_TIMEOUT said (Q9, WS12). While the
  application is running and has not answered the handshake, both now leave it to the
  application, which answers when its own timeout passes. If the application has ended
  without answering, daphne's rules apply as before.
- Replies are written at once: autobahn leaves a frame in Twisted's buffer until the
  reactor's next turn, behind whatever else the event loop has queued (such as the layer's
  listener re-arming); ``websocket.send`` now flushes it to the socket as it is handed over.
- Denial responses: ASGI's ``websocket.http.response`` extension (an HTTP response instead
  of the handshake), which daphne lacks, so that a full ``websocket.connect`` channel can be
  answered with 503 (WS17). daphne's WebSocket scopes advertise it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .codes import AUTOBAHN_CLOSE_CODES, in_ranges

#: The ASGI extension for answering a WebSocket handshake with an HTTP response.
DENIAL_RESPONSE = "websocket.http.response"
_PATCHED = "_channels_classic_patched"


@dataclass
class _Denial:
    """A denial response being assembled from its ASGI events."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: list[bytes] = field(default_factory=list)


def apply() -> None:
    """Patches daphne's WebSocketProtocol and Server once per process (no-op without daphne)."""
    try:
        from daphne.server import Server
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return
    if getattr(WebSocketProtocol, _PATCHED, False):
        return
    original_close = WebSocketProtocol.serverClose
    original_reply = WebSocketProtocol.handle_reply
    original_open_timeout = WebSocketProtocol.onOpenHandshakeTimeout
    original_check_timeouts = WebSocketProtocol.check_timeouts
    original_create = Server.create_application

    def server_close(self: Any, code: int | None = None) -> None:
        if code is None or in_ranges(code, AUTOBAHN_CLOSE_CODES):
            original_close(self, code)
        else:
            self.sendCloseFrame(code=code)

    def handle_reply(self: Any, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in (f"{DENIAL_RESPONSE}.start", f"{DENIAL_RESPONSE}.body"):
            _deny(self, message)
            return
        if kind == "websocket.send" and self.state != self.STATE_CONNECTING:
            if message.get("bytes") is not None:
                self.serverSend(message["bytes"], True)
                _write_now(self.transport)
                return
            if message.get("text") is not None:
                self.serverSend(message["text"], False)
                _write_now(self.transport)
                return
        original_reply(self, message)

    def on_open_handshake_timeout(self: Any) -> None:
        if _app_holds_handshake(self):
            self.openHandshakeTimeoutCall = None  # fired: nothing left to cancel later
            return
        original_open_timeout(self)

    def check_timeouts(self: Any) -> None:
        if not _app_holds_handshake(self):
            original_check_timeouts(self)

    def create_application(self: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        if scope.get("type") == "websocket":
            scope.setdefault("extensions", {})[DENIAL_RESPONSE] = {}
        return original_create(self, protocol, scope)

    WebSocketProtocol.serverClose = server_close
    WebSocketProtocol.handle_reply = handle_reply
    WebSocketProtocol.onOpenHandshakeTimeout = on_open_handshake_timeout
    WebSocketProtocol.check_timeouts = check_timeouts
    Server.create_application = create_application
    setattr(WebSocketProtocol, _PATCHED, True)


def _write_now(transport: Any) -> None:
    """Writes what a plain TCP transport holds (the reactor would on its next turn). A
    transport closing, or one without its own socket (TLS), is left to the reactor; so is a
    failed write, which stays queued for the reactor to find and report."""
    do_write = getattr(transport, "doWrite", None)
    if (
        do_write is None
        or transport.disconnecting
        or getattr(transport, "_writeDisconnecting", True)
    ):
        return
    do_write()


def _app_holds_handshake(protocol: Any) -> bool:
    """True while the handshake is unanswered and the application is running to answer it."""
    if protocol.state != protocol.STATE_CONNECTING or not hasattr(protocol, "handshake_deferred"):
        return False
    instance = protocol.server.connections.get(protocol, {}).get("application_instance")
    return instance is not None and not instance.done()


def _deny(protocol: Any, message: dict[str, Any]) -> None:
    """Carries out one denial-response event: the response goes out with its last body part,
    and the connection is closed."""
    if protocol.state != protocol.STATE_CONNECTING or not hasattr(protocol, "handshake_deferred"):
        raise ValueError(
            f"{message['type']} is only valid before the handshake is answered (accepted, "
            "refused or denied already)"
        )
    if message["type"].endswith(".start"):
        protocol._channels_classic_denial = _Denial(
            message["status"], list(message.get("headers", ()))
        )
        return
    denial: _Denial | None = getattr(protocol, "_channels_classic_denial", None)
    if denial is None:
        raise ValueError(f"{message['type']} came before {DENIAL_RESPONSE}.start")
    denial.body.append(message.get("body", b""))
    if message.get("more_body", False):
        return
    lines = [f"HTTP/1.1 {denial.status} {HTTPStatus(denial.status).phrase}".encode()]
    lines += [name + b": " + value for name, value in denial.headers]
    protocol.sendData(b"\r\n".join(lines) + b"\r\n\r\n" + b"".join(denial.body))
    del protocol.handshake_deferred
    protocol.server.protocol_disconnected(protocol)
    protocol.dropConnection(abort=False)

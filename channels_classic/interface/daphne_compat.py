"""Two fixes to daphne 4's WebSocket protocol, applied when the interface app starts.

daphne hands close codes to autobahn's ``sendClose``, which only accepts 1000 and 3000–4999
(the rule for browsers), so a server could not close with 1001 "going away", 1011 "internal
error" or 1013 "try again later" (SPEC Q7). And it drops ``websocket.send`` events whose
text or bytes are empty, so empty frames never reach the client (Q6). Both are fixed by
routing those cases to autobahn's lower-level calls, which daphne's own error path uses too.
"""

from __future__ import annotations

from typing import Any

_PATCHED = "_channels_classic_patched"


def _autobahn_accepts(code: int | None) -> bool:
    return code is None or code == 1000 or 3000 <= code <= 4999


def apply() -> None:
    """Patches daphne's WebSocketProtocol once per process (no-op without daphne)."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return
    if getattr(WebSocketProtocol, _PATCHED, False):
        return
    original_close = WebSocketProtocol.serverClose
    original_reply = WebSocketProtocol.handle_reply

    def server_close(self: Any, code: int | None = None) -> None:
        if _autobahn_accepts(code):
            original_close(self, code)
        else:
            self.sendCloseFrame(code=code)

    def handle_reply(self: Any, message: dict[str, Any]) -> None:
        if message.get("type") == "websocket.send" and self.state != self.STATE_CONNECTING:
            if message.get("bytes") is not None:
                self.serverSend(message["bytes"], True)
                return
            if message.get("text") is not None:
                self.serverSend(message["text"], False)
                return
        original_reply(self, message)

    WebSocketProtocol.serverClose = server_close
    WebSocketProtocol.handle_reply = handle_reply
    setattr(WebSocketProtocol, _PATCHED, True)

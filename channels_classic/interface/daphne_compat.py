"""Fixes to daphne 4's WebSocket protocol and server, applied when channels_classic runs under
daphne (by the app config, and by the interface app when it starts).

- Close codes: daphne hands them to autobahn's ``sendClose``, which only takes 1000 and
  3000–4999 (the rule for browsers), so a server could not close with 1001 "going away",
  1011 "internal error" or 1013 "try again later". Other codes go through autobahn's
  lower-level ``sendCloseFrame``, as daphne's own error path does.
- Empty frames: daphne drops ``websocket.send`` events whose text or bytes are empty, so
  they never reached the client. They are sent.
- The accept timeout: daphne's ``--websocket_connect_timeout`` (default 5 s) drives both
  autobahn's opening-handshake timer, which drops the TCP connection, and daphne's own
  periodic check, which refuses with 403; either cut a socket off while its connect consumer
  was still deciding, whatever CHANNELS_WEBSOCKET_ACCEPT_TIMEOUT said. While the
  application is running and has not answered the handshake, both now leave it to the
  application, which answers when its own timeout passes. If the application has ended
  without answering, daphne's rules apply as before.
- Replies are written at once: autobahn leaves a frame in Twisted's buffer until the
  reactor's next turn, behind whatever else the event loop has queued (such as the layer's
  listener re-arming); ``websocket.send`` now flushes it to the socket as it is handed over.
- Denial responses: ASGI's ``websocket.http.response`` extension (an HTTP response instead
  of the handshake), which daphne lacks, so that a full ``websocket.connect`` channel or an
  unreachable layer can be answered with 503 and the reason. daphne's WebSocket scopes
  advertise it.
- Flow control: what a WebSocket reads goes through its connection's ``TransportFlow`` (see
  ``transport``), which parses it a slice at a time and only as fast as the application takes
  the frames; each WebSocket scope carries it, so that the interface can pause a socket's
  reads and see its writes back up.
- Close frames for bad frames: autobahn drops the TCP connection on invalid UTF-8 or an
  oversized message unless told not to (``failByDrop``); it now sends the close frame RFC 6455
  asks for (1007, 1009). The size limit can come from the project's settings.
- Start-up heap: ``Server.run`` freezes the objects set-up made (``channels_classic.heap``)
  before it starts serving, so that the project's asgi.py needs no call of its own and a
  script importing it to send messages keeps a heap that collects as usual.
- Graceful shutdown: on SIGTERM daphne cancels every connection at once. It now first stops
  listening and runs the hooks given to ``on_shutdown`` (the interface closes its sockets with
  1001 and tells the workers), then cancels what is left.

Why these behaviours differ from Channels 1.x is in ``docs/differences-from-1x.md``
("WebSockets"); what of daphne, autobahn and Twisted the patches rely on is listed in
``daphne_contract``, which ``tests/unit/interface/test_daphne_contract.py`` checks against the
installed versions.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial, wraps
from http import HTTPStatus
from typing import Any

from ..close_codes import AUTOBAHN_CLOSE_CODES, in_ranges
from ..heap import freeze_startup_heap
from . import daphne_contract
from .transport import FLOW_CONTROL, TransportFlow

logger = logging.getLogger(__name__)

#: The ASGI extension for answering a WebSocket handshake with an HTTP response.
DENIAL_RESPONSE = "websocket.http.response"
_PATCHED = "_channels_classic_patched"
#: Where a WebSocket protocol keeps its TransportFlow.
_FLOW = "_channels_classic_flow"

#: Run (concurrently) when daphne shuts down, before it cancels the connections; held weakly,
#: so that an application that is gone (tests make many) is not kept alive for it.
_shutdown_hooks: list[weakref.WeakMethod[Callable[[], Awaitable[None]]]] = []
#: The largest incoming WebSocket message, when the settings say (else daphne's own flag).
_max_message_size: int | None = None


@dataclass
class _Denial:
    """A denial response being assembled from its ASGI events."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: list[bytes] = field(default_factory=list)


def on_shutdown(hook: Callable[[], Awaitable[None]]) -> None:
    """Has daphne await ``hook()`` (a bound method) when it shuts down, before it cancels the
    connections."""
    _shutdown_hooks[:] = [ref for ref in _shutdown_hooks if ref() is not None]
    _shutdown_hooks.append(weakref.WeakMethod(hook))  # type: ignore[arg-type]


def apply(max_message_size: int | None = None) -> None:
    """Patches daphne's WebSocketProtocol and Server once per process (no-op without daphne).
    ``max_message_size`` (bytes) replaces daphne's ``--websocket-max-message-size``.

    Raises RuntimeError, naming each name, on a daphne (or autobahn, or Twisted) that lacks
    a method or attribute the patches use (``daphne_contract``). Each replacement keeps the
    method it wraps as ``__wrapped__``."""
    global _max_message_size
    if max_message_size is not None:
        _max_message_size = max_message_size
    try:
        from daphne.server import Server
        from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
    except ImportError:
        return
    if getattr(WebSocketProtocol, _PATCHED, False):
        return
    problems = daphne_contract.class_problems()
    if problems:
        raise RuntimeError("\n".join(problems))
    _patch_server(Server)
    _patch_factory(WebSocketFactory)
    original_close = WebSocketProtocol.serverClose
    original_reply = WebSocketProtocol.handle_reply
    original_open_timeout = WebSocketProtocol.onOpenHandshakeTimeout
    original_check_timeouts = WebSocketProtocol.check_timeouts
    original_data_received = WebSocketProtocol.dataReceived
    original_connection_lost = WebSocketProtocol.connectionLost
    original_create = Server.create_application

    @wraps(original_close)
    def server_close(self: Any, code: int | None = None) -> None:
        if code is None or in_ranges(code, AUTOBAHN_CLOSE_CODES):
            original_close(self, code)
        else:
            self.sendCloseFrame(code=code)

    @wraps(original_reply)
    def handle_reply(self: Any, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in (f"{DENIAL_RESPONSE}.start", f"{DENIAL_RESPONSE}.body"):
            _deny(self, message)
            return
        if kind == "websocket.send" and self.state != self.STATE_CONNECTING:
            if self.state != self.STATE_OPEN:
                return  # closing or closed: the frame has nowhere to go
            if message.get("bytes") is not None:
                self.serverSend(message["bytes"], True)
                _write_now(self.transport)
                return
            if message.get("text") is not None:
                self.serverSend(message["text"], False)
                _write_now(self.transport)
                return
        original_reply(self, message)

    @wraps(original_open_timeout)
    def on_open_handshake_timeout(self: Any) -> None:
        if _app_holds_handshake(self):
            self.openHandshakeTimeoutCall = None  # fired: nothing left to cancel later
            return
        original_open_timeout(self)

    @wraps(original_check_timeouts)
    def check_timeouts(self: Any) -> None:
        if not _app_holds_handshake(self):
            original_check_timeouts(self)

    @wraps(original_data_received)
    def data_received(self: Any, data: bytes) -> None:
        flow = self.__dict__.get(_FLOW)
        if flow is None:
            original_data_received(self, data)
            return
        try:
            flow.data_received(data)
        except Exception:  # Twisted would drop the connection without a word
            logger.exception("interface: reading from WebSocket %s failed", self.path)
            raise

    @wraps(original_connection_lost)
    def connection_lost(self: Any, reason: Any) -> None:
        flow = self.__dict__.get(_FLOW)
        if flow is not None:
            flow.flush()  # frames the client sent before it left still reach the application
        original_connection_lost(self, reason)

    @wraps(original_create)
    def create_application(self: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        if scope.get("type") != "websocket":
            return original_create(self, protocol, scope)
        flow = TransportFlow(protocol.transport, partial(original_data_received, protocol))
        extensions = scope.setdefault("extensions", {})
        extensions[DENIAL_RESPONSE] = {}
        extensions[FLOW_CONTROL] = flow
        queue = original_create(self, protocol, scope)
        if queue is not None:
            flow.feeds(queue)
            protocol.__dict__[_FLOW] = flow
        return queue

    WebSocketProtocol.serverClose = server_close
    WebSocketProtocol.handle_reply = handle_reply
    WebSocketProtocol.onOpenHandshakeTimeout = on_open_handshake_timeout
    WebSocketProtocol.check_timeouts = check_timeouts
    WebSocketProtocol.dataReceived = data_received
    WebSocketProtocol.connectionLost = connection_lost
    Server.create_application = create_application
    setattr(WebSocketProtocol, _PATCHED, True)


def _patch_server(server_class: Any) -> None:
    """Start-up: freeze the heap before serving. Shutdown: stop listening, run the hooks,
    then let daphne cancel what is left."""
    original_run = server_class.run
    original_listened = server_class.listen_success
    original_kill = server_class.kill_all_applications

    @wraps(original_run)
    def run(self: Any) -> None:
        freeze_startup_heap()
        original_run(self)

    @wraps(original_listened)
    def listen_success(self: Any, port: Any) -> None:
        self.__dict__.setdefault("_channels_classic_ports", []).append(port)
        original_listened(self, port)

    @wraps(original_kill)
    def kill_all_applications(self: Any) -> Any:
        from twisted.internet import defer

        for port in self.__dict__.get("_channels_classic_ports", ()):
            port.stopListening()
        drained = defer.Deferred.fromFuture(asyncio.ensure_future(_run_shutdown_hooks()))
        drained.addBoth(lambda _: original_kill(self))
        return drained

    server_class.run = run
    server_class.listen_success = listen_success
    server_class.kill_all_applications = kill_all_applications


async def _run_shutdown_hooks() -> None:
    hooks = [hook for hook in (ref() for ref in _shutdown_hooks) if hook is not None]
    results = await asyncio.gather(*(hook() for hook in hooks), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            logger.error("interface: shutting down failed", exc_info=result)


def _patch_factory(factory_class: Any) -> None:
    """Close frames instead of dropped connections for bad frames; the settings' size."""
    original_options = factory_class.setProtocolOptions

    @wraps(original_options)
    def set_protocol_options(self: Any, **options: Any) -> None:
        options["failByDrop"] = False
        if _max_message_size is not None:
            size = _max_message_size
            options["maxMessagePayloadSize"] = options["maxFramePayloadSize"] = size
        original_options(self, **options)

    factory_class.setProtocolOptions = set_protocol_options


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

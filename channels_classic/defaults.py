"""Every default a project may tune, with the setting that overrides it (read lazily)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

#: CHANNELS_WEBSOCKET_ACCEPT_TIMEOUT: seconds a new socket waits for its connect consumer to
#: accept or reject it before it is refused with 403; None waits as long as it takes. This
#: one holds whatever daphne's --websocket_connect_timeout says (the interface owns it).
WEBSOCKET_ACCEPT_TIMEOUT = 5.0
#: CHANNELS_WEBSOCKET_MAX_OUTSTANDING: frames of one socket that may wait on the layer for a
#: worker at once. Beyond that the interface stops reading the socket (its client's writes
#: block) until workers take some, so one fast sender cannot fill the channel that every
#: socket shares; a person typing never gets near it.
WEBSOCKET_MAX_OUTSTANDING = 32
#: CHANNELS_WEBSOCKET_HOLD_TIMEOUT: seconds a frame may wait to get onto the layer (the
#: channel full, the layer unavailable, or the socket at its outstanding limit while no
#: worker takes anything) before its socket is closed with 1013 "try again later".
WEBSOCKET_HOLD_TIMEOUT = 30.0
#: CHANNELS_WEBSOCKET_MAX_OUTPUT: bytes of replies that may wait for a client that does not
#: read them; past that the socket is closed with 1008 and its replies are dropped.
WEBSOCKET_MAX_OUTPUT = 4 * 1024 * 1024
#: CHANNELS_WEBSOCKET_MAX_MESSAGE_SIZE: bytes of the largest message a client may send (a
#: larger one closes its socket with 1009); None leaves daphne's own limit, its
#: --websocket-max-message-size (1 MiB unless given).
WEBSOCKET_MAX_MESSAGE_SIZE: int | None = None
#: CHANNELS_SHUTDOWN_TIMEOUT: seconds the interface server takes to shut down on SIGTERM:
#: sockets are closed with 1001 at once and the workers told; requests in flight have this
#: long to be answered, then get 503.
SHUTDOWN_TIMEOUT = 5.0
#: CHANNELS_METRICS_PORT: the port daphne serves Prometheus metrics on (docs/metrics.md);
#: None serves none. CHANNELS_METRICS_ADDRESS: the address it listens on.
METRICS_PORT: int | None = None
METRICS_ADDRESS = "127.0.0.1"
#: The options that may be None, and what None means for each.
NONE_MEANS = {
    "websocket_accept_timeout": "no limit",
    "websocket_max_message_size": "daphne's own --websocket-max-message-size",
    "metrics_port": "no metrics served",
}
#: CHANNELS_WS_PROTOCOLS: WebSocket subprotocols the server agrees to, in preference order.
WS_PROTOCOLS: tuple[str, ...] = ()
#: CHANNELS_HTTP_TIMEOUT: seconds an HTTP request waits for a response to start (then 503).
HTTP_TIMEOUT = 120.0
#: CHANNELS_HTTP_IDLE_TIMEOUT: seconds a started response may go without a message from its
#: worker (a worker that died mid-stream sends none); then the interface ends it. Like
#: nginx's proxy_read_timeout: raise it for streams that are quiet longer (server-sent events).
HTTP_IDLE_TIMEOUT = 60.0
#: CHANNELS_MAX_REQUEST_BODY_SIZE: bytes of request body carried to a worker (more: 413).
MAX_REQUEST_BODY_SIZE = 10 * 1024 * 1024
#: Request and response bodies travel in messages of at most this many bytes: a larger request
#: body continues on a body channel, a larger response in ``more_content`` chunks (1.x's size).
BODY_CHUNK_SIZE = 512 * 1024
#: Seconds a worker waits for a request body arriving in chunks, then answers 408 (as 1.x).
BODY_RECEIVE_TIMEOUT = 60.0
#: A response message for a full reply channel is retried every REPLY_RETRY_EVERY seconds for
#: REPLY_RETRY_FOR seconds, then dropped, so that a client that stops reading cannot pin a
#: worker's thread for longer.
REPLY_RETRY_FOR = 30.0
REPLY_RETRY_EVERY = 0.05
#: While a worker streams a response, it asks the layer at most this often (seconds) whether
#: the interface reported the client gone, and stops iterating if so.
STREAM_DISCONNECT_CHECK_INTERVAL = 1.0
#: CHANNELS_REPLY_CHANNEL_PREFIX: reply channel names start with this (as daphne 1.x's did).
REPLY_CHANNEL_PREFIX = "daphne.response"
#: CHANNELS_ORDERING_GAP_TIMEOUT: seconds an @enforce_ordering socket waits for a missing
#: message once a later one has come; then the missing one is skipped with a warning and the
#: waiting ones run in order, instead of the socket waiting for ever. Keep it above the run
#: time of the slowest ordered consumer, which is overtaken otherwise.
ORDERING_GAP_TIMEOUT = 10.0


@dataclass(frozen=True)
class InterfaceOptions:
    """What the interface server needs from the settings, read once when it starts."""

    websocket_accept_timeout: float | None = WEBSOCKET_ACCEPT_TIMEOUT
    ws_protocols: tuple[str, ...] = WS_PROTOCOLS
    http_timeout: float = HTTP_TIMEOUT
    http_idle_timeout: float = HTTP_IDLE_TIMEOUT
    max_request_body_size: int = MAX_REQUEST_BODY_SIZE
    reply_channel_prefix: str = REPLY_CHANNEL_PREFIX
    websocket_max_outstanding: int = WEBSOCKET_MAX_OUTSTANDING
    websocket_hold_timeout: float = WEBSOCKET_HOLD_TIMEOUT
    websocket_max_output: int = WEBSOCKET_MAX_OUTPUT
    websocket_max_message_size: int | None = WEBSOCKET_MAX_MESSAGE_SIZE
    shutdown_timeout: float = SHUTDOWN_TIMEOUT
    metrics_port: int | None = METRICS_PORT
    metrics_address: str = METRICS_ADDRESS

    @classmethod
    def from_settings(cls) -> InterfaceOptions:
        """Reads ``CHANNELS_<FIELD NAME>`` settings; raises ImproperlyConfigured on bad ones."""
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        values: dict[str, Any] = {}
        for field in fields(cls):
            name = f"CHANNELS_{field.name.upper()}"
            if not hasattr(settings, name):
                continue
            value = getattr(settings, name)
            default = field.default
            none_means = NONE_MEANS.get(field.name)
            try:
                if value is None and none_means:
                    pass
                elif isinstance(default, tuple):
                    if isinstance(value, str):
                        raise TypeError("a list of names, not a single string")
                    value = tuple(str(item) for item in value)
                elif field.type in ("int", "float", "int | None", "float | None"):
                    value = (int if field.type.startswith("int") else float)(value)
                    if value <= 0:
                        raise ValueError("must be positive")
                elif not isinstance(value, str) or not value:
                    raise TypeError("must be a non-empty string")
            except (TypeError, ValueError) as error:
                raise ImproperlyConfigured(
                    f"settings.{name} = {getattr(settings, name)!r} is invalid ({error}); the "
                    f"default is {default!r}" + (f"; None means {none_means}" if none_means else "")
                ) from error
            values[field.name] = value
        return cls(**values)

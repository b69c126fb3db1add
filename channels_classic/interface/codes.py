"""The HTTP answers the interface server gives, in one place (the close codes it sends are
in ``channels_classic.close_codes``)."""

from __future__ import annotations

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

"""What the interface server does when the layer will not take a message, counted and logged.

A full channel (ChannelFull), an unreachable layer, or any other error of the layer never
crashes a connection's task or the server: each message kind has one named outcome
(``ON_REFUSED``), and every event is counted (``counts``, by channel and event). Logs are
kept to one line per kind of event and channel every LOG_EVERY seconds, however many
sockets meet it: an outage or a flood must not become a flood of log lines.
"""

from __future__ import annotations

import enum
import logging
import time
from collections import Counter

from .codes import CONNECTION_QUEUE_FULL

logger = logging.getLogger(__name__)

#: At most one log line per (channel, event) this often; the others are counted into it.
LOG_EVERY = 60.0


class Outcome(enum.Enum):
    HOLD = "held (the socket's reads paused) until the layer takes it"
    REFUSE_HANDSHAKE = f"handshake answered 503 ({CONNECTION_QUEUE_FULL!r} when full)"
    SERVICE_UNAVAILABLE = "answered 503"
    DROPPED = "message dropped"


#: The outcome for each channel the interface server sends to, when the layer refuses.
ON_REFUSED = {
    "websocket.connect": Outcome.REFUSE_HANDSHAKE,
    "websocket.receive": Outcome.HOLD,
    "websocket.disconnect": Outcome.HOLD,
    "http.request": Outcome.SERVICE_UNAVAILABLE,
    "http.disconnect": Outcome.DROPPED,
}

#: Events so far, by (channel, event): "held", "gave up", "refused", "paused".
counts: Counter[tuple[str, str]] = Counter()
_last_logged: dict[tuple[str, str], tuple[float, int]] = {}


def _note(channel: str, event: str, level: int, text: str, *args: object) -> None:
    """Counts the event; logs it if this (channel, event) has not been logged lately."""
    key = (channel, event)
    counts[key] += 1
    now = time.monotonic()
    logged_at, logged_count = _last_logged.get(key, (-LOG_EVERY, 0))
    if now - logged_at < LOG_EVERY:
        return
    since = counts[key] - logged_count - 1
    _last_logged[key] = (now, counts[key])
    more = f" ({since} more since the last report)" if since > 0 else ""
    logger.log(level, "interface: " + text + more, *args)


def refused(channel: str, error: Exception) -> Outcome:
    """Records that ``channel`` refused a message at once; returns what to do about it."""
    outcome = ON_REFUSED[channel]
    level = logging.DEBUG if outcome is Outcome.DROPPED else logging.WARNING
    _note(
        channel,
        "refused",
        level,
        "%s could not take a message (%s: %s): %s",
        channel,
        type(error).__name__,
        error,
        outcome.value,
    )
    return outcome


def held(channel: str, why: str) -> None:
    """A socket's message waits to go onto ``channel`` (``why``: full, layer unavailable)."""
    _note(channel, "held", logging.WARNING, "%s: %s; holding messages", channel, why)


def paused() -> None:
    """A socket reached its bound of frames waiting for a worker; its reads are paused."""
    _note(
        "websocket.receive",
        "paused",
        logging.INFO,
        "a socket sends faster than the workers take its frames; reading it is paused "
        "until they do",
    )


def gave_up(channel: str, why: str) -> None:
    """A socket's held message waited too long: the socket is closed with 1013."""
    _note(
        channel,
        "gave up",
        logging.WARNING,
        "a socket was closed with 1013 (try again later): %s (CHANNELS_WEBSOCKET_HOLD_TIMEOUT)",
        why,
    )

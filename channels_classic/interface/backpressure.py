"""What the interface server does when the layer will not take a message, counted and logged.

A full channel (ChannelFull), an unreachable layer, or any other error of the layer never
crashes a connection's task or the server: each message kind has one named outcome
(``ON_REFUSED``), and every event is counted (``counts``, by channel and event). Each kind
of event is logged in full once, then counted into one line per interval, however many
sockets meet it (``failure_log``): an outage or a flood must not become a flood of log lines.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter

from .. import metrics
from ..failure_log import FailureLog
from .codes import CONNECTION_QUEUE_FULL

logger = logging.getLogger(__name__)
failures = FailureLog(logger)


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

#: Events so far, by (channel, event): "refused", "held", "paused", "gave up".
counts: Counter[tuple[str, str]] = Counter()


def _note(channel: str, event: str, level: int, first: str, repeated: str, *args: object) -> None:
    """Counts the event, and logs it: in full the first time, then counted per interval."""
    counts[channel, event] += 1
    metrics.recorder.backpressure(channel, event)
    failures.failed(
        (channel, event), None, "interface: " + first, "interface: " + repeated, *args, level=level
    )


def refused(channel: str, error: Exception) -> Outcome:
    """Records that ``channel`` refused a message at once; returns what to do about it."""
    outcome = ON_REFUSED[channel]
    level = logging.DEBUG if outcome is Outcome.DROPPED else logging.WARNING
    _note(
        channel,
        "refused",
        level,
        "%s could not take a message (%s: %s): %s",
        "%s could not take messages (the first: %s: %s): %s,",
        channel,
        type(error).__name__,
        error,
        outcome.value,
    )
    return outcome


def held(channel: str, why: str) -> None:
    """A socket's message waits to go onto ``channel`` (``why``: full, layer unavailable)."""
    _note(
        channel,
        "held",
        logging.WARNING,
        "%s: %s; holding messages",
        "%s: %s; messages held",
        channel,
        why,
    )


def paused() -> None:
    """A socket reached its bound of frames waiting for a worker; its reads are paused."""
    _note(
        "websocket.receive",
        "paused",
        logging.INFO,
        "a socket sends faster than the workers take its frames; reading it is paused "
        "until they do",
        "sockets sending faster than the workers take their frames were paused",
    )


def gave_up(channel: str, why: str) -> None:
    """A socket's held message waited too long: the socket is closed with 1013."""
    _note(
        channel,
        "gave up",
        logging.WARNING,
        "a socket was closed with 1013 (try again later): %s (CHANNELS_WEBSOCKET_HOLD_TIMEOUT)",
        "sockets were closed with 1013 (try again later), the first because %s:",
        why,
    )

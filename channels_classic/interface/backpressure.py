"""What the interface server does when the layer will not take a message (SPEC WS17).

A full channel (ChannelFull), an unreachable layer, or any other error of the layer never
crashes a connection's task or the server: each message kind has one named outcome, and
every occurrence is logged and counted (``counts``, by channel and outcome).
"""

from __future__ import annotations

import enum
import logging
from collections import Counter

from ..exceptions import ChannelFull
from .codes import CONNECTION_QUEUE_FULL

logger = logging.getLogger(__name__)


class Outcome(enum.Enum):
    REFUSE_HANDSHAKE = f"handshake answered 503 {CONNECTION_QUEUE_FULL!r}"
    CLOSE_TRY_AGAIN_LATER = "socket closed with 1013 and muted"
    SERVICE_UNAVAILABLE = "answered 503"
    DROPPED = "message dropped"


#: The outcome for each channel the interface server sends to.
ON_FULL = {
    "websocket.connect": Outcome.REFUSE_HANDSHAKE,
    "websocket.receive": Outcome.CLOSE_TRY_AGAIN_LATER,
    "websocket.disconnect": Outcome.DROPPED,
    "http.request": Outcome.SERVICE_UNAVAILABLE,
    "http.disconnect": Outcome.DROPPED,
}

counts: Counter[tuple[str, Outcome]] = Counter()


def refused(channel: str, error: Exception) -> Outcome:
    """Records that ``channel`` refused a message; returns what to do about it."""
    outcome = ON_FULL[channel]
    counts[channel, outcome] += 1
    expected = isinstance(error, (ChannelFull, ConnectionError))
    log = logger.debug if outcome is Outcome.DROPPED and expected else logger.warning
    log(
        "interface: %s could not take a message (%s: %s): %s (%d so far). Are workers "
        "running and keeping up?",
        channel,
        type(error).__name__,
        error,
        outcome.value,
        counts[channel, outcome],
        exc_info=None if expected else error,
    )
    return outcome

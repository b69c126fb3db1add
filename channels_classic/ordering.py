"""Where a socket's early messages wait for ``sessions.enforce_ordering`` (SPEC SE5, N6).

A message that comes before its turn is parked in a wait channel of its own, and a mark is
left in the channel session store: the consumer of the message before it tells with one
cheap lookup that its successor waits, instead of receiving on a wait channel after every
message (a receive that finds nothing costs a whole non-blocking receive wait).

A parked message also arms a gap check (SPEC Q10, fixed): a one-off timer on the process's
layer loop that, ``gap_timeout()`` seconds later, sends a copy of the message marked with
CHECK_KEY to its channel, so the decorated consumer looks at the socket again. Nothing polls
or sleeps: the timer is a loop callback, and the check is an ordinary message.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from types import ModuleType
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError
from django.core.exceptions import ImproperlyConfigured

from .channel import Channel
from .defaults import ORDERING_GAP_TIMEOUT
from .layers.sync import runner

if TYPE_CHECKING:
    from .layers.facade import ClassicLayer

logger = logging.getLogger(__name__)

#: Wait channels are this prefix, a hash of the reply channel and the message's order: normal
#: channels (X5: no '?' in channels 4 names) any worker receives on, one per parked message,
#: so a burst never fills one (a channel per socket, as in 1.x, holds 100 at most) and the
#: message with a given order is received directly.
WAIT_CHANNEL_PREFIX = "__wait__."
#: A parked message remembers the channel it came from under this key (as in 1.x).
ORIGINAL_CHANNEL = "original_channel"
#: A gap check is a copy of the parked message with this key: the order the socket expected
#: when the check was armed.
CHECK_KEY = "__channels_order_check"
GAP_TIMEOUT_SETTING = "CHANNELS_ORDERING_GAP_TIMEOUT"
_MARK_PREFIX = "cho"


def wait_channel_name(reply_channel: str, order: int) -> str:
    """The wait channel of the message with ``order`` of a reply channel, when it came early."""
    return f"{WAIT_CHANNEL_PREFIX}{hashlib.sha1(reply_channel.encode()).hexdigest()}.{order}"


def gap_timeout() -> float:
    """Seconds a socket waits for a missing message: CHANNELS_ORDERING_GAP_TIMEOUT, else
    ORDERING_GAP_TIMEOUT. Raises ImproperlyConfigured for anything but a positive number."""
    value = getattr(settings, GAP_TIMEOUT_SETTING, ORDERING_GAP_TIMEOUT)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ImproperlyConfigured(
            f"settings.{GAP_TIMEOUT_SETTING} = {value!r} is invalid: give the seconds a socket "
            f"waits for a missing message as a positive number (default {ORDERING_GAP_TIMEOUT})"
        )
    return seconds


class WaitRoom:
    """The parked messages of one socket, each in a wait channel of its own, with its mark in
    ``engine`` (the channel session engine)."""

    def __init__(self, layer: ClassicLayer, reply_channel: str, engine: ModuleType) -> None:
        self.layer = layer
        self.reply_channel = reply_channel
        self._engine = engine

    def _mark_key(self, order: int) -> str:
        digest = hashlib.sha1(f"{self.reply_channel}#{order}".encode()).hexdigest()
        return _MARK_PREFIX + digest[:29]

    def park(self, content: dict[str, Any], channel: str) -> None:
        """Keeps a message that came early, then marks its order as waiting."""
        order = int(content["order"])
        self.layer.send(
            wait_channel_name(self.reply_channel, order), {**content, ORIGINAL_CHANNEL: channel}
        )
        try:
            self._engine.SessionStore(session_key=self._mark_key(order)).save(must_create=True)
        except CreateError:
            pass  # marked already: a duplicate of the message waits too

    def is_parked(self, order: int) -> bool:
        """True if a message with ``order`` was parked and not taken since."""
        return bool(self._engine.SessionStore().exists(self._mark_key(order)))

    def _take(self, order: int, block: bool) -> dict[str, Any] | None:
        """The parked message with ``order``, or None if it did not come within a
        non-blocking receive (``block``: a blocking one). The mark stays unless the message
        was taken or, after a blocking wait, is known gone (taken by another consumer, or
        expired by the layer): a later gap check looks again."""
        _, content = self.layer.receive([wait_channel_name(self.reply_channel, order)], block)
        if content is not None or block:
            self._engine.SessionStore().delete(self._mark_key(order))
        return content

    def release(self, order: int, *, block: bool = False) -> bool:
        """Sends the parked message with ``order`` back to its channel, with the consumer's
        other sends and after them (so its replies follow theirs). False if it was not there
        (see ``_take``)."""
        content = self._take(order, block)
        if content is None:
            return False
        channel = content.pop(ORIGINAL_CHANNEL)
        Channel(channel, channel_layer=self.layer).send(content)
        return True

    def discard(self, order: int, expected: int, *, block: bool = False) -> None:
        """Drops the parked message with ``order``, whose turn is past, with a warning."""
        content = self._take(order, block)
        if content is not None:
            self.dropped(order, content[ORIGINAL_CHANNEL], expected)

    def dropped(self, order: int, channel: str, expected: int) -> None:
        """Logs that a message whose turn is past was dropped."""
        logger.warning(
            "ordering: socket %s: dropped a message with order %d on %s: the socket had moved "
            "on to %d (it was skipped as missing, or is a duplicate)",
            self.reply_channel,
            order,
            channel,
            expected,
        )

    def skipped(self, missing: int, first_waiting: int) -> None:
        """Logs that orders ``missing`` to ``first_waiting - 1`` never came and are skipped."""
        logger.warning(
            "ordering: socket %s: no message with order %s came within %.1f s of a later one; "
            "skipped, running the waiting messages from order %d%s",
            self.reply_channel,
            missing if first_waiting == missing + 1 else f"{missing} to {first_waiting - 1}",
            gap_timeout(),
            first_waiting,
            " (is the websocket.connect consumer decorated with @enforce_ordering too?)"
            if missing == 0
            else "",
        )


_checks_in_flight: set[asyncio.Task[None]] = set()


def arm_gap_check(
    layer: ClassicLayer, channel: str, content: dict[str, Any], expected: int
) -> None:
    """In ``gap_timeout()`` seconds, sends ``content`` marked ``{CHECK_KEY: expected}`` to
    ``channel``, where the decorated consumer examines the socket's order again.

    The timer lives on the process's layer loop (``runner.loop``: the worker's own while it
    runs), so no thread waits for it. It dies with the process; then the socket's next early
    message arms another.
    """
    check = {
        key: value for key, value in content.items() if key not in (CHECK_KEY, ORIGINAL_CHANNEL)
    }
    check[CHECK_KEY] = expected
    loop = runner.loop
    loop.call_soon_threadsafe(
        loop.call_later, gap_timeout(), _send_check, layer.channel_layer, channel, check
    )


def _send_check(backend: Any, channel: str, check: dict[str, Any]) -> None:
    task = asyncio.get_running_loop().create_task(_deliver(backend, channel, check))
    _checks_in_flight.add(task)  # a task nobody references can be collected mid-way
    task.add_done_callback(_checks_in_flight.discard)


async def _deliver(backend: Any, channel: str, check: dict[str, Any]) -> None:
    try:
        await backend.send(channel, check)
    except Exception as error:
        logger.warning(
            "ordering: socket %s: could not send its gap check to %s (%s: %s); its order is "
            "examined again when its next early message arrives",
            check.get("reply_channel"),
            channel,
            type(error).__name__,
            error,
        )

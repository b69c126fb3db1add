"""``enforce_ordering``: a socket's messages run strictly in order (``docs/guarantees.md``,
"Per-socket order").

The socket's next order is kept in its channel session. A message that comes before its
turn is parked in a wait channel of its own, and a mark is left in the channel session
store: the consumer of the message before it tells with one cheap lookup that its successor
waits, instead of receiving on a wait channel after every message (a receive that finds
nothing costs a whole non-blocking receive wait).

A parked message also arms a gap check, so that a socket whose message went missing moves on
after the gap timeout instead of waiting for ever: a one-off timer on the process's
layer loop that, ``gap_timeout()`` seconds later, sends a copy of the message marked with
CHECK_KEY to its channel, so the decorated consumer looks at the socket again. Nothing polls
or sleeps: the timer is a loop callback, and the check is an ordinary message.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError
from django.core.exceptions import ImproperlyConfigured

from .channel import Channel
from .defaults import ORDERING_GAP_TIMEOUT
from .exceptions import ConsumeLater
from .layers.capabilities import ChannelLayer
from .layers.sync import runner
from .message import Message
from .sessions import (
    ORDERING_MARK_PREFIX,
    channel_session,
    channel_session_engine,
    channel_session_key,
    derived_key,
    find_message,
    save_channel_session,
    session_for_reply_channel,
)
from .settings_cache import read_once

if TYPE_CHECKING:
    from .layers.facade import ClassicLayer

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

#: Where a channel session keeps the order of its socket's next message (1.x's key).
NEXT_ORDER_KEY = "__channels_next_order"

#: Wait channels are this prefix, a hash of the reply channel and the message's order: normal
#: channels (channels 4 names may not have 1.x's '?') any worker receives on, one per parked
#: message, so a burst never fills one (a channel per socket, as in 1.x, holds 100 at most)
#: and the message with a given order is received directly.
WAIT_CHANNEL_PREFIX = "__wait__."
#: A parked message remembers the channel it came from under this key (as in 1.x).
ORIGINAL_CHANNEL = "original_channel"
#: A gap check is a copy of the parked message with this key: the order the socket expected
#: when the check was armed.
CHECK_KEY = "__channels_order_check"
GAP_TIMEOUT_SETTING = "CHANNELS_ORDERING_GAP_TIMEOUT"
#: The hint a skip of order 0 adds: the usual cause is an undecorated connect consumer, whose
#: message never fills order 0.
UNDECORATED_CONNECT_HINT = (
    " (is the websocket.connect consumer decorated with @enforce_ordering too?)"
)


def wait_channel_name(reply_channel: str, order: int | None = None) -> str:
    """The wait channel of the message with ``order`` of a reply channel, when it came early.

    1.x kept all of a socket's early messages in one wait channel, named from the reply
    channel alone; here each waits in its own, so without ``order`` it is a ValueError.
    """
    if order is None:
        raise ValueError(
            f"wait_channel_name({reply_channel!r}) names no channel: each early message of a "
            "socket waits in a channel of its own; give its order, "
            "wait_channel_name(reply_channel, order), or call requeue_messages(message)"
        )
    return f"{WAIT_CHANNEL_PREFIX}{hashlib.sha1(reply_channel.encode()).hexdigest()}.{order}"


def requeue_messages(message: Message) -> None:
    """Sends the socket's parked message whose turn it is now (its channel session's next
    order) back to its channel, if one waits; the others follow in turn as each runs. 1.x
    sent every waiting message back; ``enforce_ordering`` does this itself."""
    if message.reply_channel is None or message.channel_layer is None:
        raise ValueError(
            f"requeue_messages() needs a message with a reply channel and a layer, got "
            f"{message!r}: pass the message an @enforce_ordering consumer received"
        )
    room = WaitRoom(message.channel_layer, message.reply_channel.name, channel_session_engine())
    expected = session_for_reply_channel(room.reply_channel).get(NEXT_ORDER_KEY, 0)
    if room.is_parked(expected):
        room.release(expected)


@read_once(GAP_TIMEOUT_SETTING)
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
        return derived_key(ORDERING_MARK_PREFIX, f"{self.reply_channel}#{order}")

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
            UNDECORATED_CONNECT_HINT if missing == 0 else "",
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


def _send_check(backend: ChannelLayer, channel: str, check: dict[str, Any]) -> None:
    task = asyncio.get_running_loop().create_task(_deliver(backend, channel, check))
    _checks_in_flight.add(task)  # a task nobody references can be collected mid-way
    task.add_done_callback(_checks_in_flight.discard)


async def _deliver(backend: ChannelLayer, channel: str, check: dict[str, Any]) -> None:
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


@overload
def enforce_ordering(func: Callable[P, R], slight: bool = False) -> Callable[P, R | None]: ...
@overload
def enforce_ordering(
    func: None = None, slight: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R | None]]: ...
def enforce_ordering(func: Callable[P, R] | None = None, slight: bool = False) -> Any:
    """Runs a socket's messages strictly in ``order``: 0 (``websocket.connect``), 1, 2, ...
    Implies @channel_session. Decorate every consumer of the socket, connect and disconnect
    included: an undecorated one leaves a gap. Usable bare or called:
    ``@enforce_ordering`` or ``@enforce_ordering()``; ``slight=True`` (removed in 1.0) raises
    ValueError.

    What it adds across workers. One worker already runs a socket's messages one at a time,
    in the order it took them; but that is not the socket's order (the worker takes from
    connect, receive and disconnect at once, and ConsumeLater sends a message to the back),
    and other workers take the socket's other messages and run them at the same time. With
    enforce_ordering, whichever workers take them, a message runs only after the one before
    it finished and the socket's next order was saved in its channel session. A message that
    comes early waits in a wait channel of its own, holding no thread, and the consumer of the
    message before it sends it back to its channel (after its own sends). A message whose
    turn is past (skipped, or a duplicate) is dropped with a warning.

    Gaps. A message can go missing: the interface could not deliver it, the layer expired
    it, its ConsumeLater retries ran out, its worker died. An early message arms a gap check
    (``arm_gap_check``); if the socket has not moved on CHANNELS_ORDERING_GAP_TIMEOUT seconds
    later, the missing orders are skipped with a warning and the waiting messages run in
    order, rather than the socket waiting for ever. The check needs the process that armed it
    to keep running that long (a worker's loop, or the process's own layer loop) and a worker
    on the message's channel. A consumer that runs longer than the timeout can be overtaken.

    Cost: each message adds a lookup in the channel session store; an early one also a
    send to its wait channel, a mark in the store and, a gap timeout later, a check message.
    ConsumeLater raised by the consumer keeps the socket at its order, so the retry runs first.
    """
    if slight:
        raise ValueError(
            "Slight ordering is now always on due to Channels changes. Please remove the "
            "decorator. (enforce_ordering(slight=True) was removed in Channels 1.0: ordering "
            "is always strict; use @enforce_ordering)"
        )

    def decorator(func: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(func)
        def ordered(*args: P.args, **kwargs: P.kwargs) -> R | None:
            message = find_message(args, "enforce_ordering")
            room = WaitRoom(
                message.channel.channel_layer, message.reply_channel.name, channel_session_engine()
            )
            expected = message.channel_session.get(NEXT_ORDER_KEY, 0)
            order = _order(message)
            if CHECK_KEY in message.content:
                _look_for_gap(message, room, order, expected)
            elif order == expected:
                return _run_in_turn(message, room, order, lambda: func(*args, **kwargs))
            elif order < expected:
                room.dropped(order, message.channel.name, expected)
            else:
                _wait_for_turn(message, room, order)
            return None

        return channel_session(ordered)

    return decorator if func is None else decorator(func)


def _order(message: Message) -> int:
    try:
        return int(message["order"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(
            "No `order` value in message; @enforce_ordering can only be used on messages "
            f"containing it. It needs an integer 'order' key, and the message on "
            f"{message.channel.name!r} has {message.get('order')!r}; use it on "
            "websocket.connect/receive/disconnect consumers"
        ) from None


def _save_next_order(message: Any, next_order: int) -> None:
    session = message.channel_session
    session[NEXT_ORDER_KEY] = next_order
    save_channel_session(session, channel_session_key(message.reply_channel.name))


def _run_in_turn(message: Any, room: WaitRoom, order: int, consume: Callable[[], R]) -> R:
    """Runs the consumer, moves the socket on (unless it raised ConsumeLater) and sends the
    next message back if it is waiting."""
    consumed = True
    try:
        return consume()
    except ConsumeLater:
        consumed = False
        raise
    finally:
        if consumed:
            _save_next_order(message, order + 1)
            if room.is_parked(order + 1):
                room.release(order + 1)


def _wait_for_turn(message: Any, room: WaitRoom, order: int) -> None:
    """Parks an early message. If its turn came meanwhile (the message before it finished
    before the mark was there to see), releases it now; else arms its gap check."""
    room.park(message.content, message.channel.name)
    expected = session_for_reply_channel(room.reply_channel).get(NEXT_ORDER_KEY, 0)
    if order < expected:
        room.discard(order, expected)
    elif order > expected or not room.release(order):
        arm_gap_check(room.layer, message.channel.name, message.content, expected)


def _look_for_gap(message: Any, room: WaitRoom, order: int, expected: int) -> None:
    """Handles the gap check of the parked message with ``order``, armed when the socket
    expected ``message[CHECK_KEY]``; it now expects ``expected``.

    Still expecting the same order a whole gap timeout later, the socket runs the first
    parked message from that order on, skipping the missing ones before it with a warning.
    While the message waits, its check is armed again; the chain ends once it ran or nothing
    is parked for it (it is then on its way to its channel).
    """
    if order < expected:
        if room.is_parked(order):  # skipped while it was being parked
            room.discard(order, expected, block=True)
        return
    if expected == message[CHECK_KEY]:
        parked = (o for o in range(expected, order + 1) if room.is_parked(o))
        first_waiting = next(parked, None)
        if first_waiting is None:
            return
        if first_waiting > expected:
            room.skipped(expected, first_waiting)
            expected = first_waiting
            _save_next_order(message, expected)
        room.release(first_waiting, block=True)
    if order >= expected:
        arm_gap_check(room.layer, message.channel.name, message.content, expected)

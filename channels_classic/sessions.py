"""Sessions for consumers, and strict message order per socket (SPEC SE1–SE6).

A channel session is an ordinary Django session whose key is derived from the socket's reply
channel, so every message of one socket sees the same data whichever worker runs it. An HTTP
session is the browser's own, found from the message's cookie or ``?session_key=``.
``enforce_ordering`` runs a socket's messages one after the other in ``order``, across
workers (its wait channels and gap checks are in ``ordering``).

Fixed from 1.x: a channel session emptied by its consumer is saved, so a logout sticks
(Q11); a channel session the consumer flushed or cycled stays under its reply channel's key.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from importlib import import_module
from types import ModuleType
from typing import Any, ParamSpec, TypeVar, overload

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.http import QueryDict
from django.http.cookie import parse_cookie

from .exceptions import ConsumeLater, UnsuitableSessionEngine
from .message import Message
from .ordering import CHECK_KEY, WaitRoom, arm_gap_check

P = ParamSpec("P")
R = TypeVar("R")

#: Channel session keys: this prefix and the first 29 hex digits of SHA-1(reply channel).
CHANNEL_SESSION_PREFIX = "chn"
_SIGNED_COOKIES = "django.contrib.sessions.backends.signed_cookies"


def channel_session_engine() -> ModuleType:
    """The session engine of channel sessions: CHANNEL_SESSION_ENGINE, else SESSION_ENGINE.

    Raises UnsuitableSessionEngine for the signed-cookies engine, which keeps its data in the
    browser's cookie: a worker has nowhere to store a channel session with it.
    """
    setting = "CHANNEL_SESSION_ENGINE"
    name = getattr(settings, setting, None)
    if name is None:
        setting, name = "SESSION_ENGINE", settings.SESSION_ENGINE
    if name == _SIGNED_COOKIES:
        raise UnsuitableSessionEngine(
            f"settings.{setting} = {name!r} cannot hold channel sessions: signed-cookie "
            "sessions live in the browser, and a worker has no cookie to write them to. Set "
            "CHANNEL_SESSION_ENGINE to a server-side engine, e.g. "
            "'django.contrib.sessions.backends.cache' or '...backends.db'"
        )
    return import_module(name)


def channel_session_key(reply_channel: str) -> str:
    """The session key of a reply channel's channel session (32 characters)."""
    digest = hashlib.sha1(reply_channel.encode()).hexdigest()
    return CHANNEL_SESSION_PREFIX + digest[:29]


def session_for_reply_channel(reply_channel: str) -> SessionBase:
    """The channel session of ``reply_channel``, loaded now (empty if it does not exist yet).

    Raises UnsuitableSessionEngine when the configured engine is signed cookies.
    """
    return _load_channel_session(reply_channel)[0]


def _load_channel_session(reply_channel: str) -> tuple[SessionBase, bool]:
    """The channel session, loaded now, and whether its record exists."""
    key = channel_session_key(reply_channel)
    session = channel_session_engine().SessionStore(session_key=key)
    session.keys()  # loads now: the data as it is when the consumer starts
    found = session.session_key is not None  # every engine forgets a key it finds no record for
    _pin_key(session, key)
    return session, found


def _pin_key(session: SessionBase, key: str) -> None:
    # Django's stores drop a key they find no record for, and flush() and cycle_key() replace
    # it; a channel session's key is its reply channel's, whatever happened to the record.
    session._session_key = key


def _save_channel_session(session: SessionBase, key: str) -> None:
    """Saves a channel session under ``key``, creating its record again if the consumer
    flushed it (a logout; also Django's get_user() after a password change) or cycled it."""
    moved_to = session.session_key
    if moved_to != key:
        if moved_to is not None:
            session.delete(moved_to)
        _pin_key(session, key)
    try:
        session.save()
    except UpdateError:
        session.save(must_create=True)
    session.modified = False


def find_message(args: tuple[Any, ...], decorator: str) -> Any:
    """The Message among a consumer's first two positional arguments (the second one for
    methods). Typed Any: decorators attach attributes Message does not declare (SPEC M5).

    Raises ValueError naming ``decorator`` when there is none.
    """
    for arg in args[:2]:
        if isinstance(arg, Message):
            return arg
    got = ", ".join(type(arg).__name__ for arg in args[:2]) or "no positional arguments"
    raise ValueError(
        f"@{decorator} found no Message among the consumer's first two positional arguments "
        f"(got {got}); it decorates consumers called as consumer(message, ...) or methods "
        "called as method(self, message, ...)"
    )


def channel_session(func: Callable[P, R]) -> Callable[P, R]:
    """Gives the consumer ``message.channel_session``: the session of its reply channel.

    The session is created on the socket's first message; if another worker creates it at the
    same moment, ConsumeLater puts the message back to run again (the worker retries it).
    After the consumer, even when it raised, the session is saved if it was modified, emptied
    included. Nested inside another @channel_session it only saves what changed.
    """

    @functools.wraps(func)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        message = find_message(args, "channel_session")
        if message.reply_channel is None:
            raise ValueError(
                f"@channel_session needs a reply_channel, and the message on "
                f"{message.channel.name!r} has none; use it on consumers of client messages "
                "(websocket.connect/receive/disconnect, http.request)"
            )
        key = channel_session_key(message.reply_channel.name)
        if hasattr(message, "channel_session"):
            session = message.channel_session
        else:
            session, found = _load_channel_session(message.reply_channel.name)
            if not found:
                try:
                    session.save(must_create=True)
                except CreateError:
                    raise ConsumeLater() from None
            message.channel_session = session
        try:
            return func(*args, **kwargs)
        finally:
            session = message.channel_session
            if session.modified:
                _save_channel_session(session, key)

    return inner


def http_session_key(message: Message) -> str | None:
    """The HTTP session key a message carries: the ``session_key`` query parameter, else the
    session cookie; None when it has neither (``websocket.receive`` has no headers).

    Keys of channel sessions are refused (None): both may share one store, and a channel
    session holds its socket's login, so its key must not work as an HTTP session key.
    """
    key = QueryDict(message.get("query_string") or b"").get("session_key")
    if not key:
        cookie = "; ".join(
            value.decode("latin-1")
            for name, value in message.get("headers") or ()
            if name.lower() == b"cookie"
        )
        key = parse_cookie(cookie).get(settings.SESSION_COOKIE_NAME)
    if not key or (len(key) == 32 and key.startswith(CHANNEL_SESSION_PREFIX)):
        return None
    return key


def _http_session_store(key: str) -> SessionBase:
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)


def http_session(func: Callable[P, R]) -> Callable[P, R]:
    """Gives the consumer ``message.http_session``: the browser's Django session, or None.

    The key comes from ``http_session_key``. The session is never created here and no cookie
    is set (that is SessionMiddleware's job). It is saved if modified, only when the consumer
    returns normally, and not if its key named no live session (a forged or expired key
    loads as an empty session; saving it would create one nobody holds the key of).
    """

    @functools.wraps(func)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        message = find_message(args, "http_session")
        if hasattr(message, "http_session"):  # nested: the outermost saves
            return func(*args, **kwargs)
        key = http_session_key(message)
        message.http_session = _http_session_store(key) if key else None
        result = func(*args, **kwargs)
        session = message.http_session
        if session is not None and session.modified and session.session_key is not None:
            session.save()
        return result

    return inner


def channel_and_http_session(func: Callable[P, R]) -> Callable[P, R]:
    """@http_session and @channel_session, with the HTTP session kept for the whole socket.

    On the first message with a live HTTP session (``websocket.connect``) its key is stored in
    ``channel_session[SESSION_COOKIE_NAME]``; later messages, which carry no cookies, get
    ``message.http_session`` rebuilt from it.
    """

    @functools.wraps(func)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        message = find_message(args, "channel_and_http_session")
        name = settings.SESSION_COOKIE_NAME
        http, channel = message.http_session, message.channel_session
        if http is not None and name not in channel:
            if http.session_key and http.exists(http.session_key):
                channel[name] = http.session_key
        elif http is None and name in channel:
            message.http_session = _http_session_store(channel[name])
        return func(*args, **kwargs)

    return http_session(channel_session(inner))


#: Where a channel session keeps the order of its socket's next message (1.x's key).
NEXT_ORDER_KEY = "__channels_next_order"


@overload
def enforce_ordering(func: Callable[P, R], slight: bool = False) -> Callable[P, R | None]: ...
@overload
def enforce_ordering(
    func: None = None, slight: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R | None]]: ...
def enforce_ordering(func: Callable[P, R] | None = None, slight: bool = False) -> Any:
    """Runs a socket's messages strictly in ``order``: 0 (``websocket.connect``), 1, 2, ...
    Implies @channel_session. Decorate every consumer of the socket, connect and disconnect
    included: an undecorated one leaves a gap (SE6). Usable bare or called:
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

    Gaps (1.x stalled forever, Q10). A message can go missing: the interface could not
    deliver it, the layer expired it, its ConsumeLater retries ran out, its worker died. An
    early message arms a gap check (``ordering.arm_gap_check``); if the socket has not moved
    on CHANNELS_ORDERING_GAP_TIMEOUT seconds later, the missing orders are skipped with a
    warning and the waiting messages run in order. The check needs the process that armed it
    to keep running that long (a worker's loop, or the process's own layer loop) and a worker
    on the message's channel. A consumer that runs longer than the timeout can be overtaken.

    Cost: each message adds a lookup in the channel session store; an early one also a
    send to its wait channel, a mark in the store and, a gap timeout later, a check message.
    ConsumeLater raised by the consumer keeps the socket at its order, so the retry runs first.
    """
    if slight:
        raise ValueError(
            "enforce_ordering(slight=True) was removed in Channels 1.0: ordering is always "
            "strict; use @enforce_ordering"
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
            f"@enforce_ordering needs an integer 'order' key, and the message on "
            f"{message.channel.name!r} has {message.get('order')!r}; use it on "
            "websocket.connect/receive/disconnect consumers"
        ) from None


def _save_next_order(message: Any, next_order: int) -> None:
    session = message.channel_session
    session[NEXT_ORDER_KEY] = next_order
    _save_channel_session(session, channel_session_key(message.reply_channel.name))


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

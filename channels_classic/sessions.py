"""Sessions for consumers: the channel session of a socket, and the browser's HTTP session.

A channel session is an ordinary Django session whose key is derived from the socket's reply
channel, so every message of one socket sees the same data whichever worker runs it. An HTTP
session is the browser's own, found from the message's cookie or ``?session_key=``.
``enforce_ordering``, which keeps its state in the channel session, lives in ``ordering``
and is importable from here too, as in 1.x (with ``wait_channel_name`` and
``requeue_messages``).

A modified channel session is saved after its consumer even when it is empty, so a logout
sticks; one the consumer flushed or cycled stays under its reply channel's key, where the
socket's next message looks; and an expired record (the db and cached_db engines keep it
until clearsessions) is replaced by an empty session, so the socket's later messages still
run. ``docs/differences-from-1x.md`` ("Sessions and ordering") compares this with 1.x.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from importlib import import_module
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.core.exceptions import ImproperlyConfigured
from django.http import QueryDict
from django.http.cookie import parse_cookie

from .exceptions import ConsumeLater, UnsuitableSessionEngine
from .message import Message, header_pairs
from .settings_cache import read_once

P = ParamSpec("P")
R = TypeVar("R")

#: Keys derived from a name (channel sessions, ordering marks) are a three-letter prefix and
#: this many hex digits of SHA-1(name): 32 characters, the length of Django's own keys.
DERIVED_KEY_DIGITS = 29
#: The prefix of channel session keys (1.x's, so ported sessions keep their keys).
CHANNEL_SESSION_PREFIX = "chn"
#: The prefix of the keys of ``ordering``'s marks, kept in the channel session store.
ORDERING_MARK_PREFIX = "cho"
#: Exactly the derived keys: never accepted as HTTP session keys. Django's random keys can
#: start with a prefix (1 in 46,656 do) but are almost never hex after it (< 1 in 10^10).
_DERIVED_KEY = re.compile(
    rf"(?:{CHANNEL_SESSION_PREFIX}|{ORDERING_MARK_PREFIX})[0-9a-f]{{{DERIVED_KEY_DIGITS}}}"
)
ENGINE_SETTINGS = ("CHANNEL_SESSION_ENGINE", "SESSION_ENGINE")
_SIGNED_COOKIES = "django.contrib.sessions.backends.signed_cookies"


@read_once(*ENGINE_SETTINGS)
def channel_session_engine() -> ModuleType:
    """The session engine of channel sessions: CHANNEL_SESSION_ENGINE, else SESSION_ENGINE.

    Raises UnsuitableSessionEngine for the signed-cookies engine, which keeps its data in the
    browser's cookie: a worker has nowhere to store a channel session with it; and
    ImproperlyConfigured for a name that is not a session engine's module.
    """
    setting, fallback = ENGINE_SETTINGS
    name = getattr(settings, setting, None)
    if name is None:
        setting, name = fallback, getattr(settings, fallback)
    if name == _SIGNED_COOKIES:
        raise UnsuitableSessionEngine(
            "You cannot use channels session functionality with signed cookie sessions! "
            f"settings.{setting} = {name!r} cannot hold channel sessions: signed-cookie "
            "sessions live in the browser, and a worker has no cookie to write them to. Set "
            "CHANNEL_SESSION_ENGINE to a server-side engine, e.g. "
            "'django.contrib.sessions.backends.cache' or '...backends.db'"
        )
    try:
        engine = import_module(name)
    except (ImportError, TypeError, ValueError, AttributeError) as error:
        problem = f"it does not import ({type(error).__name__}: {error})"
    else:
        if hasattr(engine, "SessionStore"):
            return engine
        problem = "the module has no SessionStore class"
    raise ImproperlyConfigured(
        f"settings.{setting} = {name!r} is not a session engine: {problem}. Give the dotted "
        "path of a session engine module, e.g. 'django.contrib.sessions.backends.cache'"
    )


def derived_key(prefix: str, name: str) -> str:
    """The session key ``prefix`` + DERIVED_KEY_DIGITS hex digits of SHA-1(``name``)."""
    return prefix + hashlib.sha1(name.encode()).hexdigest()[:DERIVED_KEY_DIGITS]


def channel_session_key(reply_channel: str) -> str:
    """The session key of a reply channel's channel session (32 characters)."""
    return derived_key(CHANNEL_SESSION_PREFIX, reply_channel)


def session_for_reply_channel(reply_channel: str) -> SessionBase:
    """The channel session of ``reply_channel``, loaded now (empty if it does not exist yet).

    Raises UnsuitableSessionEngine when the configured engine is signed cookies.
    """
    return _load_channel_session(channel_session_key(reply_channel))[0]


def _load_channel_session(key: str) -> tuple[SessionBase, bool]:
    """The channel session with ``key``, loaded now, and whether a live record of it exists."""
    session = channel_session_engine().SessionStore(session_key=key)
    session.keys()  # loads now: the data as it is when the consumer starts
    found = session.session_key is not None  # every engine forgets a key it finds no record for
    _pin_key(session, key)
    return session, found


def _pin_key(session: SessionBase, key: str) -> None:
    # Django's stores drop a key they find no record for, and flush() and cycle_key() replace
    # it; a channel session's key is its reply channel's, whatever happened to the record.
    session._session_key = key


def _create_channel_session(session: SessionBase, key: str) -> None:
    """Creates the record of a channel session that was not found.

    Raises ConsumeLater when another worker created it meanwhile: the message runs again,
    with that session. A record can also exist unseen: an expired one, which the db and
    cached_db engines neither load nor overwrite (only clearsessions deletes it). That one is
    deleted and the session created afresh, or every message of the socket would fail so.
    """
    try:
        session.save(must_create=True)
        return
    except CreateError:
        if _load_channel_session(key)[1]:
            raise ConsumeLater() from None
    session.delete(key)
    try:
        session.save(must_create=True)
    except CreateError:
        raise ConsumeLater() from None


def save_channel_session(session: SessionBase, key: str) -> None:
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
    methods). Typed Any: decorators attach attributes Message does not declare
    (``channel_session``, ``http_session``, ``user``).

    Raises ValueError naming ``decorator`` when there is none.
    """
    for arg in args[:2]:
        if isinstance(arg, Message):
            return arg
    got = ", ".join(type(arg).__name__ for arg in args[:2]) or "no positional arguments"
    raise ValueError(
        f"{decorator} called without Message instance: @{decorator} found none among the "
        f"consumer's first two positional arguments (got {got}); it decorates consumers "
        "called as consumer(message, ...) or methods called as method(self, message, ...)"
    )


def channel_session(func: Callable[P, R]) -> Callable[P, R]:
    """Gives the consumer ``message.channel_session``: the session of its reply channel.

    The session is created on the socket's first message (and again if its record expired);
    if another worker creates it at the same moment, ConsumeLater puts the message back to run
    again (the worker retries it).
    After the consumer, even when it raised, the session is saved if it was modified, emptied
    included. Nested inside another @channel_session (the message has its session already)
    it only saves what changed, and, as in 1.x, asks for no reply channel: a message that
    was given a channel_session by other means passes through.
    """

    @functools.wraps(func)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        message = find_message(args, "channel_session")
        if hasattr(message, "channel_session"):
            return _with_session(func, message, args, kwargs)
        if message.reply_channel is None:
            raise ValueError(
                "No reply_channel sent to consumer; @channel_session can only be used on "
                f"messages containing it. The message on {message.channel.name!r} has none; "
                "use it on consumers of client messages (websocket.connect/receive/disconnect, "
                "http.request)"
            )
        key = channel_session_key(message.reply_channel.name)
        session, found = _load_channel_session(key)
        if not found:
            _create_channel_session(session, key)
        message.channel_session = session
        return _with_session(func, message, args, kwargs)

    return inner


def _with_session(
    func: Callable[P, R], message: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> R:
    """Runs the consumer, then saves ``message.channel_session`` if it changed (even if the
    consumer raised), under its reply channel's key (a session given by other means, on a
    message without one, under its own)."""
    try:
        return func(*args, **kwargs)
    finally:
        session = message.channel_session
        if session is not None and session.modified:
            if message.reply_channel is None:
                session.save()
            else:
                save_channel_session(session, channel_session_key(message.reply_channel.name))


def http_session_key(message: Message) -> str | None:
    """The HTTP session key a message carries: the ``session_key`` query parameter, else the
    session cookie; None when it has neither (``websocket.receive`` has no headers).

    Keys shaped as derived keys (channel sessions, ordering marks) are refused (None): both
    may share one store, and a channel session holds its socket's login, so its key must not
    work as an HTTP session key.
    """
    key = QueryDict(message.get("query_string") or b"").get("session_key")
    if not key:
        cookie = "; ".join(
            value.decode("latin-1")
            for name, value in header_pairs(message.get("headers"))
            if name == b"cookie"
        )
        key = parse_cookie(cookie).get(settings.SESSION_COOKIE_NAME)
    if not key or _DERIVED_KEY.fullmatch(key):
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


#: What 1.x imported from here that lives in ``ordering``.
_ORDERING_NAMES = ("enforce_ordering", "requeue_messages", "wait_channel_name")


def __getattr__(name: str) -> Any:
    # ``ordering`` builds on this module, so its names are looked up on first use rather than
    # imported in a cycle.
    if name in _ORDERING_NAMES:
        from . import ordering

        return getattr(ordering, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

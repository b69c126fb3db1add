"""The logged-in user of a message, from its channel or HTTP session.

``message.user`` comes from ``django.contrib.auth.get_user`` over the session, exactly as for
a request: the user's backend must still be configured and the session's auth hash must
still match (a changed password logs the socket out). A session key that names no live
session (forged, expired, or the key of a channel session) gives AnonymousUser.

Cross-domain pages, whose cookies the WebSocket does not carry, pass the session key on the
socket's URL: ``new WebSocket("wss://host/path?session_key=...")``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from .sessions import channel_and_http_session, channel_session, find_message, http_session

P = ParamSpec("P")
R = TypeVar("R")

#: The session keys of a Django login, copied together or not at all.
AUTH_SESSION_KEYS = (SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY)


def transfer_user(from_session: SessionBase, to_session: SessionBase) -> None:
    """Copies the login in ``from_session`` into ``to_session``; does nothing unless all three
    of Django's auth keys (user id, backend, session hash) are there."""
    if all(key in from_session for key in AUTH_SESSION_KEYS):
        for key in AUTH_SESSION_KEYS:
            to_session[key] = from_session[key]


def _user_of(session: SessionBase | None) -> Any:
    """The user logged in to ``session``, else AnonymousUser (also for no session)."""
    if session is None:
        return AnonymousUser()
    request = HttpRequest()  # get_user() only reads request.session
    request.session = session
    return get_user(request)


def channel_session_user(func: Callable[P, R]) -> Callable[P, R]:
    """@channel_session, plus ``message.user``: the user logged in to the channel session."""

    @functools.wraps(func)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        message = find_message(args, "channel_session_user")
        message.user = _user_of(message.channel_session)
        return func(*args, **kwargs)

    return channel_session(inner)


def http_session_user(func: Callable[P, R]) -> Callable[P, R]:
    """@http_session, plus ``message.user``: the user logged in to the HTTP session
    (AnonymousUser when the message carries no session key)."""

    @functools.wraps(func)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        message = find_message(args, "http_session_user")
        message.user = _user_of(message.http_session)
        return func(*args, **kwargs)

    return http_session(inner)


def _user_from_http(func: Callable[P, R], decorator: str) -> Callable[P, R]:
    """Sets ``message.user`` from the HTTP session and copies its login into the channel
    session; both sessions are already on the message."""

    @functools.wraps(func)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        message = find_message(args, decorator)
        message.user = _user_of(message.http_session)
        if message.http_session is not None:
            transfer_user(message.http_session, message.channel_session)
        return func(*args, **kwargs)

    return inner


def channel_session_user_from_http(func: Callable[P, R]) -> Callable[P, R]:
    """For ``websocket.connect``: @http_session and @channel_session, ``message.user`` from
    the HTTP session, and its login copied into the channel session, where
    @channel_session_user finds it on the socket's later messages."""
    inner = _user_from_http(func, "channel_session_user_from_http")
    return http_session(channel_session(inner))


def channel_and_http_session_user_from_http(func: Callable[P, R]) -> Callable[P, R]:
    """As ``channel_session_user_from_http`` on top of @channel_and_http_session, so the HTTP
    session, and ``message.user`` from it, are there on the socket's later messages too
    (1.x read the user before restoring the session, so later messages got AnonymousUser)."""
    inner = _user_from_http(func, "channel_and_http_session_user_from_http")
    return channel_and_http_session(inner)

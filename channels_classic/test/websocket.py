"""``WSClient``: a test client that speaks for one WebSocket (``docs/testing.md``).

Messages to ``websocket.connect``, ``websocket.receive`` and ``websocket.disconnect`` have
the shapes the interface server gives them (``interface.messages`` builds both), so
consumers see in tests what they see in production: connect carries ``headers`` (with the
client's cookies), ``query_string``, ``scheme`` and ``root_path``; receive and disconnect
carry no headers. Every message is numbered in ``order`` from 0, as the interface numbers a
socket's messages; an ``order`` given in ``content`` replaces the number, unless the client
is ``ordered``, which numbers every message it sends, to any channel, and refuses a manual
one (as in 1.x).

Logging in (``login``, ``force_login``) does what a browser and ``@channel_session_user``
together produce: an HTTP session holding the login, whose key the client sends as its
session cookie (so ``@channel_session_user_from_http`` finds the user on connect), and the
same login in the channel session of the client's reply channel (so ``@channel_session_user``
finds it on every message). 1.x sent the channel session's own key as the session cookie;
HTTP session decorators refuse channel session keys here, so that a socket's login cannot
be replayed as a browser session.
"""

from __future__ import annotations

import json as json_module
from collections.abc import Mapping
from http.cookies import SimpleCookie
from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import authenticate, load_backend, login
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from ..interface import messages
from ..layers.registry import DEFAULT_CHANNEL_LAYER
from ..message import header_pairs
from ..sessions import session_for_reply_channel
from .client import Client

#: The channels whose messages get the interface server's shapes.
CONNECT, RECEIVE, DISCONNECT = "websocket.connect", "websocket.receive", "websocket.disconnect"
#: The close code of a ``websocket.disconnect`` sent without one (a normal closure).
DEFAULT_CLOSE_CODE = 1000
#: The only reply ``check_accept`` takes as an accepted connection.
ACCEPT = {"accept": True}
_SESSIONS_APP = "django.contrib.sessions"


class WSClient(Client):
    """A client for one WebSocket, on the layer of ``alias``: cookies, headers, login.

    ``ordered=True`` numbers every message sent, to any channel, and makes an ``order`` in
    ``content`` a ValueError (see the module docstring).
    """

    def __init__(self, alias: str = DEFAULT_CHANNEL_LAYER, *, ordered: bool = False) -> None:
        super().__init__(alias)
        self.ordered = ordered
        #: The ``order`` of the next message.
        self.order = 0
        self._cookies: dict[str, str] = {}
        self._headers: dict[str, str | bytes] = {}
        self._session: SessionBase | None = None
        self._http_session: SessionBase | None = None

    # Cookies and headers

    def set_cookie(self, name: str, value: str) -> None:
        """Sends cookie ``name`` with ``value`` from now on (in websocket.connect's headers)."""
        self._cookies[name] = value

    def set_header(self, name: str | bytes, value: str | bytes) -> None:
        """Sends header ``name`` (lower-cased) with ``value`` from now on (either may be str or
        bytes, as 1.x took them); ValueError for ``cookie``, which ``set_cookie`` builds."""
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if name.lower() == "cookie":
            raise ValueError(
                f"Use set_cookie method for cookie header: set_header({name!r}, {value!r}) "
                "cannot set it; call set_cookie(name, value) for each cookie, and the client "
                "builds the cookie header from them"
            )
        self._headers[name.lower()] = value

    def get_cookies(self) -> dict[str, str]:
        """The cookies sent: those set, plus the session cookie once the client logged in."""
        cookies = dict(self._cookies)
        if self._http_session is not None and self._http_session.session_key:
            cookies.setdefault(settings.SESSION_COOKIE_NAME, self._http_session.session_key)
        return cookies

    @property
    def headers(self) -> list[list[bytes]]:
        """The headers sent, as the interface server gives them: [name, value] byte pairs."""
        headers = [list(pair) for pair in header_pairs(self._headers)]
        cookies = self.get_cookies()
        if cookies:
            jar = SimpleCookie()
            for name, value in cookies.items():
                jar[name] = value
            cookie = "; ".join(morsel.OutputString() for morsel in jar.values())
            headers.append([b"cookie", cookie.encode("latin-1")])
        return headers

    # Sessions and login

    @property
    def session(self) -> SessionBase:
        """The channel session of the reply channel, created if it does not exist yet (so
        ``session.save()`` works with every engine). Loaded once, then kept; ``login`` and
        ``force_login`` load it again. OSError without django.contrib.sessions (as in 1.x)."""
        if not apps.is_installed(_SESSIONS_APP):
            raise OSError(
                "Add django.contrib.sessions to the INSTALLED_APPS to use session: "
                f"{type(self).__name__}.session needs {_SESSIONS_APP!r} there"
            )
        if self._session is None:
            session = session_for_reply_channel(self.reply_channel)
            if not session.exists(session.session_key):
                session.save(must_create=True)
            self._session = session
        return self._session

    def login(self, **credentials: Any) -> bool:
        """Logs in the user ``authenticate(**credentials)`` finds (see the module docstring).
        Returns False, logging nobody in, if there is none, it is inactive, or
        django.contrib.sessions is not installed."""
        if not apps.is_installed(_SESSIONS_APP):
            return False
        user = authenticate(**credentials)
        if user is None or not user.is_active:
            return False
        self._login(user, None)
        return True

    def force_login(self, user: Any, backend: str | None = None) -> None:
        """Logs ``user`` in without credentials, through ``backend`` (default: the first of
        AUTHENTICATION_BACKENDS that can load users)."""
        if backend is None:
            backend = next(
                (
                    path
                    for path in settings.AUTHENTICATION_BACKENDS
                    if hasattr(load_backend(path), "get_user")
                ),
                None,
            )
        self._login(user, backend)

    def _login(self, user: Any, backend: str | None) -> None:
        # Imported here: channels_classic.auth loads the auth models, which needs the app
        # registry, and this package is imported before Django is set up (serve.py).
        from ..auth import transfer_user

        request = HttpRequest()
        request.session = (
            self._http_session or import_module(settings.SESSION_ENGINE).SessionStore()
        )
        login(request, user, backend)
        request.session.save()
        self._http_session = request.session
        self._session = None  # consumers may have changed it since it was loaded
        transfer_user(request.session, self.session)
        self.session.save()

    # Messages

    def send(
        self,
        to: str,
        content: Mapping[str, Any] | None = None,
        text: Any = None,
        path: str = "/",
    ) -> None:
        """Sends a message to channel ``to`` now, shaped as the module docstring says.

        ``path`` may carry a query (``"/room/?a=1"``), kept for ``websocket.connect`` only;
        ``text`` that is not a str is sent as JSON. Keys of ``content`` win over the built
        ones; an ``order`` in it is a ValueError when the client is ``ordered``.
        """
        self.channel_layer.send(to, self._message(to, content, text, path))

    def _message(
        self, to: str, content: Mapping[str, Any] | None, text: Any, path: str
    ) -> dict[str, Any]:
        extra = self._content(to, content)
        if text is None:
            text = extra.get("text")
        if text is not None and not isinstance(text, str):
            text = json_module.dumps(text)
        if self.ordered and "order" in extra:
            raise ValueError(
                'Do not use "order" manually with "ordered=True": '
                f"a WSClient(ordered=True) numbers its messages itself, but the message to "
                f"{to!r} has order={extra['order']!r}: drop it, or use WSClient() to set "
                "orders by hand"
            )
        path, _, query = path.partition("?")
        order = self.order
        built: dict[str, Any]
        if to == CONNECT:
            scope = {"path": path, "query_string": query.encode(), "headers": self.headers}
            built = dict(messages.websocket_connect(scope, self.reply_channel))
        elif to == RECEIVE:
            frame = {"bytes": extra["bytes"]} if "bytes" in extra else {"text": text}
            built = dict(messages.websocket_receive(self.reply_channel, path, order, frame))
        elif to == DISCONNECT:
            code = extra.get("code", DEFAULT_CLOSE_CODE)
            built = dict(messages.websocket_disconnect(self.reply_channel, path, code, order))
        else:
            built = {"reply_channel": self.reply_channel, "path": path, "headers": self.headers}
        if to in (CONNECT, RECEIVE, DISCONNECT) or self.ordered:
            built["order"] = order
            self.order += 1
        message = {**built, **extra}
        if text is not None and "bytes" not in message:
            message["text"] = text
        return message

    def consume(self, channel: str, fail_on_none: bool = True, check_accept: bool = True) -> Any:
        """``Client.consume``; for ``websocket.connect`` with ``check_accept``, also takes the
        first reply and raises AssertionError unless it is exactly ``{"accept": True}``."""
        result = super().consume(channel, fail_on_none=fail_on_none)
        if channel == CONNECT and check_accept:
            reply = super().receive()
            if reply != ACCEPT:
                raise AssertionError(
                    f"Connection rejected: {reply} != '{{accept: True}}' (the first reply to "
                    f"{self.reply_channel!r}); pass check_accept=False to read it yourself"
                )
        return result

    def send_and_consume(  # type: ignore[override]  # 1.x's order of arguments
        self,
        channel: str,
        content: Mapping[str, Any] | None = None,
        text: Any = None,
        path: str = "/",
        fail_on_none: bool = True,
        check_accept: bool = True,
    ) -> Any:
        """``send`` then ``consume`` on ``channel``; returns what the consumer returned."""
        self.send(channel, content, text, path)
        return self.consume(channel, fail_on_none=fail_on_none, check_accept=check_accept)

    def receive(self, json: bool = True) -> Any:
        """The next message on the reply channel: its ``text`` decoded from JSON (``json``),
        its ``text`` as is, or the whole content when it has no text; None if there is none.
        ValueError when ``json`` and the text is not JSON."""
        content = super().receive()
        if content is None:
            return None
        text = content.get("text")
        if not isinstance(text, str):
            return content
        if not json:
            return text
        try:
            return json_module.loads(text)
        except json_module.JSONDecodeError as error:
            raise ValueError(
                f"The reply {text!r} to {self.reply_channel!r} is not JSON ({error}); use "
                "receive(json=False) to get the text as is"
            ) from error

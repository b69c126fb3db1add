"""Origin checks for WebSocket connects.

Browsers send the page's origin with every WebSocket handshake and let any page open a
socket to any host, with the user's cookies. A ``websocket.connect`` consumer that trusts
those cookies must therefore check where the page came from, as CSRF protection does for
forms. The validators here decorate such consumers and refuse a socket by raising
DenyConnection, which the worker turns into an HTTP 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from ..exceptions import DenyConnection
from ..message import Message

CONNECT = "websocket.connect"
#: Hosts allowed with DEBUG on and ALLOWED_HOSTS empty (Django's own development default).
DEBUG_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class BaseOriginValidator:
    """Decorates a ``websocket.connect`` consumer: the socket is refused (DenyConnection)
    unless its origin is present and ``validate_origin`` accepts it.

    Subclass it and implement ``validate_origin(message, origin) -> bool``; use the subclass
    itself as the decorator::

        @MyOriginValidator
        def ws_connect(message): ...

    ``get_origin`` and ``get_header`` find the origin, as in 1.x; override them to look
    elsewhere (a proxy's header, say).
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        functools.update_wrapper(self, func)
        self.func = func

    def __call__(self, message: Message, *args: Any, **kwargs: Any) -> Any:
        if message.channel.name not in (CONNECT, None):
            raise ValueError(
                f"{type(self).__name__} decorates websocket.connect consumers only, but "
                f"{getattr(self.func, '__qualname__', self.func)} got a message on "
                f"{message.channel.name!r}: later messages carry no origin"
            )
        origin = self.get_origin(message)
        if not self.validate_origin(message, origin):
            raise DenyConnection(f"origin {origin!r} refused by {type(self).__name__}")
        return self.func(message, *args, **kwargs)

    def get_header(self, message: Message, name: bytes) -> list[Any]:
        """What follows the name in the message's first header called ``name`` (lower-case
        bytes), as a list; KeyError if there is none. ``headers`` may be [name, value]
        pairs or a dict; malformed entries are skipped."""
        headers = message.get("headers") or ()
        entries = headers.items() if isinstance(headers, Mapping) else headers
        for header in entries:
            try:
                found = header[0]
                if isinstance(found, str):
                    found = found.encode("latin-1")
                if found.lower() == name:
                    return list(header[1:])
            except (IndexError, TypeError, AttributeError, UnicodeEncodeError):
                continue
        raise KeyError(f"No header named {name!r}")

    def get_origin(self, message: Message) -> str:
        """The message's origin; DenyConnection when it is missing, empty or not ASCII."""
        try:
            value = self.get_header(message, b"origin")[0]
            origin = value.decode("ascii") if isinstance(value, bytes) else str(value)
            origin.encode("ascii")
        except (IndexError, KeyError, UnicodeError, AttributeError):
            origin = ""
        if not origin:
            raise DenyConnection(
                f"no usable Origin header on the connect to {message.get('path')!r}: refused "
                f"by {type(self).__name__}"
            )
        return origin

    def validate_origin(self, message: Message, origin: str) -> bool:
        """True to accept the socket whose handshake came from ``origin`` (an ASCII string
        such as ``"https://example.com:8443"``, or ``"null"``)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement validate_origin(self, message, origin) "
            "returning True to accept the socket, False to refuse it (BaseOriginValidator "
            "only finds the origin)"
        )


class AllowedHostsOnlyOriginValidator(BaseOriginValidator):
    """Accepts origins whose host is in ALLOWED_HOSTS, matched as Django matches a request's
    Host (``validate_host``: ``.example.com`` covers subdomains, ``*`` anything); the port is
    ignored. The ``null`` origin (sandboxed pages, files) and malformed ones are refused.
    With DEBUG on and ALLOWED_HOSTS empty, localhost, 127.0.0.1 and [::1] are accepted."""

    def validate_origin(self, message: Message, origin: str) -> bool:
        allowed_hosts = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed_hosts:
            allowed_hosts = DEBUG_ALLOWED_HOSTS
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:  # e.g. an unclosed IPv6 bracket
            return False
        host, _port = split_domain_port(netloc)
        return bool(host) and validate_host(host, allowed_hosts)


#: The 1.x name of AllowedHostsOnlyOriginValidator.
allowed_hosts_only = AllowedHostsOnlyOriginValidator

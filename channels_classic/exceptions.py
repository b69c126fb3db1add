"""Every exception channels_classic raises on purpose, in one flat module.

Layer exceptions are the channels 4 classes themselves (re-exported), so code written for
channels 4 layers catches ours and the other way round.
"""

from __future__ import annotations

from typing import Any

import channels.exceptions
import redis.exceptions
from channels.exceptions import ChannelFull as ChannelFull
from channels.exceptions import MessageTooLarge as MessageTooLarge
from django.core.exceptions import ImproperlyConfigured

from . import close_codes


class ChannelLayerUnavailable(redis.exceptions.ConnectionError, ConnectionError):
    """The layer's Redis cannot be reached or stopped answering.

    Raised by sends and by receives that were waiting when the connection broke. The layer
    object stays usable: the next call reconnects. It is both a ``redis.exceptions.
    ConnectionError`` (what channels_redis users catch) and a builtin ``ConnectionError``.
    """


#: The errors that mean a layer cannot be reached (rather than that it refused a message):
#: ours, redis-py's (channels_redis raises those) and the builtin ones under them.
UNAVAILABLE_ERRORS = (
    ConnectionError,
    TimeoutError,
    OSError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def is_unavailable(error: BaseException) -> bool:
    """True if ``error`` means the layer cannot be reached now (worth waiting for)."""
    return isinstance(error, UNAVAILABLE_ERRORS)


class InvalidChannelLayerError(channels.exceptions.InvalidChannelLayerError, ImproperlyConfigured):
    """A ``CHANNEL_LAYERS`` entry is wrong; the message names the alias and the key.

    A ``ValueError`` (as in 1.x and channels 4) and Django's ``ImproperlyConfigured``.
    """


class ProcessChannelOfAnotherLayer(ValueError, AssertionError):
    """A receive named a process channel that another layer object made (only the one whose
    ``new_channel()`` made it may receive on it). A ``ValueError``, and an ``AssertionError``
    as channels_redis raises for the same mistake."""


class InvalidReply(ValueError):
    """A message on a reply channel cannot be turned into something to send to the client.

    The interface server logs it and drops that message; the connection stays as it was.
    """


class ConsumeLater(Exception):
    """Raised by a consumer to have its message put back at the end of its channel and
    consumed again later (up to the worker's retry limit)."""


class DenyConnection(Exception):
    """Raised by a ``websocket.connect`` consumer to refuse the socket (HTTP 403)."""


class ChannelSocketException(Exception):
    """Base of exceptions that act on the socket of the message being consumed: the worker
    calls ``run(message)`` when a consumer raises one."""

    def run(self, message: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define run(message)")


class ResponseLater(Exception):
    """Raised by a view to send no response now: another consumer will answer the request's
    reply channel later (long polling). Also reachable as ``request.ResponseLater``."""


class RequestTimeout(channels.exceptions.RequestTimeout):
    """A request body arriving in chunks was not complete in time (answered 408)."""


class RequestAborted(channels.exceptions.RequestAborted):
    """The client abandoned the request while its body was arriving (nothing is sent)."""


class UnsuitableSessionEngine(ImproperlyConfigured, ValueError):
    """The session engine cannot hold channel sessions (the signed-cookies engine keeps its
    data in the browser, where a worker cannot write).

    Django's ``ImproperlyConfigured``, and a ``ValueError`` as 1.x raised.
    """


class WebsocketCloseException(ChannelSocketException):
    """Raised by a consumer to close the message's WebSocket with ``code``: a close code, or
    None or True for 1000 (a normal closure), as ``WebsocketConsumer.close()`` takes it.

    A code a server may not send raises InvalidReply when the exception is made, with the
    message and type ``close()`` gives (the codes are checked in one place:
    ``close_codes``). Works on any reply channel (1.x refused daphne's reply channel names
    and killed the worker).
    """

    def __init__(self, code: int | bool | None = None) -> None:
        try:
            checked = close_codes.close_code(True if code is None else code)
        except ValueError as error:
            raise InvalidReply(f"invalid close code {code!r}: {error}") from None
        if checked is None:
            raise InvalidReply(
                "WebsocketCloseException(False) closes nothing: give a close code, or None "
                "for a normal closure (1000)"
            )
        super().__init__(checked)
        self.code = checked

    def run(self, message: Any) -> None:
        """Sends the close to the message's reply channel; ValueError if it has none."""
        if message.reply_channel is None:
            raise ValueError(
                "You cannot raise CloseWebsocketError from a non-websocket handler. "
                f"WebsocketCloseException was raised for a message on "
                f"{message.channel.name!r} that has no reply channel, so there is no socket "
                "to close; raise it from consumers of websocket.* messages"
            )
        message.reply_channel.send({"close": self.code})


class SendNotAvailableOnDemultiplexer(Exception):
    """A demultiplexer (or a consumer behind one) tried to send directly: replies go through
    the ``multiplexer`` argument, which wraps them in the stream's envelope."""


class InvalidDelayRequest(ValueError):
    """A message on ``asgi.delay`` breaks the rules; the text shows the bad value and the fix.

    Raised to senders by ``delay_request`` and ``send_delayed``; the delay server logs it and
    skips that message, and goes on.
    """

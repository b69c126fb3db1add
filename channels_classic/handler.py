"""HTTP in the worker: ``http.request`` messages through Django's own views.

``AsgiRequest`` is the Django request of an ``http.request`` message (a ``WSGIRequest`` over
the message's environ, see ``http_request``). ``AsgiHandler`` is Django's request handler for
such messages: middleware, sessions, auth, CSRF and the admin work as on any Django site;
calling an instance with a message yields the ``http.response`` messages of its response,
and ``encode_response`` turns any Django response into them. ``ViewConsumer`` is the
consumer that sends them: the default ``http.request`` route. As in 1.x, subclass the handler
(``get_response``, ``request_class``, ``chunk_size``) and name it in a consumer's
``handler_class``; routing a handler class itself (``route("http.request", AsgiHandler)``)
works too: called with a message, the class serves it.

A streaming response always ends: if its iterator raises, the error is logged and the
response ends there (the client sees it end early); if the interface reports the client
gone, or the reply channel stays full past the retry time, the worker stops iterating and
frees its thread. A part that takes for ever to produce still holds the thread meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from django.core import signals
from django.core.handlers import base
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.urls import set_script_prefix

from .defaults import (
    BODY_CHUNK_SIZE,
    BODY_RECEIVE_TIMEOUT,
    REPLY_RETRY_EVERY,
    REPLY_RETRY_FOR,
    STREAM_DISCONNECT_CHECK_INTERVAL,
)
from .exceptions import ChannelFull, RequestAborted, RequestTimeout, ResponseLater
from .http_request import read_body, wsgi_environ
from .message import Message
from .names import http_disconnect_channel

logger = logging.getLogger(__name__)

#: The environ key set when a view raised ResponseLater: nothing is sent, whatever response
#: middleware made of the placeholder response.
RESPONSE_LATER = "channels.response_later"
#: The message that ends a streaming response after its parts.
END_OF_RESPONSE: dict[str, Any] = {"content": b"", "more_content": False}
#: The response to a streaming view whose iterator failed before its first part.
FAILED_RESPONSE: dict[str, Any] = {"status": 500, "headers": [], "content": b""}


class AsgiRequest(WSGIRequest):
    """The Django request of an ``http.request`` message, which it keeps as ``message`` (and
    its ``reply_channel``). A body arriving in chunks is read when the request is made:
    RequestTimeout after ``body_receive_timeout`` seconds, RequestAborted when the client
    gave up. Views may raise ``request.ResponseLater``."""

    ResponseLater = ResponseLater
    #: Seconds to wait for a body arriving in chunks.
    body_receive_timeout: float = BODY_RECEIVE_TIMEOUT

    def __init__(self, message: Message) -> None:
        self.message = message
        self.reply_channel = message.reply_channel
        super().__init__(wsgi_environ(message, read_body(message, self.body_receive_timeout)))


class _ServesMessages(type):
    """Calling a handler class with a Message, as a worker calls a routed consumer, serves
    it: the class's consumer (one per class, so middleware loads once) sends the response.
    Called with anything else, the class makes an instance as usual."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and isinstance(args[0], Message):
            _consumer_of(cls)(args[0])
            return None
        return super().__call__(*args, **kwargs)


class AsgiHandler(base.BaseHandler, metaclass=_ServesMessages):
    """Django's request handler for ``http.request`` messages.

    ``handler(message)`` yields the response messages (see ``encode_response``); ``respond``
    returns the Django response itself, or None when there is nothing to send.
    """

    request_class = AsgiRequest
    #: Response bodies travel in messages of at most this many bytes.
    chunk_size = BODY_CHUNK_SIZE

    def __init__(self) -> None:
        super().__init__()
        self.load_middleware()

    def __call__(self, message: Message) -> Iterator[dict[str, Any]]:
        response = self.respond(message)
        if response is None:
            return
        try:
            yield from self.encode_response(response)
        finally:
            response.close()

    def respond(self, message: Message) -> HttpResponseBase | None:
        """The response to ``message`` through the middleware and views: 400 for a request
        that does not decode, 408 for a body that did not arrive in time; None when the
        client abandoned it or the view raised ResponseLater. Close what it returns (that
        ends the request, firing ``request_finished``)."""
        signals.request_started.send(sender=type(self), message=message)
        try:
            request = self.request_class(message)
        except UnicodeDecodeError:
            logger.warning("handler: bad request %s (UnicodeDecodeError)", message.get("path"))
            return HttpResponseBadRequest()
        except RequestTimeout as error:
            logger.warning("handler: %s", error)
            return HttpResponse(b"408 Request Timeout (upload too slow)", status=408)
        except RequestAborted:
            return None
        set_script_prefix(get_script_name(request.environ))
        response = self.get_response(request)
        if request.environ.get(RESPONSE_LATER):
            response.close()
            return None
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response

    def process_exception_by_middleware(self, exception: Exception, request: Any) -> Any:
        # ResponseLater from a view means "send nothing": the request is marked, and
        # response middleware sees a placeholder response.
        if isinstance(exception, ResponseLater):
            request.environ[RESPONSE_LATER] = True
            return HttpResponse()
        return super().process_exception_by_middleware(exception, request)

    @classmethod
    def encode_response(cls, response: HttpResponseBase) -> Iterator[dict[str, Any]]:
        """The ``http.response`` messages of a Django response: status and
        headers (names as written, one ``Set-Cookie`` per cookie) on the first; the body in
        ``chunk_size`` pieces with ``more_content`` on all but the last. A streaming response
        sends each part as it is made, then a last message without content."""
        headers = [
            (bytes(name, "ascii"), bytes(value, "latin-1")) for name, value in response.items()
        ]
        headers += [
            (b"Set-Cookie", cookie.output(header="").encode("ascii"))
            for cookie in response.cookies.values()
        ]
        message: dict[str, Any] = {"status": response.status_code, "headers": headers}
        if response.streaming:
            for part in response:
                for chunk, _ in cls.chunk_bytes(part):
                    yield {**message, "content": chunk, "more_content": True}
                    message = {}
            yield {**message, "more_content": False}
            return
        for chunk, last in cls.chunk_bytes(response.content):  # type: ignore[attr-defined]
            yield {**message, "content": chunk, "more_content": not last}
            message = {}

    @classmethod
    def chunk_bytes(cls, data: bytes) -> Iterator[tuple[bytes, bool]]:
        """``data`` in ``chunk_size`` pieces as (chunk, is the last); empty data is one empty
        chunk."""
        if not data:
            yield data, True
            return
        for start in range(0, len(data), cls.chunk_size):
            yield data[start : start + cls.chunk_size], start + cls.chunk_size >= len(data)


#: The consumer of each handler class called with a message.
_CONSUMERS: dict[type, ViewConsumer] = {}


def _consumer_of(handler_class: type) -> ViewConsumer:
    consumer = _CONSUMERS.get(handler_class)
    if consumer is None:
        consumer = ViewConsumer()
        consumer.handler_class = handler_class  # type: ignore[assignment]
        consumer = _CONSUMERS.setdefault(handler_class, consumer)
    return consumer


def send_reply(
    message: Message,
    reply: dict[str, Any],
    *,
    retry_for: float = REPLY_RETRY_FOR,
    retry_every: float = REPLY_RETRY_EVERY,
) -> bool:
    """Sends a response message now, retrying every ``retry_every`` seconds while the reply
    channel is full; after ``retry_for`` seconds it is dropped. Returns whether it was sent."""
    assert message.reply_channel is not None
    deadline = time.monotonic() + retry_for
    while True:
        try:
            message.reply_channel.send(reply, immediately=True)
            return True
        except ChannelFull:
            if time.monotonic() > deadline:
                logger.error(
                    "handler: reply channel %s stayed full for %.1f s; response message "
                    "dropped. Is the client reading?",
                    message.reply_channel.name,
                    retry_for,
                )
                return False
            time.sleep(retry_every)


class _DepartureWatch:
    """Tells a worker streaming a response whether the interface reported its client gone,
    asking the layer (the request's own disconnect channel) at most every ``interval``."""

    def __init__(self, message: Message, interval: float) -> None:
        assert message.channel_layer is not None and message.reply_channel is not None
        self._layer = message.channel_layer
        self._channel = http_disconnect_channel(message.reply_channel.name)
        self._interval = interval
        self._next_check = 0.0

    def client_left(self) -> bool:
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + self._interval
        return self._layer.receive([self._channel])[1] is not None


class ViewConsumer:
    """The default ``http.request`` consumer: answers through ``handler_class``.

    One handler per consumer, made on the first request (middleware loads once). A
    streaming response checks every ``disconnect_check_interval`` seconds whether its client
    left.
    """

    handler_class: type[AsgiHandler] = AsgiHandler

    def __init__(
        self, *, disconnect_check_interval: float = STREAM_DISCONNECT_CHECK_INTERVAL
    ) -> None:
        self.disconnect_check_interval = disconnect_check_interval

    @cached_property
    def handler(self) -> AsgiHandler:
        return self.handler_class()

    def __call__(self, message: Message) -> None:
        response = self.handler.respond(message)
        if response is None:
            return
        try:
            replies = self.handler.encode_response(response)
            watch = (
                _DepartureWatch(message, self.disconnect_check_interval)
                if response.streaming
                else None
            )
            self._send_all(message, replies, watch)
        finally:
            response.close()

    def _send_all(
        self, message: Message, replies: Iterator[dict[str, Any]], watch: _DepartureWatch | None
    ) -> None:
        """Sends each response message as it is made. A failing streaming iterator ends the
        response early; a client gone (or not reading) stops the iteration."""
        sent = 0
        while True:
            try:
                reply = next(replies, None)
            except Exception:
                logger.exception(
                    "handler: the streaming response to %s %s failed after %d message(s); "
                    "ended it early",
                    message["method"],
                    message["path"],
                    sent,
                )
                send_reply(message, dict(END_OF_RESPONSE) if sent else dict(FAILED_RESPONSE))
                return
            if reply is None:
                return
            if watch is not None and watch.client_left():
                logger.info(
                    "handler: the client of %s %s left; stopped streaming after %d message(s)",
                    message["method"],
                    message["path"],
                    sent,
                )
                return
            if not send_reply(message, reply):
                return
            sent += 1

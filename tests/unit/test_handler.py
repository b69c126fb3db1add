"""The worker's HTTP bridge (channels_classic/handler.py, http_request.py) on the in-memory
layer: request messages in, WSGI environs and Django views in the middle, response messages
out."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path

from channels_classic.defaults import BODY_CHUNK_SIZE
from channels_classic.exceptions import RequestAborted, RequestTimeout, ResponseLater
from channels_classic.handler import AsgiHandler, AsgiRequest, ViewConsumer, send_reply
from channels_classic.http_request import read_body, wsgi_environ
from channels_classic.interface import messages
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.message import Message
from channels_classic.names import http_disconnect_channel
from channels_classic.routing import route
from channels_classic.worker import Worker

#: Every streaming view here stops after this many parts, so no test can hang.
PART_LIMIT = 500


# Views and middleware the Django tests route to (ROOT_URLCONF is this module).


def hello(request):
    return HttpResponse(b"hello")


def later(request):
    raise ResponseLater()


def failing_stream(request):
    """Two parts, then the iterator raises."""

    def parts():
        yield b"part 0\n"
        yield b"part 1\n"
        raise RuntimeError("the stream broke on purpose")

    return StreamingHttpResponse(parts())


def endless_stream(request):
    """A part every 10 ms until PART_LIMIT: for a client, it never ends."""

    def parts():
        for number in range(PART_LIMIT):
            time.sleep(0.01)
            yield f"tick {number}\n".encode()

    return StreamingHttpResponse(parts())


urlpatterns = [
    path("hello/", hello),
    path("later/", later),
    path("failing-stream/", failing_stream),
    path("endless/", endless_stream),
]


class ReplacingMiddleware:
    """Replaces every response with a new one (as some caching or error-page middleware do)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        return HttpResponse(b"replaced", status=response.status_code)


@pytest.fixture
def layer() -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(capacity=1000), alias="test")


@pytest.fixture
def plain_views(settings, transactional_db):
    """This module's views, with no middleware. (Django closes stale database connections
    around each request, and may find one another test opened.)"""
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = []


@pytest.fixture
def views(plain_views, settings):
    """This module's views behind ReplacingMiddleware alone."""
    settings.MIDDLEWARE = [f"{__name__}.ReplacingMiddleware"]


def request(
    layer: ClassicLayer,
    path: str = "/hello/",
    *,
    body: bytes = b"",
    body_channel: str | None = None,
    headers: list[tuple[bytes, bytes]] = (),
    **scope,
) -> Message:
    """An ``http.request`` message as the interface server builds it from ``scope``."""
    asgi_scope = {"method": "GET", "path": path, "headers": list(headers), **scope}
    reply_channel = layer.new_channel("test.reply")
    content = messages.http_request(asgi_scope, reply_channel, body, body_channel)
    return Message(dict(content), "http.request", layer)


def replies(layer: ClassicLayer, message: Message) -> list[dict]:
    """Every response message waiting on the message's reply channel."""
    received = []
    while (reply := layer.receive([message.reply_channel.name])[1]) is not None:
        received.append(reply)
    return received


# wsgi_environ


def test_the_environ_joins_repeated_headers(layer):
    """Repeated headers are joined with ',' (cookies with '; '), content headers lose the
    HTTP_ prefix, and the path loses the root path."""
    message = request(
        layer,
        "/app/caf\u00e9/",
        root_path="/app",
        query_string=b"q=%C3%A9&x=1",
        headers=[
            (b"accept", b"text/html"),
            (b"accept", b"application/json"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"content-type", b"text/plain"),
            (b"content-length", b"3"),
            (b"x-name", b"J\xfcrgen"),
        ],
        client=("10.0.0.7", 5123),
    )
    environ = wsgi_environ(message, b"abc")
    assert environ["HTTP_ACCEPT"] == "text/html,application/json"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert (environ["CONTENT_TYPE"], environ["CONTENT_LENGTH"]) == ("text/plain", "3")
    assert "HTTP_CONTENT_TYPE" not in environ
    assert environ["HTTP_X_NAME"] == "J\u00fcrgen"
    assert environ["SCRIPT_NAME"] == "/app"
    assert environ["PATH_INFO"] == "/caf\u00e9/".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "q=%C3%A9&x=1"
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("10.0.0.7", "5123")
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("unknown", "0")
    assert environ["wsgi.input"].read() == b"abc"


# response_messages


def test_a_large_body_travels_in_512_kib_messages():
    """A body of two chunks and a byte is three messages: status and headers on the first,
    more_content on all but the last."""
    body = bytes(range(256)) * (BODY_CHUNK_SIZE // 128) + b"!"
    response = HttpResponse(body, content_type="x/y")
    sent = list(AsgiHandler.encode_response(response))
    assert BODY_CHUNK_SIZE == AsgiHandler.chunk_size == 512 * 1024
    assert [len(m["content"]) for m in sent] == [BODY_CHUNK_SIZE, BODY_CHUNK_SIZE, 1]
    assert [m["more_content"] for m in sent] == [True, True, False]
    assert (sent[0]["status"], sent[0]["headers"]) == (200, [(b"Content-Type", b"x/y")])
    assert all("status" not in m for m in sent[1:])
    assert b"".join(m["content"] for m in sent) == body


def test_an_empty_body_is_one_message():
    """A response without a body is a single message with empty content; each cookie is a
    header of its own."""
    response = HttpResponse(status=204)
    del response["Content-Type"]
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    (sent,) = AsgiHandler.encode_response(response)
    assert sent == {
        "status": 204,
        "headers": [(b"Set-Cookie", b" a=1; Path=/"), (b"Set-Cookie", b" b=2; Path=/")],
        "content": b"",
        "more_content": False,
    }


def test_a_stream_is_its_chunked_parts_and_an_end():
    """A streaming response sends each part (a large one in chunks) with more_content, the
    first one with the status, then a last message without content (as 1.x did)."""
    parts = [b"a", b"b" * (BODY_CHUNK_SIZE + 1)]
    sent = list(AsgiHandler.encode_response(StreamingHttpResponse(parts)))
    assert [(len(m.get("content", b"")), m["more_content"]) for m in sent] == [
        (1, True),
        (BODY_CHUNK_SIZE, True),
        (1, True),
        (0, False),
    ]
    assert sent[0]["status"] == 200 and all("status" not in m for m in sent[1:])
    (only,) = AsgiHandler.encode_response(StreamingHttpResponse([]))
    assert (only["status"], only["more_content"]) == (200, False)


# read_body


def test_body_chunks_are_joined_in_their_order(layer):
    """Chunks arriving out of order are put back in ``order`` after the first part."""
    message = request(layer, body=b"0", body_channel="http.request.body.t1")
    layer.send("http.request.body.t1", dict(messages.http_body_chunk(b"2", False, 2)))
    layer.send("http.request.body.t1", dict(messages.http_body_chunk(b"1", True, 1)))
    assert read_body(message) == b"012"


def test_a_body_that_stops_arriving_times_out(layer):
    """Chunks that are not all there within the timeout raise RequestTimeout, on time."""
    message = request(layer, body=b"0", body_channel="http.request.body.t2")
    layer.send("http.request.body.t2", dict(messages.http_body_chunk(b"1", True, 1)))
    started = time.monotonic()
    with pytest.raises(RequestTimeout, match=r"http.request.body.t2 incomplete after 0.2 s"):
        read_body(message, timeout=0.2)
    assert time.monotonic() - started < 2


def test_a_closed_chunk_aborts_the_request(layer):
    """A chunk saying the client gave up raises RequestAborted."""
    message = request(layer, body_channel="http.request.body.t3")
    layer.send("http.request.body.t3", {"closed": True})
    with pytest.raises(RequestAborted, match="abandoned the request body"):
        read_body(message)


class QuickRequest(AsgiRequest):
    body_receive_timeout = 0.2


class QuickHandler(AsgiHandler):
    request_class = QuickRequest


class QuickConsumer(ViewConsumer):
    """A view consumer whose requests wait 0.2 s for their body (as 1.x tuned it)."""

    handler_class = QuickHandler


def test_a_slow_upload_is_answered_408(layer, plain_views):
    """The view consumer answers a body that does not arrive in time with 408."""
    message = request(layer, body_channel="http.request.body.t4")
    QuickConsumer()(message)
    (reply,) = replies(layer, message)
    assert (reply["status"], reply["content"]) == (408, b"408 Request Timeout (upload too slow)")


def test_an_abandoned_upload_gets_no_response(layer, plain_views):
    """The view consumer sends nothing for a request whose client gave up."""
    message = request(layer, body_channel="http.request.body.t5")
    layer.send("http.request.body.t5", {"closed": True})
    ViewConsumer()(message)
    assert replies(layer, message) == []


# send_reply


def test_a_full_reply_channel_is_retried_then_dropped(caplog):
    """A reply to a full channel goes out once the client reads; if it never does, it is
    dropped after the retry time with an error naming the channel."""
    layer = ClassicLayer(InMemoryChannelLayer(capacity=1), alias="test")
    message = request(layer)
    reply_channel = message.reply_channel.name
    layer.send(reply_channel, {"content": b"first"})
    reader = threading.Timer(0.2, layer.receive, args=([reply_channel],))
    reader.start()
    assert send_reply(message, {"content": b"second"}, retry_for=5, retry_every=0.01)
    reader.join()
    assert replies(layer, message) == [{"content": b"second"}]

    layer.send(reply_channel, {"content": b"third"})
    started = time.monotonic()
    assert not send_reply(message, {"content": b"fourth"}, retry_for=0.2, retry_every=0.01)
    assert 0.2 <= time.monotonic() - started < 2
    assert f"reply channel {reply_channel} stayed full for 0.2 s" in caplog.text
    assert replies(layer, message) == [{"content": b"third"}]


# ViewConsumer through Django


def test_views_answer_through_the_middleware(layer, views):
    """A view's response goes out as the middleware made it."""
    message = request(layer, "/hello/")
    ViewConsumer()(message)
    (reply,) = replies(layer, message)
    assert (reply["status"], reply["content"], reply["more_content"]) == (200, b"replaced", False)


def test_response_later_survives_a_middleware_that_replaces_responses(layer, views):
    """A view raising ResponseLater sends nothing, even when a middleware swapped the
    placeholder response for one of its own."""
    message = request(layer, "/later/")
    ViewConsumer()(message)
    assert replies(layer, message) == []


def test_a_stream_whose_iterator_raises_still_ends(layer, plain_views, caplog):
    """The parts made before the error go out, the error is logged, and the response ends."""
    message = request(layer, "/failing-stream/")
    ViewConsumer()(message)
    sent = replies(layer, message)
    assert [m["content"] for m in sent] == [b"part 0\n", b"part 1\n", b""]
    assert [m["more_content"] for m in sent] == [True, True, False]
    assert "the streaming response to GET /failing-stream/ failed after 2 message(s)" in (
        caplog.text
    )
    assert "the stream broke on purpose" in caplog.text


def test_a_stream_stops_when_the_interface_reports_the_client_gone(layer, plain_views, caplog):
    """An endless stream stops, freeing the worker thread, once the request's disconnect
    channel has the interface's notice."""
    caplog.set_level(logging.INFO, logger="channels_classic.handler")
    message = request(layer, "/endless/")
    consumer = ViewConsumer(disconnect_check_interval=0.05)
    streaming = threading.Thread(target=consumer, args=(message,))
    streaming.start()
    reply_channel = message.reply_channel.name
    received = []
    deadline = time.monotonic() + 5
    while len(received) < 5 and time.monotonic() < deadline:
        _, reply = layer.receive([reply_channel], block=True)
        received.append(reply)
    notice = messages.http_disconnect(reply_channel, "/endless/")
    layer.send(http_disconnect_channel(reply_channel), dict(notice))
    streaming.join(5)
    assert not streaming.is_alive()
    assert len(received) == 5
    assert "the client of GET /endless/ left; stopped streaming" in caplog.text
    assert len(replies(layer, message)) < PART_LIMIT // 2


# AsgiHandler and AsgiRequest as 1.x code uses them


class PathEcho(AsgiHandler):
    """A handler that answers every request itself, as 1.x's tests subclassed it."""

    def get_response(self, request):
        return HttpResponse(f"{request.method} {request.path} {request.GET['q']}".encode())


def test_a_routed_handler_class_serves_the_message(views):
    """route("http.request", AsgiHandler) (or a subclass) works as a consumer: the worker
    calls the class with the message, and the response goes to the reply channel."""
    layer = ClassicLayer(
        InMemoryChannelLayer(),
        alias="test",
        routing=[
            route("http.request", AsgiHandler, path=r"^/hello/"),
            route("http.request", PathEcho),
        ],
    )
    sent = [request(layer, path, query_string=b"q=1") for path in ("/hello/", "/other/")]
    for message in sent:
        layer.send("http.request", message.content)
    Worker(layer, install_signals=False, stop_when_idle=True).run()
    assert [[reply["content"] for reply in replies(layer, message)] for message in sent] == [
        [b"replaced"],
        [b"GET /other/ 1"],
    ]


def test_a_handler_instance_yields_the_response_messages(layer, plain_views):
    """AsgiHandler()(message) yields the messages of the response (what 1.x consumers sent
    themselves); encode_response turns a response made by hand into them."""
    message = request(layer, "/x/", query_string=b"q=2")
    (reply,) = PathEcho()(message)
    assert (reply["status"], reply["content"], reply["more_content"]) == (200, b"GET /x/ 2", False)
    (made,) = AsgiHandler.encode_response(HttpResponse(b"Hello world!"))
    assert made["content"] == b"Hello world!" and made["status"] == 200


def test_a_request_from_a_1x_style_message(layer):
    """AsgiRequest takes what 1.x tests sent: a bytes path, a str query string and a dict of
    headers; it keeps the message and its reply channel."""
    message = Message(
        {
            "reply_channel": "test.reply",
            "http_version": "1.1",
            "method": "post",
            "path": b"/form/",
            "query_string": "a=1&a=2",
            "headers": {"content-type": b"application/x-www-form-urlencoded", "cookie": "k=v"},
            "body": b"name=ann",
        },
        "http.request",
        layer,
    )
    made = AsgiRequest(message)
    assert made.message is message and made.reply_channel.name == "test.reply"
    assert (made.method, made.path) == ("POST", "/form/")
    assert made.GET.getlist("a") == ["1", "2"]
    assert made.COOKIES == {"k": "v"} and made.POST["name"] == "ann"
    assert made.ResponseLater is ResponseLater

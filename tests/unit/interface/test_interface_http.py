"""The interface server's HTTP side (channels_classic/interface/http.py), driven through its
ASGI entry point on the in-memory layer: the test plays daphne (the ASGI events of one
request) and the worker (what arrives on ``http.request``, and the replies)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from channels_classic.defaults import BODY_CHUNK_SIZE, InterfaceOptions
from channels_classic.interface import InterfaceApp
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.names import http_disconnect_channel

#: How long a test waits for something that should happen at once.
PROMPTLY = 5.0


class Exchange:
    """One request through the app: the ASGI events it received and sent."""

    def __init__(self, app: InterfaceApp, body_parts: list[bytes], path: str = "/x/") -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for index, part in enumerate(body_parts):
            more = index < len(body_parts) - 1
            self.incoming.put_nowait({"type": "http.request", "body": part, "more_body": more})
        self.sent: list[dict[str, Any]] = []
        self.fail_on_send: int | None = None
        scope = {"type": "http", "method": "POST", "path": path, "headers": []}
        self.task = asyncio.ensure_future(app(scope, self.receive, self.send))

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, event: dict[str, Any]) -> None:
        if self.fail_on_send == len(self.sent):
            self.fail_on_send = None
            raise RuntimeError("the client's socket broke")
        self.sent.append(event)

    async def finished(self) -> list[dict[str, Any]]:
        await asyncio.wait_for(self.task, PROMPTLY)
        return self.sent

    def status(self) -> int:
        return self.sent[0]["status"]

    def body(self) -> bytes:
        return b"".join(event.get("body", b"") for event in self.sent[1:])


def make_app(**options: Any) -> InterfaceApp:
    backend = InMemoryChannelLayer(channel_capacity=options.pop("capacity", None))
    return InterfaceApp(ClassicLayer(backend, alias="test"), InterfaceOptions(**options))


async def take_request(app: InterfaceApp) -> dict[str, Any]:
    """The next ``http.request`` message, as a worker receives it."""
    batch = await asyncio.wait_for(app.backend.receive_batch(["http.request"], 1), PROMPTLY)
    return batch[0][1]


async def reply(app: InterfaceApp, request: dict[str, Any], **message: Any) -> None:
    await app.backend.send(request["reply_channel"], message)


async def test_a_large_body_is_on_its_channel_before_the_request():
    """Uneven ASGI body events become 512 KiB messages: the first in the request, the rest
    already waiting in order on the body channel when the request arrives."""
    app = make_app()
    body = bytes(range(256)) * (BODY_CHUNK_SIZE // 256) * 2 + b"tail"
    parts = [body[:1000], body[1000 : BODY_CHUNK_SIZE + 5000], body[BODY_CHUNK_SIZE + 5000 :]]
    exchange = Exchange(app, parts)
    request = await take_request(app)
    assert request["body"] == body[:BODY_CHUNK_SIZE]
    chunks = await app.backend.receive_ready([request["body_channel"]], 10)
    assert [(c["order"], c["more_content"]) for _, c in chunks] == [(1, True), (2, False)]
    assert request["body"] + b"".join(c["content"] for _, c in chunks) == body
    await reply(app, request, status=204)
    await exchange.finished()
    assert exchange.status() == 204


async def test_a_small_body_travels_in_the_request_alone():
    """A body within one message has no body channel; an empty body is b''."""
    app = make_app()
    for parts, expected in (([b"ab", b"cd"], b"abcd"), ([b""], b"")):
        exchange = Exchange(app, parts)
        request = await take_request(app)
        assert request["body"] == expected and "body_channel" not in request
        await reply(app, request, status=200, content=b"ok")
        await exchange.finished()
        assert (exchange.status(), exchange.body()) == (200, b"ok")


async def test_a_body_chunk_the_layer_refuses_means_503_and_no_request(caplog):
    """When a body chunk cannot be sent, the client gets 503 and no worker is handed a
    request whose body would never arrive."""
    app = make_app(capacity={"http.request.body.*": 1})
    exchange = Exchange(app, [b"x" * (BODY_CHUNK_SIZE * 3)])
    await exchange.finished()
    assert exchange.status() == 503 and b"too busy" in exchange.body()
    assert await app.backend.receive_ready(["http.request"], 1) == []
    assert "http.request could not take a message (ChannelFull" in caplog.text


async def test_a_body_over_the_limit_is_refused_with_413():
    """A body larger than max_request_body_size gets 413 and never reaches the layer."""
    app = make_app(max_request_body_size=10)
    exchange = Exchange(app, [b"x" * 6, b"x" * 6])
    await exchange.finished()
    assert exchange.status() == 413
    assert await app.backend.receive_ready(["http.request"], 1) == []


async def test_no_response_within_the_http_timeout_is_503():
    """A request no worker answers gets 503 when the HTTP timeout passes, not before."""
    app = make_app(http_timeout=0.3)
    started = time.monotonic()
    exchange = Exchange(app, [b""])
    await exchange.finished()
    assert exchange.status() == 503 and b"failed to respond within time limit" in exchange.body()
    assert 0.3 <= time.monotonic() - started < PROMPTLY


async def test_a_stream_its_worker_abandoned_ends_after_the_idle_timeout(caplog):
    """A started response that gets no message for the idle timeout is ended there (the
    HTTP timeout no longer applies once it started)."""
    app = make_app(http_timeout=0.2, http_idle_timeout=0.6)
    exchange = Exchange(app, [b""])
    request = await take_request(app)
    await reply(app, request, status=200, content=b"a", more_content=True)
    await asyncio.sleep(0.4)
    await reply(app, request, content=b"b", more_content=True)
    started = time.monotonic()
    sent = await exchange.finished()
    assert 0.5 <= time.monotonic() - started < PROMPTLY
    assert exchange.body() == b"ab"
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert "got no message from its worker for 0.6 s; ended it early" in caplog.text


async def test_an_invalid_first_reply_is_answered_500(caplog):
    """A first response message without a status gets a 500 page, and the reason is
    logged."""
    app = make_app()
    exchange = Exchange(app, [b""])
    request = await take_request(app)
    await reply(app, request, content=b"no status")
    await exchange.finished()
    assert exchange.status() == 500 and b"invalid response" in exchange.body()
    assert "needs an int 'status'" in caplog.text


async def test_an_invalid_later_reply_ends_the_response():
    """A later message that breaks the rules ends the started response; no second status
    line is attempted."""
    app = make_app()
    exchange = Exchange(app, [b""])
    request = await take_request(app)
    await reply(app, request, status=200, content=b"a", more_content=True)
    await reply(app, request, status=500, content=b"b")
    sent = await exchange.finished()
    assert [event["type"] for event in sent].count("http.response.start") == 1
    assert sent[-1]["more_body"] is False and exchange.body() == b"a"


async def test_a_client_leaving_is_reported_on_both_disconnect_channels():
    """A client that leaves mid-response causes http.disconnect on the shared channel and
    on the request's own disconnect channel (which a streaming worker polls)."""
    app = make_app()
    exchange = Exchange(app, [b""], path="/stream/")
    request = await take_request(app)
    await reply(app, request, status=200, content=b"a", more_content=True)
    exchange.incoming.put_nowait({"type": "http.disconnect"})
    await exchange.finished()
    own = http_disconnect_channel(request["reply_channel"])
    for channel in ("http.disconnect", own):
        ((_, notice),) = await app.backend.receive_ready([channel], 2)
        assert notice == {"reply_channel": request["reply_channel"], "path": "/stream/"}


async def test_a_completed_response_reports_no_disconnect():
    """A response that ended normally sends no http.disconnect (1.x sent one after
    every response)."""
    app = make_app()
    exchange = Exchange(app, [b""])
    request = await take_request(app)
    await reply(app, request, status=200)
    await exchange.finished()
    own = http_disconnect_channel(request["reply_channel"])
    assert await app.backend.receive_ready(["http.disconnect", own], 2) == []


async def test_a_failure_after_the_response_started_only_ends_it(caplog):
    """An unexpected error once the response started is logged and the response ended: no
    500 page (a second status line daphne would refuse)."""
    app = make_app()
    exchange = Exchange(app, [b""])
    exchange.fail_on_send = 1
    request = await take_request(app)
    await reply(app, request, status=200, content=b"a", more_content=True)
    sent = await exchange.finished()
    assert [event["type"] for event in sent] == ["http.response.start", "http.response.body"]
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert "interface: HTTP /x/ failed (responding)" in caplog.text
    assert "the client's socket broke" in caplog.text


async def test_a_failure_before_the_response_started_is_a_500_page(caplog):
    """An unexpected error before anything was sent gets the interface's 500 page."""
    app = make_app()

    async def broken_receive() -> dict[str, Any]:
        raise RuntimeError("daphne handed over garbage")

    sent: list[dict[str, Any]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    scope = {"type": "http", "method": "GET", "path": "/y/", "headers": []}
    await asyncio.wait_for(app(scope, broken_receive, send), PROMPTLY)
    assert sent[0]["status"] == 500 and b"interface server failed" in sent[1]["body"]
    assert "interface: HTTP /y/ failed (receiving the request body)" in caplog.text

"""End to end over HTTP: requests through daphne, Redis and a worker into Django's views;
daphne's access log; and a chat room socket that outlives a bad frame."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.client
import json
import os
import re
import socket
import threading
import time
import urllib.parse

import pytest
from websockets.asyncio.client import connect

from channels_classic.layers.redis import RedisChannelLayer
from realtime.rooms import MAX_FRAME_BYTES
from tests.e2e.test_auth import log_in, next_of_type, room
from tests.support.e2e.routing import REPORTS
from tests.support.e2e.urls import LARGE_BODY_SIZE, large_body
from tests.support.processes import Stack

#: How long a response that must not hang may take.
PROMPTLY = 5.0


@pytest.fixture
def stack(stack):
    """The test's processes, with a migrated database."""
    stack.manage("migrate", "--noinput")
    return stack


def request(stack, method, path, body=None, headers=None, timeout=30):
    """One HTTP request; returns (status, headers dict, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_the_chat_page_is_served_by_a_worker(stack):
    """GET / goes through the layer to Django's view in the worker."""
    worker = stack.start_worker()
    stack.start_daphne()
    status, headers, body = request(stack, "GET", "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<title>djchan chat</title>" in body
    assert worker.alive()


def test_routed_asgi_handler_classes_serve_requests(stack):
    """route("http.request", AsgiHandler) and a subclass of it, as 1.x projects route them,
    answer through Django's views in a real worker."""
    stack.start_worker()
    stack.start_daphne()
    status, headers, body = request(stack, "GET", "/handled/marked/")
    assert (status, body, headers["X-Handler"]) == (
        200,
        b"handled /handled/marked/",
        "MarkedHandler",
    )
    status, headers, body = request(stack, "GET", "/handled/")
    assert (status, body) == (200, b"handled /handled/") and "X-Handler" not in headers


def test_a_form_post_with_csrf_sessions_and_auth(stack):
    """The admin login form: CSRF token and cookie, POST, redirect, then a session that
    the admin recognises."""
    stack.manage("createsuperuser", "--noinput", "--username", "admin", "--email", "a@b.example")
    stack.env["DJANGO_SUPERUSER_PASSWORD"] = "unused"
    stack.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "u = User.objects.get(username='admin'); u.set_password('pw-1234'); u.save()",
    )
    stack.start_worker()
    stack.start_daphne()
    status, headers, body = request(stack, "GET", "/admin/login/")
    assert status == 200
    csrf_cookie = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": "admin",
            "password": "pw-1234",
            "next": "/admin/",
        }
    )
    status, headers, _ = request(
        stack,
        "POST",
        "/admin/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
            "Referer": f"http://127.0.0.1:{stack.port}/admin/login/",
        },
    )
    assert status == 302 and headers["Location"] == "/admin/"
    session = re.search(r"sessionid=([^;]+)", headers["Set-Cookie"]).group(1)
    status, _, body = request(stack, "GET", "/admin/", headers={"Cookie": f"sessionid={session}"})
    assert status == 200 and b"Site administration" in body
    status, _, _ = request(
        stack,
        "POST",
        "/admin/login/",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 403  # no CSRF cookie: refused


def test_a_5_mib_upload_arrives_whole(stack):
    """A 5 MiB body travels in chunks over a body channel and reaches the view intact."""
    stack.start_worker()
    stack.start_daphne()
    payload = os.urandom(5 * 1024 * 1024)
    boundary = "djchan-test-boundary"
    form = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="x.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, body = request(
        stack,
        "POST",
        "/upload/",
        body=form,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 200
    assert json.loads(body) == {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}


def test_a_too_large_body_gets_413(private_redis, tmp_path):
    """A body over the configured limit is refused by the interface server with 413."""
    stack = Stack(private_redis().url, tmp_path)
    stack.env["TEST_MAX_BODY"] = str(1024 * 1024)
    stack.start_daphne()
    try:
        status, _, body = request(stack, "POST", "/upload/", body=b"x" * (1024 * 1024 + 1))
        assert status == 413 and b"larger than this server accepts" in body
    finally:
        stack.stop()


def test_a_streaming_response_arrives_chunked(stack):
    """A streaming view's 10 parts arrive as chunks of a chunked response."""
    stack.start_worker()
    stack.start_daphne()
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as raw:
        raw.sendall(b"GET /stream/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := raw.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"transfer-encoding: chunked" in head.lower()
    chunks = []
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        chunks.append(rest[:size])
        rest = rest[size + 2 :]
    assert b"".join(chunks) == b"".join(f"part {n}\n".encode() for n in range(10))
    assert len(chunks) >= 10


def test_no_worker_means_503_after_the_timeout(private_redis, tmp_path):
    """Without a worker a request gets 503 once the configured HTTP timeout passes; daphne
    then serves normally when a worker starts."""
    stack = Stack(private_redis().url, tmp_path)
    stack.env["TEST_HTTP_TIMEOUT"] = "1"
    stack.manage("migrate", "--noinput")
    daphne = stack.start_daphne()
    try:
        started = time.monotonic()
        status, _, body = request(stack, "GET", "/")
        assert status == 503 and b"failed to respond within time limit" in body
        assert 0.9 < time.monotonic() - started < 4
        stack.start_worker()
        assert request(stack, "GET", "/")[0] == 200
        assert daphne.alive()
    finally:
        stack.stop()
        print(stack.logs())


def test_a_long_poll_is_answered_later_by_another_consumer(stack):
    """A view raising ResponseLater sends nothing; a routed POST consumer answers it."""
    stack.start_worker("--threads", "2")
    stack.start_daphne()
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(request(stack, "GET", "/poll/wait/")))
    waiting.start()
    time.sleep(1)
    assert answers == []
    status, _, _ = request(stack, "POST", "/poll/answer/", body=b"news!")
    assert status == 204
    waiting.join(10)
    assert [(status, body) for status, _, body in answers] == [(200, b"news!")]


async def test_http_disconnect_only_when_the_client_left_early(stack):
    """A completed response sends no http.disconnect; a client leaving a long poll does."""
    stack.start_worker("--threads", "2")
    stack.start_daphne()
    assert request(stack, "GET", "/")[0] == 200
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as raw:
        raw.sendall(b"GET /poll/wait/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        time.sleep(0.5)
    reports = RedisChannelLayer(hosts=[stack.redis_url])
    received = await asyncio.wait_for(reports.receive_batch([REPORTS], 10), 10)
    with contextlib.suppress(TimeoutError):  # anything else that was reported
        received += await asyncio.wait_for(reports.receive_batch([REPORTS], 10), 1)
    assert [message for _, message in received] == [{"http_disconnect": "/poll/wait/"}]
    await reports.close()


def test_a_stream_may_outlive_the_http_timeout(private_redis, tmp_path):
    """The timeout only applies until a response starts: a 2 s stream with a 1 s timeout
    arrives whole (in 1.x such a stream stopped daphne's timeouts for good), and the server
    still times out the next silent request."""
    stack = Stack(private_redis().url, tmp_path)
    stack.env["TEST_HTTP_TIMEOUT"] = "1"
    stack.manage("migrate", "--noinput")
    worker = stack.start_worker("--threads", "2")
    stack.start_daphne()
    try:
        status, _, body = request(stack, "GET", "/slow-stream/")
        assert status == 200
        assert body == b"".join(f"slow {n}\n".encode() for n in range(10))
        worker.stop()
        assert request(stack, "GET", "/")[0] == 503
    finally:
        stack.stop()
        print(stack.logs())


def test_a_full_request_queue_gets_503_at_once(private_redis, tmp_path):
    """When http.request is at capacity (no worker draining it), a request is answered 503
    at once instead of waiting for the timeout."""
    stack = Stack(private_redis().url, tmp_path)
    stack.env.update(TEST_INGRESS_CAPACITY="1", TEST_HTTP_TIMEOUT="5")
    stack.start_daphne()
    try:
        waiting = threading.Thread(target=request, args=(stack, "GET", "/"))
        waiting.start()
        time.sleep(0.5)
        started = time.monotonic()
        status, _, body = request(stack, "GET", "/")
        assert status == 503 and b"too busy" in body
        assert time.monotonic() - started < 1
        waiting.join(10)
    finally:
        stack.stop()
        print(stack.logs())


def test_a_large_response_arrives_whole(stack):
    """An ordinary response of three 512 KiB messages and a bit arrives whole, with its
    length."""
    stack.start_worker()
    stack.start_daphne()
    status, headers, body = request(stack, "GET", "/large/")
    assert status == 200 and headers["Content-Length"] == str(LARGE_BODY_SIZE)
    assert body == large_body()


def test_a_stream_whose_view_fails_midway_still_ends(stack):
    """A streaming view raising after two parts: the client gets the two parts and the end
    of the response at once, and the worker logs the error."""
    worker = stack.start_worker()
    stack.start_daphne()
    started = time.monotonic()
    status, _, body = request(stack, "GET", "/failing-stream/", timeout=PROMPTLY * 2)
    assert status == 200 and body == b"part 0\npart 1\n"
    assert time.monotonic() - started < PROMPTLY
    worker.wait_for_log("failed after 2 message(s); ended it early")
    assert "failing_stream broke on purpose" in worker.log()


def test_an_endless_stream_stops_when_its_client_leaves(stack):
    """A client leaving an endless stream frees the worker's only thread: the stream stops
    and the next request is served at once."""
    worker = stack.start_worker("--threads", "1")
    stack.start_daphne()
    with socket.create_connection(("127.0.0.1", stack.port), timeout=PROMPTLY * 2) as raw:
        raw.sendall(b"GET /endless/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while b"tick 3" not in received:
            received += raw.recv(65536)
    worker.wait_for_log("the client of GET /endless/ left; stopped streaming", PROMPTLY * 2)
    started = time.monotonic()
    assert request(stack, "GET", "/")[0] == 200
    assert time.monotonic() - started < PROMPTLY


async def test_daphne_writes_the_access_log(stack, tmp_path):
    """daphne's --access-log gets an NCSA-like line per HTTP response (method, path, status,
    size) and per WebSocket event."""
    stack.start_worker()
    access_log = tmp_path / "access.log"
    stack.start_daphne("--access-log", str(access_log))
    assert request(stack, "GET", "/")[0] == 200
    async with connect(stack.url("/chat/")) as chat:
        await chat.send("hi")
        assert await asyncio.wait_for(chat.recv(), PROMPTLY) == "You said: hi"
    stamp = r"\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d"
    expected = [
        rf'^127\.0\.0\.1:\d+ - - \[{stamp}\] "GET /" 200 \d+$',
        rf'^127\.0\.0\.1:\d+ - - \[{stamp}\] "WSCONNECT /chat/" - -$',
        rf'^127\.0\.0\.1:\d+ - - \[{stamp}\] "WSDISCONNECT /chat/" - -$',
    ]
    deadline = time.monotonic() + PROMPTLY
    while not all(re.search(line, access_log.read_text(), re.M) for line in expected):
        assert time.monotonic() < deadline, access_log.read_text()
        await asyncio.sleep(0.05)


async def test_a_bad_chat_frame_leaves_the_room_socket_open(stack):
    """A frame that is not JSON, and one over the frame size limit, each get an error frame;
    the socket stays open and its next good message reaches the room."""
    stack.manage("demo_users")
    stack.start_worker()
    stack.start_daphne()
    session = log_in(stack, "ann", "ann-demo-password")
    async with room(stack, session=session) as ann, room(stack) as guest:
        await next_of_type(guest, "presence")
        await ann.send("not json")
        assert (await next_of_type(ann, "error"))["error"].startswith("frames must be JSON")
        await ann.send("x" * (MAX_FRAME_BYTES + 1))
        error = (await next_of_type(ann, "error"))["error"]
        assert error == f"the frame is larger than {MAX_FRAME_BYTES} bytes"
        await ann.send(json.dumps({"text": "still here"}))
        message = await next_of_type(guest, "message")
        assert (message["user"], message["text"]) == ("ann", "still here")

"""End to end: users logged in over HTTP carry their session onto room sockets; origins are
checked; enforce_ordering keeps one socket's frames in order across workers."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import time
import urllib.parse

import pytest
import redis
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from channels_classic.layers.redis import RedisChannelLayer
from djchan.caches import next_database
from tests.support.e2e.routing import REPORTS

#: Seconds a Redis key given a 1 ms time to live may take to be gone.
EXPIRY_WAIT = 5.0


@pytest.fixture
def stack(stack):
    """The test's processes, with a migrated database and the demo users."""
    stack.manage("migrate", "--noinput")
    stack.manage("demo_users")
    return stack


def log_in(stack, username: str, password: str) -> str:
    """Logs in through the login form (CSRF and all); returns the session cookie value."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    page = response.read()
    csrf = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": password}
    )
    connection.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Referer": f"http://127.0.0.1:{stack.port}/accounts/login/",
        },
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 302, "login failed"
    return re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie")).group(1)


def room(stack, path="/rooms/lobby/", session=None, origin=None):
    headers = {"Origin": origin or f"http://127.0.0.1:{stack.port}"}
    if session:
        headers["Cookie"] = f"sessionid={session}"
    return connect(stack.url(path), additional_headers=headers)


async def next_of_type(socket, kind: str) -> dict:
    while True:
        data = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if data["type"] == kind:
            return data


async def test_logged_in_users_post_under_their_name(stack):
    """Ann logs in over HTTP; her room socket carries her session, so a guest reading the
    room sees her username on her message and in the member list; the guest cannot post."""
    stack.start_worker()
    stack.start_worker()
    stack.start_daphne()
    session = log_in(stack, "ann", "ann-demo-password")
    async with room(stack) as guest, room(stack, session=session) as ann:
        presence = await next_of_type(guest, "presence")
        while presence["users"] != ["ann"]:
            presence = await next_of_type(guest, "presence")
        assert presence["guests"] == 1
        await ann.send(json.dumps({"text": "hello"}))
        message = await next_of_type(guest, "message")
        assert (message["user"], message["text"]) == ("ann", "hello")
        await guest.send(json.dumps({"text": "me too"}))
        assert (await next_of_type(guest, "error"))["error"] == "log in to post in this room"


async def test_a_session_key_on_the_url_logs_the_socket_in(stack):
    """A cross-domain page passes the session key as ?session_key= instead of the cookie:
    the socket posts under the user's name."""
    stack.start_worker()
    stack.start_daphne()
    session = log_in(stack, "ann", "ann-demo-password")
    async with room(stack, path=f"/rooms/lobby/?session_key={session}") as ann:
        await ann.send(json.dumps({"text": "no cookie here"}))
        message = await next_of_type(ann, "message")
        assert (message["user"], message["text"]) == ("ann", "no cookie here")


async def test_forged_logged_out_and_expired_session_keys_are_anonymous(stack):
    """A made-up session key, one logged out since, or one whose session ran out of time in
    the Redis cache gives a guest, never a user."""
    stack.start_worker()
    stack.start_daphne()
    logged_out = log_in(stack, "bob", "bob-demo-password")
    await logout(stack, logged_out)
    expired = log_in(stack, "bob", "bob-demo-password")
    let_session_expire(stack, expired)
    for key in ("forged0000000000000000000000000000", logged_out, expired):
        async with room(stack, path=f"/rooms/lobby/?session_key={key}") as socket:
            await socket.send(json.dumps({"text": "am I bob?"}))
            assert (await next_of_type(socket, "error"))["error"] == "log in to post in this room"


def let_session_expire(stack, key: str) -> None:
    """Makes the session's entry in the demo's Redis cache run out now, as it does on its
    own SESSION_COOKIE_AGE after it was last saved."""
    cache = redis.Redis.from_url(next_database(stack.redis_url))
    try:
        [entry] = cache.keys(f"*django.contrib.sessions.cache{key}")
        assert cache.pexpire(entry, 1)
        deadline = time.monotonic() + EXPIRY_WAIT
        while cache.exists(entry):
            assert time.monotonic() < deadline, f"{entry!r} did not expire"
            time.sleep(0.005)
    finally:
        cache.close()


async def logout(stack, session: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    connection.request("GET", "/", headers={"Cookie": f"sessionid={session}"})
    response = connection.getresponse()
    page = response.read()
    csrf = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    connection.request(
        "POST",
        "/accounts/logout/",
        body=urllib.parse.urlencode({"csrfmiddlewaretoken": token}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"sessionid={session}; csrftoken={csrf}",
            "Referer": f"http://127.0.0.1:{stack.port}/",
        },
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 302


async def test_a_foreign_origin_is_refused(stack):
    """A page on another origin cannot open a room socket (cross-site WebSocket hijacking):
    the handshake gets 403."""
    stack.start_worker()
    stack.start_daphne()
    with pytest.raises(InvalidStatus) as refused:
        async with room(stack, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with room(stack) as socket:
        # The refused socket's disconnect tells the room who is there too: on another
        # consumer thread it may have counted before this socket's connect did.
        presence = await next_of_type(socket, "presence")
        while presence["guests"] != 1:
            presence = await next_of_type(socket, "presence")


async def test_ordering_across_two_workers_with_eight_threads(stack):
    """200 frames on one socket, two workers with 8 threads each, both running some of
    them: with enforce_ordering the consumer sees them in order."""
    workers = [stack.start_worker("--threads", "8") for _ in range(2)]
    for worker in workers:
        worker.wait_for_log("with 8 thread(s)")
    stack.start_daphne()
    async with connect(stack.url("/ordered/")) as socket:
        for n in range(200):
            await socket.send(f"frame {n}")
        reports = RedisChannelLayer(hosts=[stack.redis_url])
        seen = []
        while len(seen) < 200:
            batch = await asyncio.wait_for(reports.receive_batch([REPORTS], 100), 30)
            seen += [message for _, message in batch]
        await reports.close()
    assert [report["order"] for report in seen] == list(range(1, 201))
    assert {report["pid"] for report in seen} == {worker.pid for worker in workers}

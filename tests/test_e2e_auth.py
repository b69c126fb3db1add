"""End to end: users logged in over HTTP carry their session onto room sockets; origins are
checked; enforce_ordering keeps one socket's frames in order across workers."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import urllib.parse

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from channels_classic.layers.redis import RedisChannelLayer
from tests.e2e_routing import REPORTS
from tests.processes import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(private_redis, tmp_path):
    running = Stack(private_redis().url, tmp_path)
    running.manage("migrate", "--noinput")
    running.manage("demo_users")
    yield running
    running.stop()
    print(running.logs())


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


async def test_forged_and_expired_session_keys_are_anonymous(stack):
    """A made-up session key, or one logged out since, gives a guest, never a user."""
    stack.start_worker()
    stack.start_daphne()
    session = log_in(stack, "bob", "bob-demo-password")
    for key in ("forged0000000000000000000000000000", session):
        if key == session:
            await logout(stack, session)
        async with room(stack, path=f"/rooms/lobby/?session_key={key}") as socket:
            await socket.send(json.dumps({"text": "am I bob?"}))
            assert (await next_of_type(socket, "error"))["error"] == "log in to post in this room"


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
        assert (await next_of_type(socket, "presence"))["guests"] == 1


async def test_ordering_across_two_workers_with_eight_threads(stack):
    """200 frames on one socket, two workers with 8 threads each: with enforce_ordering the
    consumer sees them in order."""
    workers = {stack.start_worker("--threads", "8").pid, stack.start_worker("--threads", "8").pid}
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
    assert {report["pid"] for report in seen} <= workers

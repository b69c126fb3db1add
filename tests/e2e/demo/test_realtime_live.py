"""End to end: the demo's live socket, a demultiplexed socket with two streams, on a private
Redis, real daphne and two runworker processes; a topic edited through one socket reaches
the others through data binding."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from realtime.management.commands.demo_users import DEMO_USERS
from tests.e2e.test_auth import log_in
from tests.support.processes import Stack

#: How long a test waits for any one frame.
FRAME_TIMEOUT = 10
EMPTY = {"topic": "", "set_by": "", "updated_at": None}


def live(stack: Stack, room: str = "lobby", user: str | None = None, origin: str | None = None):
    """A live socket of ``room``, opened by a page of the site (or ``origin``), logged in as
    ``user`` if given."""
    headers = {"Origin": origin or f"http://127.0.0.1:{stack.port}"}
    if user:
        headers["Cookie"] = f"sessionid={log_in(stack, user, DEMO_USERS[user])}"
    return connect(stack.url(f"/live/{room}/"), additional_headers=headers)


async def next_frame(socket: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), FRAME_TIMEOUT))
    return frame


async def ask(socket: ClientConnection, stream: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Sends ``payload`` on ``stream``; returns the next frame (waiting for the answer before
    the next request keeps two workers from running a socket's frames at once)."""
    await socket.send(json.dumps({"stream": stream, "payload": payload}))
    return await next_frame(socket)


def set_topic(topic: str) -> dict[str, Any]:
    return {"action": "update", "pk": "lobby", "data": {"topic": topic}}


async def test_each_stream_is_answered_under_its_own_name(demo_site):
    """One socket, two streams: the snapshot stream answers connect and its requests, the
    topic stream carries the change an edit made and refuses what it does not take."""
    async with live(demo_site, user="ann") as ann:
        assert await next_frame(ann) == {"stream": "snapshot", "payload": EMPTY}
        assert await ask(ann, "snapshot", {}) == {"stream": "snapshot", "payload": EMPTY}
        changed = await ask(ann, "topic", set_topic("Hello"))
        assert changed["stream"] == "topic"
        assert (changed["payload"]["action"], changed["payload"]["pk"]) == ("create", "lobby")
        assert changed["payload"]["data"] | {"updated_at": None} == {
            "topic": "Hello",
            "set_by": "ann",
            "updated_at": None,
        }
        now = await ask(ann, "snapshot", {})
        assert now == {"stream": "snapshot", "payload": changed["payload"]["data"]}
        refused = await ask(ann, "topic", {"action": "delete", "pk": "lobby"})
        assert refused == {
            "stream": "topic",
            "payload": {"error": "topics are updated, not deleted"},
        }


async def test_an_edit_through_one_socket_reaches_the_others_of_the_room(demo_site):
    """Ann's edit reaches Bob and a guest in the room, Bob's next edit reaches Ann as an
    update; the guest may not edit; a socket in another room hears none of it."""
    async with (
        live(demo_site, user="ann") as ann,
        live(demo_site, user="bob") as bob,
        live(demo_site) as guest,
        live(demo_site, room="hall") as hall,
    ):
        for socket in (ann, bob, guest, hall):
            assert (await next_frame(socket))["stream"] == "snapshot"
        await ann.send(json.dumps({"stream": "topic", "payload": set_topic("Release day")}))
        for socket in (ann, bob, guest):
            seen = await next_frame(socket)
            assert (seen["stream"], seen["payload"]["action"]) == ("topic", "create")
            assert seen["payload"]["data"]["topic"] == "Release day"
        await bob.send(json.dumps({"stream": "topic", "payload": set_topic("Released")}))
        for socket in (ann, bob, guest):
            seen = await next_frame(socket)
            assert (seen["payload"]["action"], seen["payload"]["data"]["set_by"]) == (
                "update",
                "bob",
            )
        refused = await ask(guest, "topic", set_topic("Mine now"))
        assert refused == {"stream": "topic", "payload": {"error": "log in to change the topic"}}
        # A change sent to the hall socket would have come before this answer.
        assert await ask(hall, "snapshot", {}) == {"stream": "snapshot", "payload": EMPTY}
        assert (await ask(ann, "snapshot", {}))["payload"]["topic"] == "Released"


async def test_a_change_saved_outside_any_consumer_reaches_the_room(demo_site):
    """A topic saved from a shell (no worker involved) reaches the room's live sockets."""
    async with live(demo_site) as guest:
        assert (await next_frame(guest))["stream"] == "snapshot"
        code = (
            "from realtime.models import RoomTopic; "
            "RoomTopic.objects.create(room='lobby', topic='From the shell', set_by='ops')"
        )
        await asyncio.to_thread(demo_site.manage, "shell", "-c", code)
        seen = await next_frame(guest)
        assert (seen["stream"], seen["payload"]["action"]) == ("topic", "create")
        assert seen["payload"]["data"]["topic"] == "From the shell"


async def test_a_foreign_origin_cannot_open_a_live_socket(demo_site):
    """The live socket acts as the visitor, so a page of another site gets 403."""
    with pytest.raises(InvalidStatus) as refused:
        async with live(demo_site, user="ann", origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403

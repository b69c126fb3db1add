"""The demo's live socket (realtime/live.py): a room's topic over a demultiplexed socket,
driven with the project's own test tools: fresh in-memory layers routed by routing.py, and
WSClient sockets sending what the interface server would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings

from channels_classic.exceptions import DenyConnection
from channels_classic.test import ChannelTestCase, TransactionChannelTestCase, WSClient
from realtime.models import RoomTopic

#: An origin in ALLOWED_HOSTS: live sockets from other origins are refused.
ORIGIN = "http://localhost:8000"
EMPTY = {"topic": "", "set_by": "", "updated_at": None}
MD5_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
#: Seconds the rival worker's write may take.
RIVAL_TIMEOUT = 10


def snapshot(**data: Any) -> dict[str, Any]:
    return {"stream": "snapshot", "payload": {**EMPTY, **data}}


def error(text: str) -> dict[str, Any]:
    return {"stream": "topic", "payload": {"error": text}}


@contextmanager
def rival_creates_the_lobby_topic() -> Iterator[None]:
    """Another user's first edit of the lobby's topic, made by another worker (a thread with
    its own database connection, committing at once), lands right after the block's first
    query of the topic table: for an edit, between its check that the room has no row and
    its own create."""
    done: list[Exception | None] = []

    def create_in_another_worker() -> None:
        try:
            RoomTopic.objects.bulk_create([RoomTopic(room="lobby", topic="Theirs", set_by="bo")])
            done.append(None)
        except Exception as error:
            done.append(error)
        finally:
            connection.close()

    def after_first_topic_query(execute: Any, sql: str, *args: Any) -> Any:
        result = execute(sql, *args)
        if not done and RoomTopic._meta.db_table in sql:
            rival = threading.Thread(target=create_in_another_worker)
            rival.start()
            rival.join(RIVAL_TIMEOUT)
        return result

    with connection.execute_wrapper(after_first_topic_query):
        yield
    assert done == [None], done


def connect(room: str = "lobby", user: User | None = None) -> WSClient:
    """A live socket of ``room`` (logged in as ``user``) that connected and was accepted; the
    frames of its connect are left for the test."""
    client = WSClient()
    client.set_header("origin", ORIGIN)
    if user is not None:
        client.force_login(user)
    client.send_and_consume("websocket.connect", path=f"/live/{room}/")
    return client


def frames(client: WSClient) -> list[Any]:
    """Every frame waiting for ``client``, decoded."""
    received = []
    while (frame := client.receive()) is not None:
        received.append(frame)
    return received


def edit(client: WSClient, data: Any, action: str = "update", pk: str = "lobby") -> None:
    """Sends a topic edit on the socket's topic stream and runs its consumer."""
    frame = {"stream": "topic", "payload": {"action": action, "pk": pk, "data": data}}
    client.send_and_consume("websocket.receive", text=frame, path="/live/lobby/")


@override_settings(PASSWORD_HASHERS=MD5_HASHER)
class RoomLiveTests(ChannelTestCase):
    def test_connect_accepts_and_sends_the_topic_as_it_is(self):
        """A live socket is accepted and gets the room's topic on the snapshot stream (an
        empty one for a room whose topic was never set); any frame on that stream asks
        again."""
        RoomTopic.objects.create(room="lobby", topic="Welcome", set_by="ann")
        lobby, hall = connect(), connect("hall")
        (sent,) = frames(lobby)
        assert sent["payload"]["updated_at"] is not None
        updated_at = sent["payload"]["updated_at"]
        assert sent == snapshot(topic="Welcome", set_by="ann", updated_at=updated_at)
        assert frames(hall) == [snapshot()]
        frame = {"stream": "snapshot", "payload": {}}
        hall.send_and_consume("websocket.receive", text=frame, path="/live/hall/")
        assert frames(hall) == [snapshot()]

    def test_a_users_edit_reaches_every_live_socket_of_the_room(self):
        """A logged-in user's edit is saved under the user's name (whatever the client
        says), and goes to every live socket of the room on the topic stream: the first as
        a create, later ones as updates. Other rooms hear nothing."""
        ann = User.objects.create_user("ann", password="x")
        editor, reader = connect(user=ann), connect()
        elsewhere = connect("hall")
        for client in (editor, reader, elsewhere):
            frames(client)
        edit(editor, {"topic": "Release day", "set_by": "mallory"})
        edit(editor, {"topic": "Release done"})
        row = RoomTopic.objects.get(room="lobby")
        assert (row.topic, row.set_by) == ("Release done", "ann")
        sent = frames(reader)
        assert frames(editor) == sent
        assert [(frame["stream"], frame["payload"]["action"]) for frame in sent] == [
            ("topic", "create"),
            ("topic", "update"),
        ]
        topics = [frame["payload"]["data"]["topic"] for frame in sent]
        assert topics == ["Release day", "Release done"]
        assert sent[1]["payload"]["pk"] == "lobby"
        assert sent[1]["payload"]["model"] == "realtime.roomtopic"
        assert sent[1]["payload"]["data"]["set_by"] == "ann"
        assert frames(elsewhere) == []

    def test_refused_edits_get_an_error_frame_and_change_nothing(self):
        """Guests, other actions, other rooms, data that is not an object and invalid topics
        are answered with an error on the topic stream, to the sender only."""
        bob = User.objects.create_user("bob", password="x")
        cases = [
            (None, "update", "lobby", {"topic": "Mine now"}, "log in to change the topic"),
            (bob, "delete", "lobby", None, "topics are updated, not deleted"),
            (
                bob,
                "update",
                "hall",
                {"topic": "Hi"},
                "you can change the topic of your own room only",
            ),
            (
                bob,
                "update",
                "lobby",
                "Hi",
                'send the fields to change as an object, e.g. {"topic": "..."}',
            ),
            (
                bob,
                "update",
                "lobby",
                {"topic": "x" * 201},
                "Ensure this value has at most 200 characters (it has 201).",
            ),
        ]
        for user, action, pk, data, text in cases:
            with self.subTest(user=user, action=action, pk=pk, data=data):
                sender, reader = connect(user=user), connect()
                for client in (sender, reader):
                    frames(client)
                edit(sender, data, action=action, pk=pk)
                assert frames(sender) == [error(text)]
                assert frames(reader) == []
                assert not RoomTopic.objects.exists()

    def test_changes_made_outside_consumers_reach_the_room_at_once(self):
        """The binding listens in every process (the realtime app loads it when Django is
        ready): a save in a view or a shell reaches the room's live sockets."""
        client = connect()
        frames(client)
        RoomTopic.objects.create(room="lobby", topic="From the shell")
        (sent,) = frames(client)
        assert (sent["payload"]["action"], sent["payload"]["data"]["topic"]) == (
            "create",
            "From the shell",
        )

    def test_pages_on_other_origins_cannot_open_a_live_socket(self):
        """The live socket acts as the visitor: a handshake from another site is refused
        (DenyConnection, which a worker answers with a close) before anything is sent."""
        for origin in ("http://evil.example", "null"):
            with self.subTest(origin=origin):
                client = WSClient()
                client.set_header("origin", origin)
                with pytest.raises(DenyConnection, match=f"origin '{origin}' refused"):
                    client.send_and_consume("websocket.connect", path="/live/lobby/")
                assert client.receive() is None


@override_settings(PASSWORD_HASHERS=MD5_HASHER)
class RoomLiveRaceTests(TransactionChannelTestCase):
    """Committed rows, so that another connection (another worker) can write beside ours."""

    def test_a_first_edit_that_loses_the_race_to_create_becomes_an_update(self):
        """When another user's first edit creates the room's row after this one found none,
        this edit updates that row instead of failing (it was refused as "already exists"):
        no error, and the room hears an update with this user's topic."""
        cy = User.objects.create_user("cy", password="x")
        editor, reader = connect(user=cy), connect()
        for client in (editor, reader):
            frames(client)
        with rival_creates_the_lobby_topic():
            edit(editor, {"topic": "Mine"})
        row = RoomTopic.objects.get(room="lobby")
        assert (row.topic, row.set_by) == ("Mine", "cy")
        (sent,) = frames(reader)
        assert frames(editor) == [sent]
        assert (sent["payload"]["action"], sent["payload"]["data"]["topic"]) == ("update", "Mine")

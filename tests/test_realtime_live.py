"""The demo's live socket (realtime/live.py): a room's topic over a demultiplexed socket, run
by a real worker on the in-memory layer with the demo's routing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from channels_classic.layers.facade import ClassicLayer
from realtime.live import LIVE_PATH, RoomLive
from realtime.models import RoomTopic
from tests.generic_support import Socket, as_default, login, make_layer, run, use_cache_sessions

#: An origin in ALLOWED_HOSTS: live sockets from other origins are refused.
ORIGIN = b"http://localhost:8000"
EMPTY = {"topic": "", "set_by": "", "updated_at": None}


@pytest.fixture(autouse=True)
def sessions(settings):
    use_cache_sessions(settings)


@pytest.fixture
def layer(transactional_db) -> Any:
    """The demo's live route on a fresh in-memory layer, made the default (bindings send to
    groups of the default layer)."""
    with as_default(make_layer(RoomLive.as_route(path=LIVE_PATH))) as routed:
        yield routed


def connect(
    layer: ClassicLayer, room: str = "lobby", user: User | None = None, origin: bytes = ORIGIN
) -> Socket:
    """A live socket of ``room`` (logged in as ``user``) that connected; the frames of its
    connect are left for the test."""
    socket = Socket(layer, path=f"/live/{room}/", session_key=login(user) if user else "")
    content = socket.content("websocket.connect")
    content["headers"].append([b"origin", origin])
    layer.send("websocket.connect", content)
    run(layer)
    return socket


def frames(socket: Socket) -> list[Any]:
    """The socket's replies past the accept, decoded."""
    return [json.loads(reply["text"]) for reply in socket.replies() if "text" in reply]


def edit(socket: Socket, data: Any, action: str = "update", pk: str = "lobby") -> None:
    payload = {"action": action, "pk": pk, "data": data}
    socket.send("websocket.receive", text=json.dumps({"stream": "topic", "payload": payload}))
    run(socket.layer)


def snapshot(**data: Any) -> dict[str, Any]:
    return {"stream": "snapshot", "payload": {**EMPTY, **data}}


def test_connect_accepts_and_sends_the_topic_as_it_is(layer):
    """A live socket is accepted and gets the room's topic on the snapshot stream (an empty
    one for a room whose topic was never set); any frame on that stream asks again."""
    RoomTopic.objects.create(room="lobby", topic="Welcome", set_by="ann")
    lobby, hall = connect(layer), connect(layer, "hall")
    accept, text = lobby.replies()
    assert accept == {"accept": True}
    sent = json.loads(text["text"])
    assert sent["payload"]["updated_at"] is not None
    assert sent == snapshot(topic="Welcome", set_by="ann", updated_at=sent["payload"]["updated_at"])
    assert frames(hall) == [snapshot()]
    hall.send("websocket.receive", text=json.dumps({"stream": "snapshot", "payload": {}}))
    run(layer)
    assert frames(hall) == [snapshot()]


def test_a_users_edit_reaches_every_live_socket_of_the_room(layer):
    """A logged-in user's edit is saved under the user's name (whatever the client says),
    and goes to every live socket of the room on the topic stream: the first as a create,
    later ones as updates. Other rooms hear nothing."""
    ann = User.objects.create_user("ann", password="x")
    editor, reader, elsewhere = connect(layer, user=ann), connect(layer), connect(layer, "hall")
    for socket in (editor, reader, elsewhere):
        socket.replies()
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
    assert [frame["payload"]["data"]["topic"] for frame in sent] == ["Release day", "Release done"]
    assert sent[1]["payload"]["pk"] == "lobby"
    assert sent[1]["payload"]["model"] == "realtime.roomtopic"
    assert sent[1]["payload"]["data"]["set_by"] == "ann"
    assert elsewhere.replies() == []


@pytest.mark.parametrize(
    ("logged_in", "action", "pk", "data", "error"),
    [
        (False, "update", "lobby", {"topic": "Mine now"}, "log in to change the topic"),
        (True, "delete", "lobby", None, "topics are updated, not deleted"),
        (True, "update", "hall", {"topic": "Hi"}, "you can change the topic of your own room only"),
        (
            True,
            "update",
            "lobby",
            {"topic": "x" * 201},
            "Ensure this value has at most 200 characters (it has 201).",
        ),
    ],
)
def test_refused_edits_get_an_error_frame_and_change_nothing(
    layer, logged_in, action, pk, data, error
):
    """Guests, other actions, other rooms and invalid topics are answered with an error on
    the topic stream, to the sender only."""
    user = User.objects.create_user("bob", password="x") if logged_in else None
    sender, reader = connect(layer, user=user), connect(layer)
    for socket in (sender, reader):
        socket.replies()
    edit(sender, data, action=action, pk=pk)
    assert frames(sender) == [{"stream": "topic", "payload": {"error": error}}]
    assert reader.replies() == []
    assert not RoomTopic.objects.exists()


def test_changes_made_outside_consumers_reach_the_room_at_once(layer):
    """The binding listens in every process (the realtime app loads it when Django is
    ready): a save in a view or a shell reaches the room's live sockets."""
    socket = connect(layer)
    socket.replies()
    RoomTopic.objects.create(room="lobby", topic="From the shell")
    (sent,) = frames(socket)
    assert (sent["payload"]["action"], sent["payload"]["data"]["topic"]) == (
        "create",
        "From the shell",
    )


@pytest.mark.parametrize("origin", [b"http://evil.example", b"null"])
def test_pages_on_other_origins_cannot_open_a_live_socket(layer, origin):
    """The live socket acts as the visitor: a handshake from another site is refused."""
    socket = connect(layer, origin=origin)
    assert socket.replies() == [{"close": True}]

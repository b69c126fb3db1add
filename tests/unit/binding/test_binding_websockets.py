"""Data binding over WebSockets (channels_classic.binding.websockets): changes
go out as multiplexed frames with the bound fields and members, and socket requests become
validated creates, updates and deletes as the socket's user. Bound to ``auth.User``, run by a
real worker on the in-memory layer against the test database."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from channels_classic import route, route_class
from channels_classic.binding import WebsocketBinding
from tests.support.binding import (  # noqa: F401 (fixtures)
    USER_FIELDS,
    Live,
    OpenUsers,
    ProfileBinding,
    change,
    connected,
    database,
    forget_local_bindings,
    frames,
    member,
    on_stream,
    request,
    sessions,
)
from tests.support.generic import Socket, as_default, make_layer, run

# Outbound members


def test_exclude_and_members_are_sent():
    """exclude sends every field but those; send_members adds attributes, properties and
    method results (dotted paths under "__" keys), encoded with Django's JSON encoder."""
    layer = make_layer()
    profile = member(layer, "profile-red")
    with as_default(layer):
        gus = User.objects.create(username="gus", first_name="Gus", last_name="red")
    (frame,) = frames(profile)
    data = frame["payload"]["data"]
    assert sorted(data) == sorted(
        [
            *(set(USER_FIELDS) - {"password", "groups", "user_permissions"}),
            "get_full_name",
            "date_joined__year",
            "is_anonymous",
        ]
    )
    assert (data["get_full_name"], data["date_joined__year"]) == ("Gus red", gus.date_joined.year)
    assert data["is_anonymous"] is False and data["date_joined"].startswith(
        gus.date_joined.strftime("%Y-%m-%dT%H:%M")
    )


def test_a_missing_member_fails_the_save_naming_it():
    """A send_members path the instance lacks raises AttributeError naming the path."""

    class Broken(ProfileBinding):
        send_members = ["email.domain"]

        @classmethod
        def group_names(cls, instance: User) -> list[str]:
            return ["broken"] if instance.username == "hal" else []

    with pytest.raises(
        AttributeError, match=r"Broken\.send_members has 'email\.domain', but '' has no attribute"
    ):
        User.objects.create(username="hal")


# Inbound: requests from sockets


def test_a_logged_in_user_updates_a_row_and_its_groups_hear(caplog):
    """An update from a socket whose channel session holds a login changes the bound fields
    it names (others, like is_staff, are ignored) and the change goes to the row's groups;
    connect and disconnect, which the demultiplexer passes on, are not requests."""
    layer = make_layer(route_class(Live))
    ann = User.objects.create_user("ann", password="x")
    bob = User.objects.create(username="bob", last_name="red")
    socket = connected(layer, ann)
    data = {"email": "bob@example.com", "last_name": "blue", "is_staff": True, "nick": "b"}
    socket.send("websocket.receive", text=on_stream("users", request("update", bob.pk, data)))
    socket.send("websocket.disconnect")
    with as_default(layer):
        run(layer)
    bob.refresh_from_db()
    assert (bob.email, bob.last_name, bob.is_staff) == ("bob@example.com", "blue", False)
    assert frames(socket) == [change("update", bob)]
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []


def test_staff_create_and_delete_rows():
    """Create inserts a row from the bound fields; delete removes the row; both are sent
    to the groups as any save is."""
    layer = make_layer(route_class(Live))
    boss = User.objects.create_user("boss", password="x", is_staff=True)
    socket = connected(layer, boss)
    data = {"username": "cat", "last_name": "red", "is_superuser": True}
    socket.send("websocket.receive", text=on_stream("users", request("create", None, data)))
    with as_default(layer):
        run(layer)
    cat = User.objects.get(username="cat")
    assert (cat.last_name, cat.is_superuser) == ("red", False)
    socket.send("websocket.receive", text=on_stream("users", request("delete", str(cat.pk))))
    with as_default(layer):
        run(layer)
    assert not User.objects.filter(username="cat").exists()
    assert [frame["payload"]["action"] for frame in frames(socket)] == ["create", "delete"]


def test_refused_requests_change_nothing_and_permission_denied_answers():
    """Requests has_permission refuses (a guest's update, a member's delete) change nothing;
    permission_denied gets the action and the pk, converted to the pk's type."""
    layer = make_layer(route_class(Live))
    dan = User.objects.create(username="dan", last_name="red")
    guest, mo = connected(layer), connected(layer, User.objects.create_user("mo"))
    update = request("update", dan.pk, {"email": "x@y.z"})
    guest.send("websocket.receive", text=on_stream("users", update))
    mo.send("websocket.receive", text=on_stream("users", request("delete", str(dan.pk))))
    run(layer)
    dan.refresh_from_db()
    assert dan.email == ""
    assert frames(guest) == [{"denied": "update", "pk": dan.pk}]
    assert frames(mo) == [{"denied": "delete", "pk": dan.pk}]


def test_refusals_are_silent_by_default():
    """Without a permission_denied override a refused request gets no answer (1.x)."""

    class ReadOnly(WebsocketBinding):
        model = User
        stream = "users"
        fields = ["email"]
        channel_session_user = False

        @classmethod
        def group_names(cls, instance: User) -> list[str]:
            return []

        def has_permission(self, user: Any, action: str, pk: Any) -> bool:
            return False

    layer = make_layer(route("websocket.receive", ReadOnly.consumer))
    eli = User.objects.create(username="eli")
    socket = Socket(layer)
    socket.send("websocket.receive", text=request("update", eli.pk, {"email": "x@y.z"}))
    assert run(layer).handled == 1
    eli.refresh_from_db()
    assert eli.email == "" and socket.replies() == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "[1, 2]",
            r'OpenUsers takes requests \{"action": "create" \| "update" \| "delete", "pk": \.\.\.,'
            r" \"data\": \{\.\.\.\}\}, and the socket on '/chat/' sent '\[1, 2\]'",
        ),
        ("not json", r"OpenUsers takes requests .* sent 'not json'"),
        ('{"pk": 1}', r"OpenUsers takes requests .* sent '\{\"pk\": 1\}'"),
        (
            request("frobnicate"),
            r"^Bad action 'frobnicate': OpenUsers got it from the socket on '/chat/'; the "
            r"actions are "
            r"'create', 'update' and 'delete'",
        ),
        (request(["update"]), r"^Bad action \['update'\]: OpenUsers got it from the socket"),
        (
            request("update", None, {}),
            r"OpenUsers: 'update' needs a pk, and the socket on '/chat/' sent none",
        ),
        (
            request("delete", "abc"),
            r"OpenUsers: the socket on '/chat/' sent pk 'abc' to delete, which is not a valid "
            r"auth\.user pk \(.abc. value must be an integer\.\)",
        ),
        (
            request("update", 10**9, {}),
            r"OpenUsers: the socket on '/chat/' asked to update auth\.user 1000000000, which "
            r"does not exist",
        ),
        (
            request("create", None, ["username"]),
            r"OpenUsers: 'create' needs data, an object of field values, and the socket on "
            r"'/chat/' sent \['username'\]",
        ),
        (
            request("create", None, {"username": "gil", "groups": [1]}),
            r"OpenUsers: the socket on '/chat/' sent many-to-many field 'groups', which "
            r"bindings do not take .* set it in an override of create\(\)",
        ),
    ],
)
def test_bad_requests_raise_clear_errors(text, error):
    """A frame that is not a request, an unknown action, a missing, malformed or unknown pk,
    data that is not an object or names a many-to-many field: ValueError saying what came,
    and nothing changes."""
    before = list(User.objects.values_list("pk", "username", "email"))
    socket = Socket(make_layer())
    with pytest.raises(ValueError, match=error):
        OpenUsers.consumer(socket.message("websocket.receive", text=text))
    assert list(User.objects.values_list("pk", "username", "email")) == before


def test_a_binary_frame_is_not_a_request():
    """A binary frame raises ValueError showing its bytes."""
    socket = Socket(make_layer())
    with pytest.raises(ValueError, match=r"OpenUsers takes requests .* sent b'\\x00'"):
        OpenUsers.consumer(socket.message("websocket.receive", bytes=b"\x00"))


def test_data_is_validated_before_it_is_saved():
    """Bound fields are validated with the model's own rules (ValidationError naming the
    field); a create never overwrites a row, even given an existing pk."""
    ned = User.objects.create(username="ned")
    socket = Socket(make_layer())
    bad_email = request("update", ned.pk, {"email": "not an email"})
    with pytest.raises(ValidationError, match=r"'email': \['Enter a valid email address\.'\]"):
        OpenUsers.consumer(socket.message("websocket.receive", text=bad_email))
    taken = request("create", ned.pk, {"username": "imposter"})
    with pytest.raises(ValidationError, match=r"'id': \['User with this ID already exists\.'\]"):
        OpenUsers.consumer(socket.message("websocket.receive", text=taken))
    ned.refresh_from_db()
    assert (ned.username, ned.email) == ("ned", "")


def test_a_bad_request_is_logged_and_the_worker_goes_on(caplog):
    """Run by the worker, a bad request is logged with its error, and the socket's next
    request runs."""
    layer = make_layer(route("websocket.receive", OpenUsers.consumer))
    ola = User.objects.create(username="ola")
    socket = Socket(layer)
    socket.send("websocket.receive", text=request("rename", ola.pk))
    socket.send("websocket.receive", text=request("update", ola.pk, {"email": "ola@example.com"}))
    run(layer)
    assert User.objects.get(pk=ola.pk).email == "ola@example.com"
    assert "Bad action 'rename': OpenUsers got it from the socket" in caplog.text


def test_strict_ordering_runs_a_sockets_requests_in_order():
    """With strict_ordering, requests that arrive out of order run in the socket's order."""
    seen: list[str] = []

    class Ordered(OpenUsers):
        strict_ordering = True

        def update(self, pk: Any, data: Any) -> None:
            seen.append(data["last_name"])
            super().update(pk, data)

    layer = make_layer(route(["websocket.connect", "websocket.receive"], Ordered.consumer))
    pia = User.objects.create(username="pia")
    socket = Socket(layer)
    connect = socket.content("websocket.connect")
    first = socket.content(
        "websocket.receive", text=request("update", pia.pk, {"last_name": "one"})
    )
    second = socket.content(
        "websocket.receive", text=request("update", pia.pk, {"last_name": "two"})
    )
    for channel, content in [
        ("websocket.receive", second),
        ("websocket.receive", first),
        ("websocket.connect", connect),
    ]:
        layer.send(channel, content)
    run(layer)
    assert seen == ["one", "two"]
    assert User.objects.get(pk=pia.pk).last_name == "two"

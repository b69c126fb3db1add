"""Data binding (SPEC B1–B8): model signals become group messages and client requests become
model changes, run by a real worker on the in-memory layer against the test database, with
``auth.User`` as the bound model."""

from __future__ import annotations

import gc
import json
import logging
from typing import Any

import pytest
from django.contrib.auth.models import Group as AuthGroup
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from channels_classic import route, route_class
from channels_classic.binding import Binding, WebsocketBinding, WebsocketBindingWithMembers
from channels_classic.binding.registry import bindings
from channels_classic.generic import WebsocketDemultiplexer
from channels_classic.layers.facade import ClassicLayer
from channels_classic.message import Message
from tests.generic_support import Socket, as_default, login, make_layer, run, use_cache_sessions

USER_FIELDS = [
    "password",
    "last_login",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
    "groups",
    "user_permissions",
]


@pytest.fixture(autouse=True)
def sessions(settings):
    use_cache_sessions(settings)


@pytest.fixture(autouse=True)
def database(transactional_db):
    """Rows the worker's threads and the test both see (committed)."""


@pytest.fixture(autouse=True)
def forget_local_bindings():
    """Bindings defined in a test stop listening after it: signal receivers are weak
    references, and a class goes only when the collector breaks its reference cycles."""
    yield
    gc.collect()


def team_groups(user: User) -> list[str]:
    """A user with a last name is in that team, and then seen by everyone."""
    return [f"team-{user.last_name}", "everyone"] if user.last_name else []


class UserBinding(WebsocketBinding):
    """Members update users, staff also create and delete them; refusals are answered."""

    model = "auth.User"
    stream = "users"
    fields = ["username", "email", "last_name", "groups"]

    @classmethod
    def group_names(cls, instance: User) -> list[str]:
        return team_groups(instance)

    def has_permission(self, user: Any, action: str, pk: Any) -> bool:
        return user.is_authenticated and (action == "update" or user.is_staff)

    def permission_denied(self, action: str, pk: Any) -> None:
        assert self.message.reply_channel is not None
        self.message.reply_channel.send({"text": json.dumps({"denied": action, "pk": pk})})


class OpenUsers(UserBinding):
    """Lets anybody do anything, without sessions; sends nothing out."""

    channel_session_user = False

    @classmethod
    def group_names(cls, instance: User) -> list[str]:
        return []

    def has_permission(self, user: Any, action: str, pk: Any) -> bool:
        return True


class ProfileBinding(WebsocketBindingWithMembers):
    """Everything but secrets and relations, plus members, to the user's profile group."""

    model = User
    stream = "profiles"
    exclude = ["password", "groups", "user_permissions"]
    send_members = ["get_full_name", "date_joined.year", "is_anonymous"]

    @classmethod
    def group_names(cls, instance: User) -> list[str]:
        return [f"profile-{instance.last_name}"] if instance.last_name else []


class Live(WebsocketDemultiplexer):
    """A socket carrying the page's login, seeing everyone, with a users stream."""

    http_user = True
    groups = ["everyone"]
    consumers = {"users": UserBinding.consumer}


def member(layer: ClassicLayer, *groups: str) -> Socket:
    """A client socket that is in ``groups``."""
    socket = Socket(layer)
    for group in groups:
        layer.group_add(group, socket.reply)
    return socket


def frames(socket: Socket) -> list[Any]:
    """What reached the socket, text frames decoded."""
    return [json.loads(reply["text"]) if "text" in reply else reply for reply in socket.replies()]


def change(action: str, user: User) -> dict[str, Any]:
    """The frame UserBinding sends about ``action`` on ``user``."""
    data = {"username": user.username, "email": user.email, "last_name": user.last_name}
    payload = {"action": action, "pk": user.pk, "data": {**data, "groups": []}}
    return {"stream": "users", "payload": {**payload, "model": "auth.user"}}


def request(action: Any, pk: Any = None, data: Any = None) -> str:
    """A client's request frame."""
    return json.dumps({"action": action, "pk": pk, "data": data})


def on_stream(stream: str, text: str) -> str:
    """The frame carrying the request ``text`` on ``stream`` of a demultiplexed socket."""
    return json.dumps({"stream": stream, "payload": json.loads(text)})


# Declaration and registration (B1, B2)


def test_a_model_string_is_resolved_and_all_fields_can_be_bound():
    """model "app_label.ModelName" becomes the class and model_label; fields "__all__" (or
    ["__all__"]) binds every field but the pk, in model order."""
    for every in ("__all__", ["__all__"]):

        class Everything(WebsocketBinding):
            model = "auth.User"
            stream = "everything"
            fields = every

            @classmethod
            def group_names(cls, instance: User) -> list[str]:
                return []

        assert Everything.model is User and Everything.model_label == "auth.user"
        assert [field.name for field in Everything.bound_fields()] == USER_FIELDS


#: A group_names implementation, for classes built in tests.
NAMED = {"group_names": classmethod(lambda cls, instance: [])}


@pytest.mark.parametrize(
    ("base", "attrs", "error"),
    [
        (
            WebsocketBinding,
            NAMED,
            r"^Bad\.model must be a model class or an 'app_label\.ModelName' string, got None "
            r"\(set model = None in the class body to make Bad abstract\)$",
        ),
        (WebsocketBinding, {**NAMED, "model": 42}, r"Bad\.model must be a model class .* got 42"),
        (
            WebsocketBinding,
            {**NAMED, "model": "auth.Nope"},
            r"Bad\.model = 'auth\.Nope' names no installed model \(App 'auth' doesn't have a "
            r"'Nope' model\.\); give a model class",
        ),
        (
            WebsocketBinding,
            {**NAMED, "model": User},
            r"Bad must set fields \(a list of field names, or '__all__'\) or exclude",
        ),
        (
            WebsocketBinding,
            {**NAMED, "model": User, "fields": "username"},
            r"Bad\.fields must be a list of field names, or '__all__', got 'username'",
        ),
        (
            WebsocketBinding,
            {**NAMED, "model": User, "exclude": "password"},
            r"Bad\.exclude must be a list of field names, got 'password'",
        ),
        (
            WebsocketBinding,
            {**NAMED, "model": User, "fields": ["username", "nick", "age"]},
            r"Bad\.fields names \['age', 'nick'\], which auth\.user does not have; its fields "
            r"are \['id', 'password', 'last_login'",
        ),
        (
            WebsocketBinding,
            {**NAMED, "model": User, "exclude": ["secret"]},
            r"Bad\.exclude names \['secret'\], which auth\.user does not have",
        ),
        (
            WebsocketBinding,
            {**NAMED, "model": User, "fields": ["username"]},
            r"Bad\.stream is not set: name the stream its messages go out on, e\.g\. "
            r"stream = 'user'",
        ),
        (
            WebsocketBinding,
            {"model": User, "fields": ["username"], "stream": "users"},
            r"Bad must implement the classmethod group_names\(cls, instance\)",
        ),
        (
            WebsocketBinding,
            {
                **NAMED,
                "model": User,
                "fields": ["username"],
                "stream": "u",
                "slight_ordering": True,
            },
            r"Bad\.slight_ordering = True: slight ordering was removed in Channels 1\.0",
        ),
        (
            WebsocketBindingWithMembers,
            {
                **NAMED,
                "model": User,
                "fields": ["username"],
                "stream": "u",
                "send_members": "email",
            },
            r"Bad\.send_members must be a list of attribute paths .* got 'email'",
        ),
    ],
)
def test_misconfigured_bindings_are_refused_when_defined(base, attrs, error):
    """Once Django is ready a binding class registers as it is created, so a mistake fails
    the class statement, saying what to change (1.x failed on each save, or never)."""
    with pytest.raises(ValueError, match=error):
        type("Bad", (base,), attrs)


def test_abstract_bindings_are_skipped_and_their_subclasses_listen():
    """model = None in a class body makes it abstract (not checked, not connected); a
    subclass that sets the model listens to it."""

    class Teams(WebsocketBinding):
        model = None
        stream = "teams"
        fields = ["name"]

    class TeamBinding(Teams):
        model = AuthGroup

        @classmethod
        def group_names(cls, instance: AuthGroup) -> list[str]:
            return ["teams"]

    layer = make_layer()
    socket = member(layer, "teams")
    with as_default(layer):
        team = AuthGroup.objects.create(name="red")
    assert frames(socket) == [
        {
            "stream": "teams",
            "payload": {
                "action": "create",
                "pk": team.pk,
                "data": {"name": "red"},
                "model": "auth.group",
            },
        }
    ]
    assert "model_label" not in vars(Teams)


def test_bindings_defined_before_django_is_ready_wait_for_it(monkeypatch):
    """Before ready() a new binding class only waits (its model may not be loaded yet, so
    its "app_label.ModelName" stays a string); the app config's ready() connects it."""
    monkeypatch.setattr(bindings, "is_ready", False)
    monkeypatch.setattr(bindings, "pending", [])

    class Early(WebsocketBinding):
        model = "auth.Group"
        stream = "early"
        fields = ["name"]

        @classmethod
        def group_names(cls, instance: AuthGroup) -> list[str]:
            return ["early"]

    assert bindings.pending == [Early]
    assert Early.model == "auth.Group"
    layer = make_layer()
    socket = member(layer, "early")
    with as_default(layer):
        AuthGroup.objects.create(name="before")
        assert socket.replies() == []
        bindings.ready()
        after = AuthGroup.objects.create(name="after")
    assert bindings.pending == [] and Early.model is AuthGroup
    assert [frame["payload"]["pk"] for frame in frames(socket)] == [after.pk]


# Outbound (B3, B4, B6, B7)


def test_a_create_goes_to_the_groups_the_row_joins():
    """Saving a new row sends "create" to each of its groups, at once outside consumers, in
    the multiplexed format with the bound fields; other groups hear nothing."""
    layer = make_layer()
    team, everyone, other = (member(layer, name) for name in ("team-red", "everyone", "team-blue"))
    with as_default(layer):
        ann = User.objects.create(username="ann", last_name="red", email="ann@example.com")
    assert frames(team) == frames(everyone) == [change("create", ann)]
    assert other.replies() == []


def test_a_save_moving_a_row_sends_delete_update_create_in_that_order():
    """A row moving from team red to team blue is deleted for red, updated for everyone and
    created for blue, in that order. The groups it left are those of the stored row: the
    instance already says blue when it is saved (1.x asked the instance, and red never
    heard)."""
    layer = make_layer()
    everywhere = member(layer, "team-red", "everyone", "team-blue")
    red = member(layer, "team-red")
    with as_default(layer):
        bob = User.objects.create(username="bob", last_name="red")
        for socket in (everywhere, red):
            socket.replies()
        bob.last_name = "blue"
        bob.save()
    assert [frame["payload"]["action"] for frame in frames(everywhere)] == [
        "delete",
        "update",
        "create",
    ]
    assert frames(red) == [change("delete", bob)]


def test_a_delete_goes_to_every_group_of_the_row():
    """Deleting a row sends "delete" with its pk and last data to all its groups."""
    layer = make_layer()
    team, everyone = member(layer, "team-red"), member(layer, "everyone")
    with as_default(layer):
        cid = User.objects.create(username="cid", last_name="red")
        for socket in (team, everyone):
            socket.replies()
        pk = cid.pk
        cid.delete()
    cid.pk = pk
    assert frames(team) == frames(everyone) == [change("delete", cid)]


def test_rows_in_no_group_and_empty_payloads_send_nothing():
    """A row in no group sends nothing; nor does a binding whose serialize returns {}."""

    class Quiet(UserBinding):
        @classmethod
        def group_names(cls, instance: User) -> list[str]:
            return ["quiet"]

        def serialize(self, instance: Any, action: str) -> dict[str, Any]:
            return {}

    layer = make_layer()
    quiet, everyone = member(layer, "quiet"), member(layer, "everyone")
    with as_default(layer):
        User.objects.create(username="nobody")
        assert everyone.replies() == []
        dee = User.objects.create(username="dee", last_name="red")
    assert quiet.replies() == []
    assert frames(everyone) == [change("create", dee)]


def test_sends_inside_a_consumer_wait_until_it_returns():
    """A save in a consumer sends its changes with the consumer's other sends, once it has
    returned: nothing is out while it runs."""
    seen_meanwhile: list[Any] = []

    def save_and_look(message: Message) -> None:
        User.objects.create(username="eve", last_name="red")
        seen_meanwhile.append(message.channel_layer.receive([team.reply]))

    layer = make_layer(route("test.save", save_and_look))
    team = member(layer, "team-red")
    layer.send("test.save", {})
    with as_default(layer):
        run(layer)
    assert seen_meanwhile == [(None, None)]
    assert frames(team) == [change("create", User.objects.get(username="eve"))]


@pytest.mark.parametrize(
    ("username", "groups", "error"),
    [
        (
            "fay",
            "team",
            r"Odd\.group_names\(<User: fay>\) must return a list of group names, got 'team'; "
            r"for one group return a list of one name",
        ),
        (
            "flo",
            ["bad name!"],
            r"Odd\.group_names\(<User: flo>\) returned \['bad name!'\]: Group name "
            r"'bad name!' is invalid",
        ),
    ],
)
def test_group_names_must_be_a_list_of_valid_names(username, groups, error):
    """group_names returning a string or an invalid name fails the save, naming both."""

    class Odd(UserBinding):
        @classmethod
        def group_names(cls, instance: User) -> Any:
            return groups if instance.username == username else []

    with pytest.raises(TypeError, match=error):
        User.objects.create(username=username)


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


def test_a_protocol_free_binding_uses_its_own_encode_and_serialize():
    """Binding itself is protocol-free: serialize and encode make the message, and
    serialize sees the signal's keyword arguments."""

    class Plain(Binding):
        model = User
        stream = "plain"
        fields = ["username"]

        @classmethod
        def group_names(cls, instance: User) -> list[str]:
            return ["plain"] if instance.last_name == "plain" else []

        def serialize(self, instance: Any, action: str) -> dict[str, Any]:
            assert self.signal_kwargs is not None
            return {"did": action, "created": self.signal_kwargs.get("created")}

        @classmethod
        def encode(cls, stream: str, payload: dict[str, Any]) -> dict[str, Any]:
            return {"text": f"{stream}: {json.dumps(payload)}"}

    layer = make_layer()
    socket = member(layer, "plain")
    with as_default(layer):
        ida = User.objects.create(username="ida", last_name="plain")
        ida.save()
        ida.delete()
    assert socket.replies() == [
        {"text": 'plain: {"did": "create", "created": true}'},
        {"text": 'plain: {"did": "update", "created": false}'},
        {"text": 'plain: {"did": "delete", "created": null}'},
    ]


# Inbound (B5, B6)


def connected(layer: ClassicLayer, user: User | None = None) -> Socket:
    """A socket on the Live demultiplexer, connected (logged in as ``user``, if given)."""
    socket = Socket(layer, session_key=login(user) if user else "")
    socket.send("websocket.connect")
    run(layer)
    assert socket.replies() == [{"accept": True}]
    return socket


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
            r"OpenUsers got action 'frobnicate' from the socket on '/chat/'; the actions are "
            r"'create', 'update' and 'delete'",
        ),
        (request(["update"]), r"OpenUsers got action \['update'\] from the socket"),
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
    assert "OpenUsers got action 'rename'" in caplog.text


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

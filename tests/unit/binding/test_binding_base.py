"""Data binding's base (channels_classic.binding.base): binding
classes are checked and connected to their model's signals, and saves and deletes become
messages to the groups a row leaves, stays in and joins. Bound to ``auth.User``, against the
test database, with a real worker on the in-memory layer where consumers run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Group as AuthGroup
from django.contrib.auth.models import User

from channels_classic import route
from channels_classic.binding import Binding, WebsocketBinding, WebsocketBindingWithMembers
from channels_classic.binding.base import BindingMetaclass
from channels_classic.message import Message
from tests.support.binding import (  # noqa: F401 (fixtures)
    USER_FIELDS,
    UserBinding,
    change,
    database,
    forget_local_bindings,
    frames,
    member,
    sessions,
)
from tests.support.generic import as_default, make_layer, run

# Declaration and registration


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
            r"^You must set the model attribute on Binding <class '[\w.]+\.Bad'>! Give a model "
            r"class or an 'app_label\.ModelName' string \(or set model = None in the class body "
            r"to make Bad abstract\)$",
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
            r"^You must set the fields or exclude attribute on Binding <class '[\w.]+\.Bad'>! "
            r"fields is a list of field names \(or '__all__'\), exclude",
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
    monkeypatch.setattr(BindingMetaclass, "register_immediately", False)
    monkeypatch.setattr(BindingMetaclass, "binding_classes", [])

    class Early(WebsocketBinding):
        model = "auth.Group"
        stream = "early"
        fields = ["name"]

        @classmethod
        def group_names(cls, instance: AuthGroup) -> list[str]:
            return ["early"]

    assert BindingMetaclass.binding_classes == [Early]
    assert Early.model == "auth.Group"
    layer = make_layer()
    socket = member(layer, "early")
    with as_default(layer):
        AuthGroup.objects.create(name="before")
        assert socket.replies() == []
        BindingMetaclass.register_all()
        after = AuthGroup.objects.create(name="after")
    assert BindingMetaclass.register_immediately and Early.model is AuthGroup
    assert [frame["payload"]["pk"] for frame in frames(socket)] == [after.pk]


# Outbound: saves and deletes become messages


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


# The 1.1 extension points, overridden by subclasses


class Audited(WebsocketBinding):
    """Overrides every 1.1 extension point, recording the calls and keeping what they do."""

    model = "auth.User"
    stream = "audited"
    fields = ["username", "last_name"]
    calls: list[tuple[Any, ...]] = []

    @classmethod
    def group_names(cls, instance: User) -> list[str]:
        cls.calls.append(("group_names", instance.last_name))
        return [f"audit-{instance.last_name}"] if instance.last_name else []

    @classmethod
    def pre_change_receiver(cls, instance: User, action: str) -> None:
        cls.calls.append(("pre", action))
        super().pre_change_receiver(instance, action)

    @classmethod
    def post_change_receiver(cls, instance: User, action: str, **kwargs: Any) -> None:
        cls.calls.append(("post", action, sorted(kwargs)))
        super().post_change_receiver(instance, action, **kwargs)

    def send_messages(self, instance: User, group_names: Any, action: str, **kwargs: Any) -> None:
        self.calls.append(("send", action, sorted(group_names), kwargs.get("created")))
        super().send_messages(instance, group_names, action, **kwargs)


def test_the_signal_handlers_call_the_overridden_extension_points():
    """A save and a delete go through pre_change_receiver(instance, action),
    post_change_receiver(instance, action, **signal kwargs) and
    send_messages(instance, group_names, action, **signal kwargs), each overridable;
    group_names(instance) is asked for the stored row and for the saved one."""
    layer = make_layer()
    socket = member(layer, "audit-red")
    Audited.calls = []
    with as_default(layer):
        cat = User.objects.create(username="cat", last_name="red")
        assert Audited.calls[:4] == [
            ("pre", "create"),
            ("post", "create", ["created", "raw", "sender", "signal", "update_fields", "using"]),
            ("group_names", "red"),
            ("send", "delete", [], True),
        ]
        assert ("send", "create", ["audit-red"], True) in Audited.calls
        Audited.calls = []
        cat.delete()
    assert Audited.calls[0] == ("pre", "delete") and Audited.calls[1] == ("group_names", "red")
    assert ("send", "delete", ["audit-red"], None) in Audited.calls
    assert [frame["payload"]["action"] for frame in frames(socket)] == ["create", "delete"]
    assert Audited in BindingMetaclass.binding_classes and type(Audited) is BindingMetaclass


def test_a_1_0_group_names_with_an_action_is_refused_saying_the_1_1_signature():
    """Channels 1.0's group_names(cls, instance, action) would fail on every save: the class
    is refused, naming 1.1's group_names(cls, instance)."""
    with pytest.raises(ValueError, match=r"takes \(instance, action\), as in Channels 1\.0"):

        class Old(WebsocketBinding):
            model = "auth.User"
            stream = "old"
            fields = ["username"]

            @classmethod
            def group_names(cls, instance: User, action: str) -> list[str]:
                return []

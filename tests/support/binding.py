"""What the data binding tests share: bindings of ``auth.User`` (listening for the whole
session once imported), sockets in groups, the frames bindings send, and the fixtures every
binding test uses (import them into the test module)."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from channels_classic.binding import WebsocketBinding, WebsocketBindingWithMembers
from channels_classic.binding.base import BindingMetaclass
from channels_classic.generic import WebsocketDemultiplexer
from channels_classic.layers.facade import ClassicLayer
from tests.support.generic import Socket, login, run, use_cache_sessions

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
    references, and a class goes once the metaclass's list no longer holds it and the
    collector breaks its reference cycles."""
    kept = list(BindingMetaclass.binding_classes)
    yield
    BindingMetaclass.binding_classes[:] = kept
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


def connected(layer: ClassicLayer, user: User | None = None) -> Socket:
    """A socket on the Live demultiplexer, connected (logged in as ``user``, if given)."""
    socket = Socket(layer, session_key=login(user) if user else "")
    socket.send("websocket.connect")
    run(layer)
    assert socket.replies() == [{"accept": True}]
    return socket

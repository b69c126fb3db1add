"""WebsocketConsumer and JsonWebsocketConsumer, run by a real worker on the
in-memory layer, with real sessions and users where their flags need them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from channels_classic import route_class
from channels_classic.generic import JsonWebsocketConsumer, WebsocketConsumer
from channels_classic.message import Message
from tests.support.generic import (
    Socket,
    as_default,
    connect_then_ask,
    login,
    make_layer,
    run,
    use_cache_sessions,
)


@pytest.fixture(autouse=True)
def sessions(settings):
    use_cache_sessions(settings)


class Lobby(WebsocketConsumer):
    groups = ["lobby", "everyone"]


def test_connect_accepts_and_joins_groups_and_disconnect_leaves_them():
    """By default connect joins the socket to `groups` and accepts; disconnect leaves them."""
    layer = make_layer(route_class(Lobby))
    socket = Socket(layer)
    socket.send("websocket.connect")
    run(layer)
    assert socket.replies() == [{"accept": True}]
    layer.send_group("lobby", {"text": "to the lobby"})
    layer.send_group("everyone", {"text": "to everyone"})
    assert socket.replies() == [{"text": "to the lobby"}, {"text": "to everyone"}]
    socket.send("websocket.receive", text="ignored by default")
    socket.send("websocket.disconnect")
    run(layer)
    layer.send_group("lobby", {"text": "after leaving"})
    assert socket.replies() == []


class Room(WebsocketConsumer):
    def connection_groups(self, room: str, **kwargs: Any) -> list[str]:
        return [f"room-{room}"]

    def connect(self, message: Message, room: str, **kwargs: Any) -> None:
        self.message.reply_channel.send({"accept": True})
        self.send(text=f"welcome to {room} at {self.path}")


def test_connection_groups_and_methods_get_the_routes_keyword_arguments():
    """connection_groups and connect get the route's kwargs; self.path is the socket's."""
    layer = make_layer(route_class(Room, path=r"^/rooms/(?P<room>\w+)/$"))
    socket = Socket(layer, path="/rooms/blue/")
    socket.send("websocket.connect")
    run(layer)
    assert socket.replies() == [{"accept": True}, {"text": "welcome to blue at /rooms/blue/"}]
    layer.send_group("room-blue", {"text": "blue news"})
    assert socket.replies() == [{"text": "blue news"}]


def test_connection_groups_must_be_a_list_of_valid_group_names():
    """A string (1.x joined a group per character) or an invalid name is refused before the
    socket joins anything."""

    class Single(WebsocketConsumer):
        groups = "lobby"  # type: ignore[assignment]

    class BadName(WebsocketConsumer):
        def connection_groups(self, **kwargs: Any) -> list[str]:
            return ["ok", "not ok!"]

    layer = make_layer()
    socket = Socket(layer)
    with pytest.raises(
        TypeError,
        match=r"Single\.connection_groups\(\) must return a list of group names, got 'lobby'; "
        r"for one group return a list of one name, e\.g\. \['lobby'\]",
    ):
        Single(socket.message("websocket.connect"))
    with pytest.raises(
        TypeError,
        match=r"BadName\.connection_groups\(\) returned \['ok', 'not ok!'\]: Group name "
        r"'not ok!' is invalid",
    ):
        BadName(socket.message("websocket.connect"))
    layer.send_group("ok", {"text": "anyone?"})
    assert socket.replies() == []


class Echo(WebsocketConsumer):
    def receive(self, text: str | None = None, bytes: bytes | None = None, **kwargs: Any) -> None:
        if text is not None:
            self.send(text=f"{text} {kwargs}")
        else:
            self.send(bytes=bytes[::-1] if bytes else b"")


def test_receive_gets_each_frame_as_text_or_bytes():
    """Text frames arrive as receive(text=...), binary ones as receive(bytes=...), with the
    route's kwargs."""
    layer = make_layer(route_class(Echo, path=r"^/(?P<where>\w+)/$"))
    socket = Socket(layer, path="/here/")
    socket.send("websocket.connect")
    socket.send("websocket.receive", text="hi")
    socket.send("websocket.receive", bytes=b"abc")
    run(layer)
    assert socket.replies() == [
        {"accept": True},
        {"text": "hi {'where': 'here'}"},
        {"bytes": b"cba"},
    ]


class Closer(WebsocketConsumer):
    def receive(self, text: str | None = None, bytes: bytes | None = None, **kwargs: Any) -> None:
        command, _, code = (text or "").partition(" ")
        if command == "close":
            self.close(int(code) if code else True)
        else:
            self.send(text="bye", close=int(code))


def test_close_and_send_with_close():
    """close() sends close True or the code; send(close=...) closes after the frame."""
    layer = make_layer(route_class(Closer))
    socket = Socket(layer)
    for text in ("close", "close 4001", "last 1001"):
        socket.send("websocket.receive", text=text)
    run(layer)
    assert socket.replies() == [
        {"close": True},
        {"close": 4001},
        {"text": "bye", "close": 1001},
    ]


@pytest.mark.parametrize(
    ("misuse", "error"),
    [
        (lambda c: c.send(), r"^You must pass text or bytes: .* got neither; .* close\(\)"),
        (lambda c: c.send(text="a", bytes=b"b"), r"^You must pass text or bytes: .* got both"),
        (lambda c: c.send(text=b"a"), r"'text' must be a str, got bytes"),
        (lambda c: c.send(bytes="a"), r"'bytes' must be bytes, got str"),
        (lambda c: c.send(text="a", close=1005), r"'close' must be True or a close code .*1005"),
        (lambda c: c.close(999), r"'close' must be True or a close code \(1000-1003, 1007-1014"),
        (lambda c: c.close(False), r"close\(\) needs True or a close code, got False"),
    ],
)
def test_bad_replies_are_refused_where_they_are_made(misuse, error):
    """send() and close() check the reply (1.x passed it on for the server to refuse), and
    nothing reaches the socket."""

    class Misuser(WebsocketConsumer):
        def receive(self, text: str | None = None, **kwargs: Any) -> None:
            misuse(self)

    layer = make_layer()
    socket = Socket(layer)
    with pytest.raises(ValueError, match=error):
        Misuser(socket.message("websocket.receive", text="go"))
    assert socket.replies() == []


def test_group_send_reaches_every_socket_of_the_group_on_the_default_layer():
    """group_send sends a frame (and a close) to every member, through the default layer;
    it refuses what send refuses."""
    layer = make_layer(route_class(Lobby))
    sockets = [Socket(layer), Socket(layer)]
    for socket in sockets:
        socket.send("websocket.connect")
    run(layer)
    with as_default(layer):
        Lobby.group_send("lobby", text="hello")
        Lobby.group_send("everyone", bytes=b"\x00", close=4000)
        with pytest.raises(ValueError, match="^You must pass text or bytes: .* got neither"):
            Lobby.group_send("lobby")
    for socket in sockets:
        assert socket.replies() == [
            {"accept": True},
            {"text": "hello"},
            {"bytes": b"\x00", "close": 4000},
        ]


class Whoami(WebsocketConsumer):
    def connect(self, message: Message, **kwargs: Any) -> None:
        self.send(text=f"connect {message.user}")

    def receive(self, text: str | None = None, bytes: bytes | None = None, **kwargs: Any) -> None:
        http_session = self.message.http_session
        key = None if http_session is None else http_session.session_key
        self.send(text=json.dumps([str(self.message.user), key]))


@pytest.mark.parametrize("flag", ["http_user", "http_user_and_session"])
def test_http_user_flags_give_every_message_the_handshakes_user(flag, alice):
    """http_user gives connect and every later message the user of the handshake's HTTP
    session; http_user_and_session also keeps that HTTP session on later messages."""
    layer = make_layer(Whoami.as_route(attrs={flag: True}))
    key = login(alice)
    alices, strangers = Socket(layer, session_key=key), Socket(layer)
    connect_then_ask(layer, (alices, strangers), "who?")
    kept = key if flag == "http_user_and_session" else None
    assert alices.replies() == [{"text": "connect alice"}, {"text": json.dumps(["alice", kept])}]
    assert strangers.replies() == [
        {"text": "connect AnonymousUser"},
        {"text": json.dumps(["AnonymousUser", None])},
    ]


def test_strict_ordering_runs_a_sockets_messages_in_order():
    """strict_ordering = True runs messages that came out of order in the socket's order."""
    seen: list[tuple[str, int]] = []

    class Ordered(WebsocketConsumer):
        strict_ordering = True

        def connect(self, message: Message, **kwargs: Any) -> None:
            seen.append(("connect", message["order"]))

        def receive(self, text: str | None = None, **kwargs: Any) -> None:
            seen.append((text or "", self.message["order"]))

        def disconnect(self, message: Message, **kwargs: Any) -> None:
            seen.append(("disconnect", message["order"]))

    layer = make_layer(route_class(Ordered))
    socket = Socket(layer)
    connect = socket.content("websocket.connect")
    first = socket.content("websocket.receive", text="first")
    second = socket.content("websocket.receive", text="second")
    gone = socket.content("websocket.disconnect")
    for channel, content in [
        ("websocket.disconnect", gone),
        ("websocket.receive", second),
        ("websocket.receive", first),
        ("websocket.connect", connect),
    ]:
        layer.send(channel, content)
    run(layer)
    assert seen == [("connect", 0), ("first", 1), ("second", 2), ("disconnect", 3)]


def test_slight_ordering_is_refused():
    """slight_ordering = True (removed in 1.0) fails when routed, and at each message."""

    class Sloppy(WebsocketConsumer):
        slight_ordering = True

    error = r"Sloppy\.slight_ordering = True: slight ordering was removed in Channels 1\.0"
    with pytest.raises(ValueError, match=error):
        route_class(Sloppy)
    with pytest.raises(ValueError, match=error):
        Sloppy(Socket(make_layer()).message("websocket.connect"))


def test_a_message_without_a_reply_channel_is_refused():
    """A WebSocket consumer given a message with no reply channel says it has no socket."""
    with pytest.raises(
        ValueError,
        match=r"Lobby got a message on 'websocket\.connect' with no reply_channel, so it has "
        r"no socket to answer",
    ):
        Lobby(Message({"path": "/"}, "websocket.connect", make_layer()))


# JsonWebsocketConsumer


class Doubler(JsonWebsocketConsumer):
    groups = ["doublers"]

    def receive(self, content: Any, **kwargs: Any) -> None:
        self.send({"double": content["n"] * 2}, close=content.get("close", False))


def test_json_consumer_decodes_frames_and_encodes_what_it_sends():
    """receive() gets each text frame decoded; send() and group_send() encode."""
    layer = make_layer(route_class(Doubler))
    socket = Socket(layer)
    socket.send("websocket.connect")
    socket.send("websocket.receive", text='{"n": 2}')
    socket.send("websocket.receive", text='{"n": 5, "close": 4002}')
    run(layer)
    with as_default(layer):
        Doubler.group_send("doublers", {"all": True}, close=True)
    assert socket.replies() == [
        {"accept": True},
        {"text": '{"double": 4}'},
        {"text": '{"double": 10}', "close": 4002},
        {"text": '{"all": true}', "close": True},
    ]


class Compact(Doubler):
    @classmethod
    def decode_json(cls, text: str) -> Any:
        return {"n": int(text)}

    @classmethod
    def encode_json(cls, content: Any) -> str:
        return json.dumps(content, separators=(",", ":"), sort_keys=True)


def test_decode_json_and_encode_json_are_the_override_points():
    """Overridden decode_json and encode_json serve receive, send and group_send."""
    layer = make_layer(route_class(Compact))
    socket = Socket(layer)
    socket.send("websocket.connect")
    socket.send("websocket.receive", text="21")
    run(layer)
    with as_default(layer):
        Compact.group_send("doublers", {"b": 1, "a": 2})
    assert socket.replies() == [
        {"accept": True},
        {"text": '{"double":42}'},
        {"text": '{"a":2,"b":1}'},
    ]


def test_json_consumer_refuses_binary_frames_and_text_that_is_not_json():
    """A binary frame or a frame that is not JSON raises ValueError showing what came."""
    socket = Socket(make_layer())
    with pytest.raises(
        ValueError,
        match=r"Doubler takes JSON in text frames, and the socket on '/chat/' sent a binary "
        r"frame \(b'\\x01'\); handle binary frames with a WebsocketConsumer",
    ):
        Doubler(socket.message("websocket.receive", bytes=b"\x01"))
    with pytest.raises(
        ValueError,
        match=r"Doubler got a text frame that is not JSON \(Expecting value: line 1 column 1 "
        r"\(char 0\)\) on '/chat/': 'not json'",
    ):
        Doubler(socket.message("websocket.receive", text="not json"))
    assert socket.replies() == []


def test_a_consumers_error_is_logged_and_the_socket_goes_on(caplog):
    """Run by the worker, a bad frame is logged with the consumer's name; the socket's next
    frame is handled."""
    layer = make_layer(route_class(Doubler))
    socket = Socket(layer)
    socket.send("websocket.receive", text="not json")
    socket.send("websocket.receive", text='{"n": 1}')
    run(layer)
    assert socket.replies() == [{"text": '{"double": 2}'}]
    assert (
        "consumer tests.unit.generic.test_generic_websockets.Doubler failed on a message from "
        "websocket.receive" in (caplog.text)
    )
    assert "got a text frame that is not JSON" in caplog.text

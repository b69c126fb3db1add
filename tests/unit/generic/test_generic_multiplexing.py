"""WebsocketMultiplexer and WebsocketDemultiplexer, run by a real worker on the in-memory
layer."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any

import pytest

from channels_classic import Channel, route_class
from channels_classic.binding import WebsocketBinding
from channels_classic.exceptions import ConsumeLater, SendNotAvailableOnDemultiplexer
from channels_classic.generic import (
    JsonWebsocketConsumer,
    WebsocketConsumer,
    WebsocketDemultiplexer,
    WebsocketMultiplexer,
)
from channels_classic.message import Message
from tests.support.generic import Socket, as_default, make_layer, run, use_cache_sessions


@pytest.fixture(autouse=True)
def sessions(settings):
    use_cache_sessions(settings)


def on(stream: str, payload: Any) -> dict[str, Any]:
    """The reply a multiplexer sends for ``payload`` on ``stream``."""
    return {"text": json.dumps({"stream": stream, "payload": payload})}


def frame(stream: Any, payload: Any) -> str:
    """A client's frame on ``stream``."""
    return json.dumps({"stream": stream, "payload": payload})


class Echo(JsonWebsocketConsumer):
    def connect(self, message: Message, multiplexer: WebsocketMultiplexer, **kwargs: Any) -> None:
        multiplexer.send({"hello": multiplexer.stream})

    def receive(self, content: Any, multiplexer: WebsocketMultiplexer, **kwargs: Any) -> None:
        multiplexer.send({"echo": content, "path": self.path, "kwargs": sorted(kwargs)})

    def disconnect(
        self, message: Message, multiplexer: WebsocketMultiplexer, **kwargs: Any
    ) -> None:
        multiplexer.send({"bye": message["code"]})


def plain(message: Message, multiplexer: WebsocketMultiplexer, **kwargs: Any) -> None:
    """A function consumer behind the demultiplexer: it sees the channel it is called for."""
    text = message.get("text") if message.channel.name == "websocket.receive" else None
    multiplexer.send({"channel": message.channel.name, "text": text, "kwargs": kwargs})


class Streams(WebsocketDemultiplexer):
    consumers = {"echo": Echo, "plain": plain}
    groups = ["streams"]


def test_multiplexer_sends_on_its_stream_with_djangos_json_encoder():
    """send() wraps the payload as {"stream", "payload"}, encoding dates, decimals and
    UUIDs; encode() is that reply."""
    layer = make_layer()
    reply = layer.new_channel("daphne.response")
    multiplexer = WebsocketMultiplexer("prices", Channel(reply, channel_layer=layer))
    when = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC)
    ident = uuid.UUID(int=7)
    multiplexer.send({"at": when, "price": decimal.Decimal("1.50"), "id": ident})
    expected = on(
        "prices",
        {
            "at": "2024-05-01T12:30:00Z",
            "price": "1.50",
            "id": "00000000-0000-0000-0000-000000000007",
        },
    )
    assert layer.receive([reply])[1] == expected
    assert WebsocketMultiplexer.encode("s", [1]) == on("s", [1])
    assert repr(multiplexer) == f"<WebsocketMultiplexer 'prices' on {reply!r}>"


def test_multiplexer_group_send_reaches_the_group_and_can_close():
    """group_send sends on a stream to every socket of a group of the default layer, closing
    after it with True or a code; a bad code is refused."""
    layer = make_layer(route_class(Streams))
    socket = Socket(layer)
    socket.send("websocket.connect")
    run(layer)
    socket.replies()
    with as_default(layer):
        WebsocketMultiplexer.group_send("streams", "news", {"n": 1})
        WebsocketMultiplexer.group_send("streams", "news", {"n": 2}, close=True)
        WebsocketMultiplexer.group_send("streams", "news", {"n": 3}, close=4003)
        with pytest.raises(ValueError, match=r"'close' must be True or a close code .*got 2"):
            WebsocketMultiplexer.group_send("streams", "news", {"n": 4}, close=2)
    assert socket.replies() == [
        on("news", {"n": 1}),
        {**on("news", {"n": 2}), "close": True},
        {**on("news", {"n": 3}), "close": 4003},
    ]


def test_connect_accepts_joins_groups_and_connects_every_stream():
    """The demultiplexer accepts, joins its groups, then runs every stream's connect with
    a multiplexer for that stream and the route's kwargs."""
    layer = make_layer(route_class(Streams, path=r"^/(?P<room>\w+)/$"))
    socket = Socket(layer, path="/blue/")
    socket.send("websocket.connect")
    run(layer)
    assert socket.replies() == [
        {"accept": True},
        on("echo", {"hello": "echo"}),
        on("plain", {"channel": "websocket.connect", "text": None, "kwargs": {"room": "blue"}}),
    ]
    layer.send_group("streams", {"text": "to the group"})
    assert socket.replies() == [{"text": "to the group"}]


def test_frames_reach_the_consumer_of_their_stream_as_ordinary_messages():
    """A frame's payload reaches its stream's consumer as a websocket.receive message whose
    text is the payload's JSON, with the multiplexer and the route's kwargs."""
    layer = make_layer(route_class(Streams, path=r"^/(?P<room>\w+)/$"))
    socket = Socket(layer, path="/blue/")
    socket.send("websocket.receive", text=frame("echo", {"n": 1}))
    socket.send("websocket.receive", text=frame("plain", {"n": 2}))
    run(layer)
    assert socket.replies() == [
        on("echo", {"echo": {"n": 1}, "path": "/blue/", "kwargs": ["room"]}),
        on(
            "plain",
            {"channel": "websocket.receive", "text": '{"n": 2}', "kwargs": {"room": "blue"}},
        ),
    ]


def test_disconnect_leaves_the_groups_and_reaches_every_stream():
    """Disconnect takes the socket out of the demultiplexer's groups and runs every
    stream's disconnect."""
    layer = make_layer(route_class(Streams))
    socket = Socket(layer)
    socket.send("websocket.connect")
    socket.send("websocket.disconnect")
    run(layer)
    assert socket.replies()[-2:] == [
        on("echo", {"bye": 1000}),
        on("plain", {"channel": "websocket.disconnect", "text": None, "kwargs": {}}),
    ]
    layer.send_group("streams", {"text": "anyone?"})
    assert socket.replies() == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "[1, 2]",
            r'Streams takes frames \{"stream": name, "payload": \{\.\.\.\}\}, and the '
            r"socket on '/chat/' sent \[1, 2\]",
        ),
        (json.dumps({"stream": "echo"}), r"Streams takes frames .* sent \{'stream': 'echo'\}"),
        (
            frame("nope", {}),
            r"Streams has no consumer for stream 'nope' \(sent by the socket "
            r"on '/chat/'\); its streams are \['echo', 'plain'\]",
        ),
        (frame(["echo"], {}), r"Streams has no consumer for stream \['echo'\]"),
        (
            frame("echo", [1]),
            r"^Multiplexed frame payload is not a dict: the payload of a frame on stream 'echo' "
            r"must be a JSON object, and the socket on '/chat/' sent \[1\]",
        ),
    ],
)
def test_frames_that_are_not_stream_envelopes_are_refused(text, error):
    """A frame that is not {"stream": known stream, "payload": object} raises ValueError
    showing what came, and reaches no stream."""
    socket = Socket(make_layer())
    with pytest.raises(ValueError, match=error):
        Streams(socket.message("websocket.receive", text=text))
    assert socket.replies() == []


def test_a_bad_frame_is_logged_and_the_socket_goes_on(caplog):
    """Run by the worker, a bad frame is logged with the demultiplexer's name; the next
    frame reaches its stream."""
    layer = make_layer(route_class(Streams))
    socket = Socket(layer)
    socket.send("websocket.receive", text=frame("nope", {}))
    socket.send("websocket.receive", text=frame("echo", {"n": 1}))
    run(layer)
    assert socket.replies() == [on("echo", {"echo": {"n": 1}, "path": "/chat/", "kwargs": []})]
    assert "consumer tests.unit.generic.test_generic_multiplexing.Streams failed" in caplog.text
    assert "has no consumer for stream 'nope'" in caplog.text


class Talker(JsonWebsocketConsumer):
    def receive(self, content: Any, **kwargs: Any) -> None:
        self.send({"said": content})


class Talkers(WebsocketDemultiplexer):
    consumers = {"talk": Talker}


def test_a_stream_consumers_own_send_raises_but_its_class_is_untouched():
    """Behind the demultiplexer a consumer's send raises SendNotAvailableOnDemultiplexer
    the same class routed on its own still sends (1.x patched the class for good)."""
    socket = Socket(make_layer())
    with pytest.raises(
        SendNotAvailableOnDemultiplexer,
        match=r"Talker\.send\(\) is not available on a demultiplexer or behind one, as frames "
        r"there need a stream: send with the multiplexer keyword argument",
    ):
        Talkers(socket.message("websocket.receive", text=frame("talk", {"a": 1})))
    assert socket.replies() == []
    layer = make_layer(route_class(Talker))
    alone = Socket(layer)
    alone.send("websocket.receive", text='{"a": 1}')
    run(layer)
    assert alone.replies() == [{"text": '{"said": {"a": 1}}'}]


def test_the_demultiplexers_own_send_and_group_send_raise():
    """send and group_send of a demultiplexer raise SendNotAvailableOnDemultiplexer."""

    class Loud(Streams):
        def connect(self, message: Message, **kwargs: Any) -> None:
            self.send({"hello": "all"})

    with pytest.raises(SendNotAvailableOnDemultiplexer, match=r"Loud\.send\(\) is not available"):
        Loud(Socket(make_layer()).message("websocket.connect"))
    with pytest.raises(
        SendNotAvailableOnDemultiplexer,
        match=r"^Use WebsocketMultiplexer\.group_send: Streams\.group_send\(\) is not available, "
        r"as frames to a multiplexed socket need a stream; call "
        r"WebsocketMultiplexer\.group_send\(name, stream, payload\)",
    ):
        Streams.group_send("streams", {"text": "x"})


def test_session_flags_work_on_stream_consumers():
    """A stream consumer with channel_session keeps state across the socket's frames."""

    class Counter(JsonWebsocketConsumer):
        channel_session = True

        def receive(self, content: Any, multiplexer: WebsocketMultiplexer, **kwargs: Any) -> None:
            count = self.message.channel_session.get("count", 0) + content["by"]
            self.message.channel_session["count"] = count
            multiplexer.send({"count": count})

    class Counters(WebsocketDemultiplexer):
        consumers = {"count": Counter}

    layer = make_layer(route_class(Counters))
    socket = Socket(layer)
    socket.send("websocket.receive", text=frame("count", {"by": 2}))
    socket.send("websocket.receive", text=frame("count", {"by": 3}))
    run(layer)
    assert socket.replies() == [on("count", {"count": 2}), on("count", {"count": 5})]


def test_a_frame_put_back_by_consume_later_keeps_its_envelope():
    """ConsumeLater from a stream's consumer requeues the frame as the client sent it, so
    the retry reaches the same stream (1.x requeued the bare payload)."""
    attempts: list[Any] = []

    class Flaky(JsonWebsocketConsumer):
        def receive(self, content: Any, multiplexer: WebsocketMultiplexer, **kwargs: Any) -> None:
            attempts.append(content)
            if len(attempts) == 1:
                raise ConsumeLater
            multiplexer.send({"done": content})

    class Retrying(WebsocketDemultiplexer):
        consumers = {"flaky": Flaky}

    layer = make_layer(route_class(Retrying))
    socket = Socket(layer)
    socket.send("websocket.receive", text=frame("flaky", {"n": 1}))
    run(layer)
    assert attempts == [{"n": 1}, {"n": 1}]
    assert socket.replies() == [on("flaky", {"done": {"n": 1}})]


class Ordered(WebsocketConsumer):
    strict_ordering = True


class OrderedBinding(WebsocketBinding):
    """Abstract (no model), so it listens to nothing: only its consumer is routed."""

    model = None
    strict_ordering = True


class Unmapped(WebsocketConsumer):
    method_mapping = {"websocket.connect": "missing"}


@pytest.mark.parametrize(
    ("consumers", "error"),
    [
        ([Echo], r"Bad\.consumers must be a dict of stream name to consumer, got \[<class"),
        (
            {"x": "app.consumers.x"},
            r"Bad\.consumers\['x'\] is 'app\.consumers\.x'; give a "
            r"consumer function or a consumer class",
        ),
        (
            {"x": Ordered},
            r"Bad\.consumers\['x'\] has strict_ordering = True, which cannot work "
            r"behind a demultiplexer .* set strict_ordering on .*Bad instead",
        ),
        (
            {"x": OrderedBinding.consumer},
            r"Bad\.consumers\['x'\] has strict_ordering = True, which cannot work behind a "
            r"demultiplexer",
        ),
        ({"x": Unmapped}, r"Unmapped\.method_mapping maps 'websocket\.connect' to 'missing'"),
    ],
)
def test_misconfigured_demultiplexers_are_refused_when_routed(consumers, error):
    """Bad consumers (not a dict, not callable, ordered on their own, a binding's consumer
    whose class is ordered, or broken classes) fail at route_class(), and at as_route() with
    attrs."""

    class Bad(WebsocketDemultiplexer):
        pass

    with pytest.raises(ValueError, match=error):
        Bad.as_route(attrs={"consumers": consumers})
    Bad.consumers = consumers
    with pytest.raises(ValueError, match=error):
        route_class(Bad)


class Unhashable:
    """A consumer object that cannot be a dict key (it compares by value)."""

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unhashable)

    def __call__(self, message: Message, multiplexer: WebsocketMultiplexer, **kwargs: Any) -> None:
        multiplexer.send({"heard": message.channel.name})


def test_consumers_need_not_be_hashable():
    """Any callable works behind the demultiplexer, unhashable ones included: each of the
    socket's messages reaches it (it was refused on every message before)."""

    class Plain(WebsocketDemultiplexer):
        consumers = {"u": Unhashable()}

    layer = make_layer(route_class(Plain))
    socket = Socket(layer)
    socket.send("websocket.connect")
    socket.send("websocket.receive", text=frame("u", {}))
    run(layer)
    assert socket.replies() == [
        {"accept": True},
        on("u", {"heard": "websocket.connect"}),
        on("u", {"heard": "websocket.receive"}),
    ]

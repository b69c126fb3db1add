"""Origin validation of websocket.connect consumers, directly and through a real worker."""

from __future__ import annotations

from typing import Any

import pytest

from channels_classic import route
from channels_classic.exceptions import DenyConnection
from channels_classic.interface import messages
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.message import Message
from channels_classic.security import (
    AllowedHostsOnlyOriginValidator,
    BaseOriginValidator,
    allowed_hosts_only,
)
from channels_classic.worker import Worker


@pytest.fixture
def layer() -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(), alias="test")


def connect(layer: ClassicLayer, *origins: bytes, channel: str = "websocket.connect") -> Message:
    """A websocket.connect Message as the interface server builds it, with these origin
    headers."""
    headers = [[b"host", b"example.com"], *([b"origin", origin] for origin in origins)]
    scope = {"path": "/chat/", "query_string": b"", "headers": headers}
    return Message(messages.websocket_connect(scope, "daphne.response.x!y"), channel, layer)


@allowed_hosts_only
def accept(message: Any, room: str = "lobby") -> str:
    return f"accepted into {room}"


@pytest.fixture
def hosts(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["example.com", ".example.org"]
    return settings


@pytest.mark.parametrize(
    "origin",
    [
        b"https://example.com",
        b"http://example.com:8080",
        b"https://EXAMPLE.com.",
        b"https://example.org",
        b"https://chat.example.org:443",
    ],
)
def test_origins_of_allowed_hosts_are_accepted(layer, hosts, origin):
    """The origin's host is matched against ALLOWED_HOSTS as Django matches Host headers
    (leading dot: subdomains too), whatever the port; the consumer runs with its kwargs."""
    assert accept(connect(layer, origin), room="kitchen") == "accepted into kitchen"


@pytest.mark.parametrize(
    "origins",
    [
        (b"https://evil.com",),
        (b"https://example.com.evil.com",),
        (b"https://evil.com@example.com",),
        (b"null",),
        (b"",),
        (),
        ("https://exämple.com".encode(),),
        (b"https://[::1",),
        (b"example.com",),
        (b"https://evil.com", b"https://example.com"),
    ],
)
def test_other_origins_are_refused(layer, hosts, origins):
    """Other hosts, 'null', a missing, empty, non-ASCII or malformed origin are refused with
    DenyConnection; only the first origin header counts."""
    with pytest.raises(
        DenyConnection,
        match="refused by AllowedHostsOnlyOriginValidator",
    ):
        accept(connect(layer, *origins))


@pytest.mark.parametrize(
    "origin", [b"http://localhost:8000", b"http://127.0.0.1", b"http://[::1]:8000"]
)
def test_debug_with_no_allowed_hosts_accepts_local_origins(layer, settings, origin):
    """With DEBUG on and ALLOWED_HOSTS empty, local development origins are accepted."""
    settings.DEBUG, settings.ALLOWED_HOSTS = True, []
    assert accept(connect(layer, origin)) == "accepted into lobby"
    with pytest.raises(DenyConnection):
        accept(connect(layer, b"http://example.com"))
    settings.DEBUG = False
    with pytest.raises(DenyConnection):
        accept(connect(layer, origin))


def test_allowed_hosts_only_is_the_validator_class():
    """allowed_hosts_only is the 1.x name of AllowedHostsOnlyOriginValidator, and wraps like
    the function it decorates."""
    assert allowed_hosts_only is AllowedHostsOnlyOriginValidator
    assert isinstance(accept, AllowedHostsOnlyOriginValidator)
    assert accept.__name__ == "accept"


def test_a_subclass_decides_with_validate_origin(layer):
    """validate_origin gets the message and the origin string; False refuses the socket."""

    class SecureOnly(BaseOriginValidator):
        def validate_origin(self, message, origin):
            return origin.startswith("https://")

    consumer = SecureOnly(lambda message: "ok")
    assert consumer(connect(layer, b"https://anything.example")) == "ok"
    with pytest.raises(
        DenyConnection, match=r"origin 'http://anything\.example' refused by SecureOnly"
    ):
        consumer(connect(layer, b"http://anything.example"))


def test_the_base_validator_says_what_to_implement(layer):
    """BaseOriginValidator alone cannot decide; it says which method a subclass implements."""
    consumer = BaseOriginValidator(lambda message: "ok")
    with pytest.raises(
        NotImplementedError,
        match=r"BaseOriginValidator must implement validate_origin\(self, message, origin\)",
    ):
        consumer(connect(layer, b"https://example.com"))


def test_validators_only_decorate_connect_consumers(layer, hosts):
    """Later messages carry no origin, so a validator on another channel is a mistake that
    is reported as such."""
    with pytest.raises(
        ValueError, match=r"decorates websocket\.connect consumers only.*'websocket\.receive'"
    ):
        accept(connect(layer, b"https://example.com", channel="websocket.receive"))


def test_the_worker_answers_a_refused_origin_with_close(hosts):
    """Run by a real worker, a refused origin closes the socket (the interface answers 403)
    and an allowed one reaches the consumer, which accepts."""

    @allowed_hosts_only
    def consumer(message):
        message.reply_channel.send({"accept": True})

    layer = ClassicLayer(
        InMemoryChannelLayer(), alias="test", routing=[route("websocket.connect", consumer)]
    )
    for reply, origin in (("r!good", b"https://example.com"), ("r!evil", b"https://evil.com")):
        headers = [[b"origin", origin]]
        scope = {"path": "/chat/", "query_string": b"", "headers": headers}
        layer.send("websocket.connect", dict(messages.websocket_connect(scope, reply)))
    Worker(layer, install_signals=False, stop_when_idle=True).run()
    assert layer.receive(["r!good"])[1] == {"accept": True}
    assert layer.receive(["r!evil"])[1] == {"close": True}

"""``channels`` imports in every form, and the uses of an imported ``channels``
(``channels_classic.upgrade.imports`` and ``scopes``)."""

from __future__ import annotations

import textwrap

import pytest

from channels_classic.upgrade.command import port_source
from channels_classic.upgrade.source import Changes, PythonSource


def port(text: str) -> tuple[str, Changes]:
    changes = Changes()
    return port_source(PythonSource(textwrap.dedent(text).encode()), changes), changes


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("from channels import Group\n", "from channels_classic import Group\n"),
        (
            "from channels.generic.websockets import (\n    JsonWebsocketConsumer,  # ok\n)\n",
            "from channels_classic.generic.websockets import (\n"
            "    JsonWebsocketConsumer,  # ok\n)\n",
        ),
        (
            "from  channels . routing import route\n",
            "from  channels_classic . routing import route\n",
        ),
        (
            "from \\\n    channels import Channel\n",
            "from \\\n    channels_classic import Channel\n",
        ),
        ("import channels.routing as r\n", "import channels_classic.routing as r\n"),
        ("import channels as ch\n", "import channels_classic as ch\n"),
        (
            "import os, channels\nchannels.Group('g')\n",
            "import os, channels_classic\nchannels_classic.Group('g')\n",
        ),
        (
            "import channels.binding.websockets\n"
            "B = channels.binding.websockets.WebsocketBinding\n",
            "import channels_classic.binding.websockets\n"
            "B = channels_classic.binding.websockets.WebsocketBinding\n",
        ),
        (
            "try:\n    from channels import Group\nexcept ImportError:\n    Group = None\n",
            "try:\n    from channels_classic import Group\nexcept ImportError:\n    Group = None\n",
        ),
    ],
)
def test_every_import_form_is_ported(before: str, after: str) -> None:
    """Each way of importing 1.x channels names channels_classic afterwards, formatting kept."""
    assert port(before)[0] == after


@pytest.mark.parametrize(
    "text",
    [
        "import channels_redis\nfrom channels_redis.core import RedisChannelLayer\n",
        "from .channels import thing\nfrom . import channels\n",
        "from channels.layers import get_channel_layer\nimport channels.layers as layers\n",
        "from channels.routing import ProtocolTypeRouter, URLRouter\n",
        "from channels.generic.websocket import AsyncWebsocketConsumer\n",
        "from channels.auth import AuthMiddlewareStack\n"
        "from channels.db import database_sync_to_async\n",
        "channels = ['a', 'b']\nprint(channels)\n",
        "def f(channels):\n    return channels\n",
    ],
)
def test_what_is_not_1x_channels_is_left_alone(text: str) -> None:
    """channels_redis, relative imports, Channels 4 modules and names, and variables called
    channels stay as they are."""
    ported, changes = port(text)
    assert ported == textwrap.dedent(text)
    assert changes.problems == []


def test_only_uses_of_the_import_are_renamed() -> None:
    """Parameters, locals, class attributes and comprehension variables called ``channels``
    shadow the import; ``global`` and nested functions see it."""
    ported, _ = port(
        """\
        import channels

        def receive(channels):
            return channels.pop()

        def local():
            channels = []
            return channels

        def uses():
            def inner():
                return channels.Group("g")
            return inner, [channels for channels in "ab"], [c for c in channels.x]

        def rebinds():
            global channels
            channels = None

        class Consumer:
            channels = ["a"]
            first = channels[0]

            def method(self):
                return channels.Channel("c"), self.channels

        handler = lambda channels: channels
        """
    )
    assert ported == textwrap.dedent(
        """\
        import channels_classic

        def receive(channels):
            return channels.pop()

        def local():
            channels = []
            return channels

        def uses():
            def inner():
                return channels_classic.Group("g")
            return inner, [channels for channels in "ab"], [c for c in channels_classic.x]

        def rebinds():
            global channels_classic
            channels_classic = None

        class Consumer:
            channels = ["a"]
            first = channels[0]

            def method(self):
                return channels_classic.Channel("c"), self.channels

        handler = lambda channels: channels
        """
    )


def test_an_import_inside_a_function_renames_that_function_only() -> None:
    """``import channels`` in a function binds a local: uses elsewhere are not its."""
    ported, _ = port(
        """\
        def send():
            import channels
            channels.Channel("x").send({})

        def other(channels):
            return channels
        """
    )
    assert "    import channels_classic\n    channels_classic.Channel" in ported
    assert "def other(channels):\n    return channels\n" in ported


def test_non_ascii_text_before_a_rename_keeps_its_place() -> None:
    """ast's columns count UTF-8 bytes; the edit still lands on the name."""
    ported, _ = port("import channels\nx = ('é', channels.Group)\n")
    assert ported == "import channels_classic\nx = ('é', channels_classic.Group)\n"


def test_mixing_channels_4_and_1x_names_in_one_import_is_reported() -> None:
    """An import taking URLRouter and route from channels.routing must be split by hand."""
    ported, changes = port("from channels.routing import URLRouter, route\n")
    assert ported == "from channels.routing import URLRouter, route\n"
    assert [problem.line for problem in changes.problems] == [1]
    assert "URLRouter" in changes.problems[0].text
    assert "channels_classic.routing" in changes.problems[0].text


def test_a_second_run_changes_nothing() -> None:
    """Ported code has no 1.x import left to port."""
    once, _ = port(
        "import channels\nfrom channels.sessions import channel_session\nchannels.Group\n"
    )
    twice, changes = port(once)
    assert twice == once and changes.edits == []

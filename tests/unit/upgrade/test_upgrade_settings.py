"""Settings that the porting command ports or reports (``channels_classic.upgrade.settings``
and ``legacy``)."""

from __future__ import annotations

import textwrap

from channels_classic.upgrade.command import port_source
from channels_classic.upgrade.source import Changes, PythonSource


def port(text: str) -> tuple[str, Changes]:
    changes = Changes()
    return port_source(PythonSource(textwrap.dedent(text).encode()), changes), changes


def test_app_names_and_dotted_paths_are_ported_with_a_note() -> None:
    """ "channels" and "channels.delay" become the runtime's apps; each change is noted."""
    ported, changes = port(
        """\
        INSTALLED_APPS = ["django.contrib.sessions", 'channels', "channels.delay"]
        INSTALLED_APPS.append("channels.apps.ChannelsConfig")
        """
    )
    assert ported == textwrap.dedent(
        """\
        INSTALLED_APPS = ["django.contrib.sessions", 'channels_classic', "channels_classic.delay"]
        INSTALLED_APPS.append("channels_classic.apps.ChannelsConfig")
        """
    )
    assert [note.line for note in changes.notes] == [1, 1, 2]
    assert "app 'channels' -> 'channels_classic'" in changes.notes[0].text


def test_backends_and_routing_paths_are_kept() -> None:
    """1.x BACKEND names are mapped by the runtime, ROUTING names the project's module."""
    text = """\
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "asgi_redis.RedisChannelLayer",
                "ROUTING": "myapp.routing.channel_routing",
            },
            "memory": {"BACKEND": "asgiref.inmemory.ChannelLayer", "ROUTING": "channels_routing"},
        }
        """
    ported, changes = port(text)
    assert ported == textwrap.dedent(text)
    assert changes.notes == [] and changes.problems == []


def test_channels_beside_the_runtime_is_channels_4_on_purpose() -> None:
    """Once channels_classic is among the apps, a "channels" app is left (mixed projects)."""
    text = 'INSTALLED_APPS = ["channels_classic", "channels", "daphne"]\n'
    assert port(text)[0] == text


def test_the_word_channels_outside_app_lists_stays() -> None:
    """Only app lists hold app names: another setting saying "channels" is not one."""
    text = 'INSTALLED_APPS = []\nSEARCH_FIELDS = ["channels"]\n'
    assert port(text)[0] == text


def test_the_1x_logger_is_renamed() -> None:
    """LOGGING's "django.channels" logger becomes "channels_classic"."""
    ported, changes = port(
        """\
        INSTALLED_APPS = []
        LOGGING = {"loggers": {"django.channels": {"level": "DEBUG"}, "django": {}}}
        """
    )
    assert '"loggers": {"channels_classic": {"level": "DEBUG"}, "django": {}}' in ported
    assert "logger 'django.channels'" in changes.notes[0].text


def test_refused_backends_and_options_are_reported_not_changed() -> None:
    """What the runtime would refuse at start is reported at its line, with the reason."""
    text = """\
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "asgi_ipc.IPCChannelLayer",
                "CONFIG": {"stats_prefix": "s:"},
                "ROUTING": "r.channel_routing",
            },
        }
        """
    ported, changes = port(text)
    assert ported == textwrap.dedent(text)
    assert [(p.line, p.text.split(":")[0]) for p in changes.problems] == [
        (3, "BACKEND 'asgi_ipc.IPCChannelLayer' cannot be used"),
        (4, "CONFIG key 'stats_prefix' is not supported"),
    ]


def test_override_settings_in_tests_are_settings_too() -> None:
    """INSTALLED_APPS= and CHANNEL_LAYERS= arguments are ported and checked in any module."""
    ported, changes = port(
        """\
        @override_settings(INSTALLED_APPS=["channels"], CHANNEL_LAYERS={"x": {
            "BACKEND": "asgi_redis.RedisLocalChannelLayer", "ROUTING": []}})
        def test(): pass
        """
    )
    assert 'INSTALLED_APPS=["channels_classic"]' in ported
    assert "RedisLocalChannelLayer" in changes.problems[0].text


def test_a_string_that_cannot_be_edited_in_place_is_reported() -> None:
    """An implicitly concatenated app name is not rewritten: the user is told to."""
    ported, changes = port('INSTALLED_APPS = ["chan" "nels"]\n')
    assert ported == 'INSTALLED_APPS = ["chan" "nels"]\n'
    assert "write it as 'channels_classic' by hand" in changes.problems[0].text


def test_asgi_module_gets_its_import_ported_and_nothing_more() -> None:
    """The 1.x asgi.py needs only its import ported: daphne freezes the start-up heap itself,
    so the module gets no call that would freeze a script importing it."""
    ported, changes = port(
        """\
        import os
        from channels.asgi import get_channel_layer
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p.settings")
        channel_layer = get_channel_layer()"""
    )
    assert ported == textwrap.dedent(
        """\
        import os
        from channels_classic.asgi import get_channel_layer
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p.settings")
        channel_layer = get_channel_layer()"""
    )
    assert changes.notes == []


def test_1x_era_code_is_reported() -> None:
    """ASGI 1 packages, gone layer extensions and 1.x dotted strings are each a problem."""
    _, changes = port(
        """\
        from asgiref.base_layer import BaseChannelLayer
        import asgi_redis
        layer.global_statistics()
        layer.receive_twisted(["a"])
        patch("channels.worker.Worker.run")
        patch("channels.layers.get_channel_layer")
        print("channels. not a path", "asgi_redis")
        """
    )
    assert [problem.line for problem in changes.problems] == [1, 2, 3, 4, 5]
    assert "channels 4 layer API" in changes.problems[0].text
    assert "'channels_classic.worker.Worker.run'" in changes.problems[4].text

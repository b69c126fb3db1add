"""Who freezes the start-up heap (``channels_classic.heap``): each serving process's entry
point, right before it serves, and never an import."""

from __future__ import annotations

import http.client
import io
import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from channels_classic.delay.management.commands import rundelay
from tests.processes import DEVELOPMENT_ENV, ROOT

#: Django, the routing and daphne's Twisted: a serving process freezes far more than this.
STARTUP_OBJECTS = 10_000


@pytest.mark.e2e
def test_daphne_freezes_the_heap_of_an_asgi_module_that_does_not_ask(stack):
    """``daphne project.asgi:...`` serves with its start-up heap frozen though the module
    (tests/heap_probe_asgi.py, written as a user writes one) makes no call for it."""
    stack.start_daphne(app="tests.heap_probe_asgi:application")
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        connection.request("GET", "/heap/")
        response = connection.getresponse()
        frozen = int(response.read())
    finally:
        connection.close()
    assert response.status == 200
    assert frozen > STARTUP_OBJECTS


@pytest.mark.e2e
def test_importing_the_asgi_module_freezes_nothing():
    """A script that imports ``djchan.asgi`` to send messages keeps a heap that collects as
    usual: the import sets Django and the layer up, and freezes nothing."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(DEVELOPMENT_ENV)
    probe = "import gc, djchan.asgi; print(djchan.asgi.channel_layer, gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    layer, frozen = result.stdout.rsplit(" ", 1)
    assert "default" in layer
    assert int(frozen) == 0


class RecordingServer:
    """A delay server that records when it was asked to serve, instead of serving."""

    def __init__(self, layer: Any, steps: list[str]) -> None:
        self.steps = steps

    def run(self) -> None:
        self.steps.append("served")


def test_rundelay_freezes_its_heap_right_before_it_serves(monkeypatch, redis_url, prefix, db):
    """The delay server's command freezes once everything is set up, and only then serves
    (recorded here, not done: this test process must keep collecting its garbage)."""
    steps: list[str] = []
    monkeypatch.setattr(rundelay, "freeze_startup_heap", lambda: steps.append("frozen"))

    class Command(rundelay.Command):
        server_class = staticmethod(lambda layer: RecordingServer(layer, steps))  # type: ignore[assignment]

    layers = {
        "default": {
            "BACKEND": "channels_classic.layers.redis.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": prefix},
            "ROUTING": [],
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        call_command(Command(), stderr=io.StringIO())
    assert steps == ["frozen", "served"]

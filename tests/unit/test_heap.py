"""Freezing a serving process's start-up objects (``channels_classic.heap``), and the delay
server's command freezing right before it serves (the other entry points, daphne and the
import of an asgi module, are in tests/e2e/test_heap.py)."""

from __future__ import annotations

import gc
import io
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from channels_classic.delay.management.commands import rundelay
from channels_classic.heap import freeze_startup_heap


class Node:
    """An object in a reference cycle: only the cyclic collector can free it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def thawed() -> Iterator[None]:
    """Gives this test process its collectable heap back afterwards."""
    yield
    gc.unfreeze()


def test_garbage_is_collected_first_and_what_lives_is_frozen(thawed):
    """Cycles already dead are freed, not frozen forever; live objects leave the collector's
    generations, so full collections no longer walk them."""
    dead = Node()
    dead_ref = weakref.ref(dead)
    del dead
    alive = Node()
    freeze_startup_heap()
    assert dead_ref() is None
    assert gc.get_freeze_count() > 0
    assert not any(tracked is alive for tracked in gc.get_objects())


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

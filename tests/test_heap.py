"""Freezing a serving process's start-up objects (``channels_classic.heap``)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from channels_classic.heap import freeze_startup_heap
from tests.processes import DEVELOPMENT_ENV

ROOT = Path(__file__).resolve().parent.parent


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


def test_the_interface_entry_point_freezes_its_heap():
    """``daphne djchan.asgi:channel_layer`` starts serving with Django and the layer frozen."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(DEVELOPMENT_ENV)
    probe = "import gc, djchan.asgi; print(gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert int(result.stdout) > 10_000

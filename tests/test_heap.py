"""Freezing a serving process's start-up objects (``channels_classic.heap``)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

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

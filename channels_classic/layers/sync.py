"""Running the async layer API from synchronous code: consumers, views, shells, scripts.

Every synchronous call in a process goes to one event loop, so a backend's connections and
state live in one place: the loop a worker or interface server bound while it runs, or else
a private loop on a daemon thread, started on first use.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_local = threading.local()


@contextmanager
def loop_waiting(release: Callable[[], None]) -> Iterator[None]:
    """Marks the calling thread as one its event loop is waiting for (an idle worker's loop
    standing aside for the consumer it just started): ``release`` is called before this
    thread first hands the loop a coroutine, so that the two never wait for each other."""
    _local.release = release
    try:
        yield
    finally:
        _local.release = None


class LoopRunner:
    """Runs coroutines, from any thread but the loop's own, on the process's layer loop."""

    def __init__(self) -> None:
        self._bound: asyncio.AbstractEventLoop | None = None
        self._own: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Makes ``loop`` (running, in another thread than the callers) the layer loop."""
        self._bound = loop

    def unbind(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._bound is loop:
            self._bound = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        bound = self._bound
        if bound is not None and bound.is_running():
            return bound
        with self._lock:
            if self._own is None:
                self._own = asyncio.new_event_loop()
                threading.Thread(
                    target=self._own.run_forever, name="channels-layer-loop", daemon=True
                ).start()
            return self._own

    def run(self, function: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """Calls ``await function(*args)`` on the layer loop and returns its result."""
        release = getattr(_local, "release", None)
        if release is not None:
            _local.release = None
            release()
        loop = self.loop
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            raise RuntimeError(
                f"{getattr(function, '__qualname__', function)}() was called synchronously "
                "from inside the event loop it must run on; in async code await the backend "
                "method instead (await layer.channel_layer.send(...))"
            )
        return asyncio.run_coroutine_threadsafe(function(*args), loop).result()


#: The one runner of this process.
runner = LoopRunner()

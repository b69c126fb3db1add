"""runserver's autoreloader, told about the files of a routing that failed to load.

Django's autoreloader watches the modules that imported, plus the one file named by the
last frame of the error that stopped the server. A routing module that fails to import is
neither: its ImportError is re-raised by the router as ImproperlyConfigured (so the last
frame is the router's), and the module never reached ``sys.modules``. Fixing it would then
reload nothing until some other file changed. ``RoutingWatch`` adds every project file the
error passed through (``routing.py``, the consumer module that raised, a syntax error's
file) to the reloader's watched files, so that fixing any of them restarts the server.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils.autoreload import autoreload_started


def files_of(error: BaseException) -> set[Path]:
    """The source files that ``error`` and the errors it came from passed through."""
    files: set[Path] = set()
    for link in _chain(error):
        names = [frame.filename for frame in traceback.extract_tb(link.__traceback__)]
        if isinstance(link, SyntaxError) and link.filename:
            names.append(link.filename)
        files.update(Path(name) for name in names if Path(name).is_file())
    return files


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


class RoutingWatch:
    """Files for this process's autoreloader to watch, whether the error that names them
    comes before or after the reloader starts (they run in different threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: set[Path] = set()
        self._reloader: Any = None

    def connect(self) -> None:
        autoreload_started.connect(self._reloader_started)

    def _reloader_started(self, sender: Any, **kwargs: Any) -> None:
        with self._lock:
            self._reloader = sender
            self._hand_over()

    def watch_files_of(self, error: BaseException) -> None:
        """Watches the files ``error`` passed through (as soon as the reloader runs)."""
        with self._lock:
            self._files |= files_of(error)
            self._hand_over()

    def _hand_over(self) -> None:
        if self._reloader is not None:
            # A new set, not an update: the reloader iterates the old one in its own thread.
            self._reloader.extra_files = self._reloader.extra_files | self._files

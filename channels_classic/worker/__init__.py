"""The worker: takes messages from the layer and runs their consumers.

``manage.py runworker`` runs one. Its parts, each a module:

- ``base``: ``Worker``, the loop: takes as many messages as it has free threads, keeps one
  socket's messages from running at once, stops cleanly on SIGTERM;
- ``sources``: where the messages come from, for each kind of layer;
- ``threads``: the consumer threads, and how a finished consumer's result reaches the loop;
- ``consume``: running the consumer of one message (routing, signals, 1.x exceptions);
- ``outbox``: what a consumer sends, held until it has returned;
- ``service``: a process loop that stops cleanly on a signal (the worker's, the delay
  server's);
- ``group``: ``WorkerGroup``, 1.x's name and arguments for a worker with threads.

``Worker`` and ``WorkerGroup`` are importable from here, their 1.x path; they are loaded on
first use, so that importing ``channels_classic.worker.outbox`` (as ``Channel.send`` does)
does not load the whole worker.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Worker
    from .group import WorkerGroup

__all__ = ["Worker", "WorkerGroup", "logger"]

#: The worker's logger (its modules' loggers are below it), at its 1.x path.
logger = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    if name == "Worker":
        from .base import Worker

        return Worker
    if name == "WorkerGroup":
        from .group import WorkerGroup

        return WorkerGroup
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

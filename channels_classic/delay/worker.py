"""1.x's ``channels.delay.worker``: the delay server under its 1.x name and arguments.

``Worker(channel_layer, signal_handlers=True, database_sleep_duration=1)`` is a
``DelayServer`` (``server``): ``run()`` serves until SIGTERM. ``database_sleep_duration``, the
seconds 1.x slept between looks at the database, is accepted and unused: the server sends
each message when it is due, without polling.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .server import DelayServer

if TYPE_CHECKING:
    from ..layers.facade import ClassicLayer

logger = logging.getLogger(__name__)


class Worker(DelayServer):
    """The delay server, made with 1.x's arguments (see the module docstring)."""

    def __init__(
        self,
        channel_layer: ClassicLayer,
        signal_handlers: bool = True,
        database_sleep_duration: float = 1,
    ) -> None:
        super().__init__(channel_layer, install_signals=signal_handlers)
        self.database_sleep_duration = database_sleep_duration

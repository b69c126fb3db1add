"""A long-running process loop that stops cleanly: the base of the worker and delay server.

``run()`` owns an event loop, makes it the process's layer loop (synchronous layer calls
from threads go there) and turns SIGTERM and SIGINT into a stop request. Signal handlers only
set the flag and cancel what the service is waiting on; the service finishes what it holds
and returns, and the process exits 0. A second signal exits at once.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import os
import signal

from ..layers.sync import runner

logger = logging.getLogger(__name__)

#: Exit status after a second stop signal (the first one exits 0 when done).
EXIT_FORCED = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Service(abc.ABC):
    """Subclasses implement ``serve()`` (checking ``stop_requested`` between steps),
    ``_interrupt()`` (cancel the current wait) and ``_state()`` (for the stop log line)."""

    #: How log lines name the service ("worker", "delay").
    name = "service"

    def __init__(self, *, install_signals: bool = True) -> None:
        self.install_signals = install_signals
        self.stop_requested = False
        #: True while ``run()`` runs the service, in an event loop nothing else uses.
        self.owns_loop = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self) -> None:
        """Runs ``serve()`` until it returns, in an event loop of its own."""
        self.owns_loop = True
        try:
            asyncio.run(self._run_bound())
        finally:
            self.owns_loop = False

    async def _run_bound(self) -> None:
        loop = asyncio.get_running_loop()
        runner.bind(loop)
        if self.install_signals:
            for signum in STOP_SIGNALS:
                loop.add_signal_handler(signum, self._on_signal, signum)
        try:
            await self.serve()
        finally:
            runner.unbind(loop)
            if self.install_signals:
                for signum in STOP_SIGNALS:
                    loop.remove_signal_handler(signum)

    @abc.abstractmethod
    async def serve(self) -> None:
        """The service's work; returns when done or when ``stop_requested``."""

    def _on_signal(self, signum: int) -> None:
        signal_name = signal.Signals(signum).name
        if self.stop_requested:
            logger.warning("%s: second %s, exiting at once", self.name, signal_name)
            os._exit(EXIT_FORCED)
        logger.info("%s: %s received while %s", self.name, signal_name, self._state())
        self.stop()

    def stop(self) -> None:
        """Asks the service to return once what it holds is done. Safe from any thread."""
        self.stop_requested = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._interrupt)

    def _started(self) -> None:
        """Called by ``serve()`` on its loop, so that ``stop()`` can reach it."""
        self._loop = asyncio.get_running_loop()

    @abc.abstractmethod
    def _interrupt(self) -> None:
        """On the loop, after a stop request: cancel what the service is waiting on."""

    @abc.abstractmethod
    def _state(self) -> str:
        """What the service is doing, for the log line of a stop signal."""

"""Closing a layer's connections with the event loop they belong to.

Connections cannot cross event loops, and short-lived loops (``asyncio.run()``,
``async_to_sync``) close without telling anyone: the layer hooks each loop it makes
connections in, so that they are closed before it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)


def close_before_loop(
    loop: asyncio.AbstractEventLoop, close: Callable[[], Coroutine[Any, Any, None]]
) -> None:
    """Runs ``close`` in ``loop`` when the loop is closed (as asyncio.run() and async_to_sync
    do with their short-lived loops), so its connections do not outlive it."""
    original = loop.close

    def close_loop() -> None:
        loop.close = original  # type: ignore[method-assign]
        if not loop.is_closed() and not loop.is_running():
            try:
                loop.run_until_complete(close())
            except (Exception, asyncio.CancelledError):
                logger.debug(
                    "redis layer: closing connections with their loop failed", exc_info=True
                )
        original()

    try:
        loop.close = close_loop  # type: ignore[method-assign]
    except AttributeError:
        logger.debug("redis layer: %r cannot be hooked; call close() before closing it", loop)

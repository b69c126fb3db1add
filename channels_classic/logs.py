"""Logging set-up for the commands (the library itself never configures logging)."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"


def configure(verbosity: int) -> None:
    """Sends channels_classic's logs to stderr: warnings at 0, info at 1, debug at 2+."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logger = logging.getLogger("channels_classic")
    if not any(getattr(handler, "_channels_classic", False) for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._channels_classic = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False

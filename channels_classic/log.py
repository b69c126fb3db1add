"""1.x's ``channels.log``: the console logging its commands set up.

The library never configures logging itself; commands do (``logs.configure``). This module
keeps the 1.x helper for projects' own commands and scripts: ``setup_logger(name,
verbosity)`` sends the logger ``name`` to stderr in 1.x's format, and with it this library's
logs (which are under ``channels_classic``, not 1.x's ``django.channels``) and daphne's.
"""

from __future__ import annotations

import logging

#: The one handler ``setup_logger`` attaches (as in 1.x, shared by every logger it sets up).
handler = logging.StreamHandler()
LOG_FORMAT = "%(asctime)s - %(levelname)s - %(module)s - %(message)s"
#: Set up together with the logger asked for.
COMPANION_LOGGERS = ("channels_classic", "daphne")


def setup_logger(name: str, verbosity: int = 1) -> logging.Logger:
    """Logs ``name`` (and COMPANION_LOGGERS) to stderr at INFO, or DEBUG when ``verbosity``
    is above 1, without propagating to the root logger; returns the logger ``name``."""
    handler.setFormatter(logging.Formatter(fmt=LOG_FORMAT))
    level = logging.DEBUG if verbosity > 1 else logging.INFO
    for logger_name in (name, *COMPANION_LOGGERS):
        logger = logging.getLogger(logger_name)
        logger.setLevel(level)
        if handler not in logger.handlers:
            logger.addHandler(handler)
        logger.propagate = False
    return logging.getLogger(name)

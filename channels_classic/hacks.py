"""Making ``manage.py runserver`` this library's whatever the order of ``INSTALLED_APPS``.

Django runs the command of the first installed app that has one. 1.x projects list
``channels`` after ``django.contrib.staticfiles``, whose runserver would then win and serve
plain WSGI (sockets get 404); projects moving towards Channels 4 may also list ``daphne``.
1.x made staticfiles' command a subclass of its own; here ``monkeypatch_django`` (called by
the app config) puts this library's command in place of the winning one, when that is
staticfiles' or daphne's. The replaced module attribute is all that changes: this library's
command is itself built on staticfiles' (static files keep being served), and each of those
commands stays importable as it was for code that imported it before.
"""

from __future__ import annotations

import importlib
import logging

from django.core.management import get_commands

logger = logging.getLogger(__name__)

#: The apps whose runserver this library's replaces when they would win.
REPLACED_RUNSERVERS = ("django.contrib.staticfiles", "daphne")
APP = "channels_classic"


def monkeypatch_django() -> None:
    """Makes ``runserver`` run this library's command; logs a warning when another app's
    command (not one of REPLACED_RUNSERVERS) wins, saying how to change that."""
    winner = get_commands().get("runserver")
    if winner == APP or winner is None:
        return
    if winner not in REPLACED_RUNSERVERS:
        logger.warning(
            "channels_classic: `manage.py runserver` is %s's, which serves no WebSockets; "
            "list %r before %r in INSTALLED_APPS to run the interface server and workers",
            winner,
            APP,
            winner,
        )
        return
    from .management.commands.runserver import Command

    module = importlib.import_module(f"{winner}.management.commands.runserver")
    module.Command = Command  # type: ignore[attr-defined]

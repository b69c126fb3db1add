"""The interface server's entry point: ``daphne djchan.asgi:channel_layer``.

``channel_layer`` is both the ASGI application daphne serves and the 1.x layer object that
non-Django processes can import to send messages.

With DEBUG off and the published development secret key (or an environment variable the
settings cannot read), importing it ends the process with a message saying what to set
(``djchan.checks``): daphne runs no system checks.

Importing it also freezes the process's start-up heap (``channels_classic.heap``): daphne
imports this module once it has set itself up, just before it serves. A script that imports
it to send messages pays one collection for that, and keeps what it had loaded until exit,
as it would anyway.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djchan.settings")

from channels_classic import get_channel_layer  # noqa: E402
from channels_classic.heap import freeze_startup_heap  # noqa: E402

channel_layer = get_channel_layer()

from djchan.checks import exit_on_errors  # noqa: E402 (needs Django set up)

exit_on_errors()
freeze_startup_heap()

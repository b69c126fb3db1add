"""The interface server's entry point: ``daphne djchan.asgi:channel_layer``.

``channel_layer`` is both the ASGI application daphne serves and the 1.x layer object that
non-Django processes can import to send messages.

With DEBUG off and the published development secret key (or an environment variable the
settings cannot read), importing it ends the process with a message saying what to set
(``djchan.checks``): daphne runs no system checks.

Importing it changes nothing else in the process: daphne itself freezes the start-up heap
just before it serves (``channels_classic.interface.daphne_compat``), so a script that
imports ``channel_layer`` to send messages keeps a heap the garbage collector looks after
as usual.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djchan.settings")

from channels_classic import get_channel_layer  # noqa: E402

channel_layer = get_channel_layer()

from djchan.checks import exit_on_errors  # noqa: E402 (needs Django set up)

exit_on_errors()

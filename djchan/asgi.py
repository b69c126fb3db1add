"""The interface server's entry point: ``daphne djchan.asgi:channel_layer``.

``channel_layer`` is both the ASGI application daphne serves and the 1.x layer object that
non-Django processes can import to send messages.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djchan.settings")

from channels_classic import get_channel_layer  # noqa: E402
from channels_classic.heap import freeze_startup_heap  # noqa: E402

channel_layer = get_channel_layer()
# daphne imports this module once it has set itself up, just before it serves.
freeze_startup_heap()

"""The interface server's entry point: ``daphne djchan.asgi:channel_layer``.

``channel_layer`` is both the ASGI application daphne serves and the 1.x layer object that
non-Django processes can import to send messages.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djchan.settings")

from channels_classic import get_channel_layer  # noqa: E402

channel_layer = get_channel_layer()

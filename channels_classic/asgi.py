"""The layer manager and the layer wrapper, at their 1.x home (``channels.asgi``).

A project's ``asgi.py`` is, as in 1.x::

    import os
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from channels_classic.asgi import get_channel_layer
    channel_layer = get_channel_layer()

and ``daphne mysite.asgi:channel_layer`` serves it. Unlike 1.x, ``get_channel_layer()``
returns the wrapper (``ChannelLayerWrapper``), not the backend it wraps: daphne 4 serves only
ASGI 3 applications, and the wrapper is one, as well as the synchronous 1.x layer API that
scripts importing ``channel_layer`` call. The backend is its ``channel_layer`` attribute
(``docs/differences-from-1x.md``, "The platform").

The implementation lives in ``layers`` (``registry``: the manager; ``facade``: the wrapper).
"""

from .exceptions import InvalidChannelLayerError as InvalidChannelLayerError
from .layers.facade import ClassicLayer
from .layers.registry import ChannelLayerManager as ChannelLayerManager
from .layers.registry import channel_layers as channel_layers
from .layers.registry import get_channel_layer as get_channel_layer

#: The 1.x name of the layer wrapper.
ChannelLayerWrapper = ClassicLayer

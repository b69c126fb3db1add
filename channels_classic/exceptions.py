"""Every exception channels_classic raises on purpose, in one flat module.

Layer exceptions are the channels 4 classes themselves (re-exported), so code written for
channels 4 layers catches ours and the other way round.
"""

from __future__ import annotations

import redis.exceptions
from channels.exceptions import ChannelFull, MessageTooLarge

__all__ = ["ChannelFull", "ChannelLayerUnavailable", "MessageTooLarge"]


class ChannelLayerUnavailable(redis.exceptions.ConnectionError, ConnectionError):
    """The layer's Redis cannot be reached or stopped answering.

    Raised by sends and by receives that were waiting when the connection broke. The layer
    object stays usable: the next call reconnects. It is both a ``redis.exceptions.
    ConnectionError`` (what channels_redis users catch) and a builtin ``ConnectionError``.
    """

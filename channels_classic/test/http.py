"""Deprecated: 1.x's ``channels.test.http``, the home of ``HttpClient``, the old name of
``WSClient``."""

from __future__ import annotations

from warnings import warn

from ..layers.registry import DEFAULT_CHANNEL_LAYER
from .websocket import WSClient


class HttpClient(WSClient):
    """Deprecated: the 1.x name of ``WSClient`` (warns DeprecationWarning when made)."""

    def __init__(self, alias: str = DEFAULT_CHANNEL_LAYER, *, ordered: bool = False) -> None:
        warn(
            "HttpClient is deprecated: use channels_classic.test.WSClient, which it is "
            "another name for",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(alias, ordered=ordered)

"""``WorkerGroup``: 1.x's multi-threaded worker, at its 1.x path and with its arguments."""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..layers.facade import ClassicLayer
from .base import MESSAGE_RETRIES, Worker
from .consume import Callback


class WorkerGroup(Worker):
    """1.x's multi-threaded worker, with 1.x's arguments: a Worker running ``n_threads``
    consumers at once (default: one per CPU). Unlike 1.1.8's, a stop signal lets the
    consumers running finish."""

    def __init__(
        self,
        channel_layer: ClassicLayer,
        callback: Callback | None = None,
        message_retries: int = MESSAGE_RETRIES,
        signal_handlers: bool = True,
        only_channels: Iterable[str] | None = None,
        exclude_channels: Iterable[str] | None = None,
        n_threads: int | None = None,
    ) -> None:
        super().__init__(
            channel_layer,
            threads=n_threads or os.cpu_count() or 1,
            only_channels=only_channels,
            exclude_channels=exclude_channels,
            callback=callback,
            message_retries=message_retries,
            install_signals=signal_handlers,
        )

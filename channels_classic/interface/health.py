"""Whether the interface server's channel layer answers, and what to do when it comes back.

One ``LayerHealth`` per process and event loop. A send or a delivery that fails because the
layer cannot be reached reports it here (``failed``); from then on the layer is down: new
handshakes and requests are answered 503 ("the channel layer is unavailable"), open sockets
hold their frames (``wait_up``), and one probe asks the layer, more and more patiently,
whether it answers again. When it does, the probe checks the marker this process wrote on
the layer when it started: a Redis that restarted without its data has lost it, and with it
every group the sockets joined, so ``on_data_lost`` runs (the interface closes its sockets
with 1012, for their clients to reconnect and join again) before the held frames go out.

Backends that cannot be asked (channels_redis, the in-memory layer) are taken to be back
after each wait: the next send tells.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from .. import metrics
from ..exceptions import is_unavailable
from ..layers.capabilities import ReportsHealth

logger = logging.getLogger(__name__)

#: The probe waits this long before its first try, doubling up to PROBE_MAX between tries.
PROBE_FIRST, PROBE_MAX = 0.05, 1.0
#: The marker lives this long on the layer and is written again every MARKER_REFRESH.
MARKER_TTL = 24 * 3600.0
MARKER_REFRESH = 3600.0


class LayerHealth:
    """Up or down, for one process's layer; ``on_data_lost`` runs when a restart lost data."""

    def __init__(
        self, backend: ReportsHealth | None, on_data_lost: Callable[[], Awaitable[None]]
    ) -> None:
        """``backend`` is the layer's ability to be asked (None: it cannot be)."""
        self._backend = backend
        self._on_data_lost = on_data_lost
        self._marker = f"interface.{uuid.uuid4().hex}"
        self._marked = False
        self._loop = asyncio.get_running_loop()
        self._recovered: asyncio.Future[None] | None = None
        self._down_since = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._spawn(self._keep_marked())

    @property
    def up(self) -> bool:
        return self._recovered is None

    def failed(self, error: BaseException) -> None:
        """A send or a delivery could not reach the layer: it is down until the probe says."""
        metrics.recorder.layer_error("interface")
        if self._recovered is not None:
            return
        self._recovered = self._loop.create_future()
        self._down_since = self._loop.time()
        logger.warning(
            "interface: the channel layer is unavailable (%s: %s); open sockets hold their "
            "frames, new connections get 503 until it answers again",
            type(error).__name__,
            error,
        )
        self._spawn(self._probe())

    async def wait_up(self, timeout: float | None) -> bool:
        """True once the layer is up (at once if it is); False if ``timeout`` passed first."""
        recovered = self._recovered
        if recovered is None:
            return True
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(recovered)
        except TimeoutError:
            return False
        return True

    async def _probe(self) -> None:
        delay, lost = PROBE_FIRST, False
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, PROBE_MAX)
            backend = self._backend
            if backend is None:
                break
            try:
                await backend.ping()
                lost = self._marked and not await backend.is_marked(self._marker)
            except Exception as error:
                if not is_unavailable(error):
                    logger.exception("interface: asking the channel layer whether it is back")
                continue
            break
        # Up from here on (new handshakes go ahead), but the frames held meanwhile are let go
        # only once the sockets of a layer that lost its data are closed.
        recovered, self._recovered = self._recovered, None
        metrics.recorder.layer_reconnected("interface")
        logger.warning(
            "interface: the channel layer answers again after %.1f s",
            self._loop.time() - self._down_since,
        )
        if lost:
            logger.warning(
                "interface: the channel layer came back without its data (a restart without "
                "persistence?): every group is gone, so open sockets are closed with 1012 for "
                "their clients to reconnect"
            )
            try:
                await self._on_data_lost()
            except Exception:
                logger.exception("interface: closing the sockets after the layer lost its data")
        await self._mark()
        if recovered is not None and not recovered.done():
            recovered.set_result(None)

    async def _keep_marked(self) -> None:
        while self._backend is not None:
            await self._mark()
            await asyncio.sleep(MARKER_REFRESH)

    async def _mark(self) -> None:
        """Writes the marker (if the layer is up: a probe writes it once it is back)."""
        if self._backend is None:
            return
        try:
            await self._backend.mark(self._marker, MARKER_TTL)
        except Exception as error:
            if not is_unavailable(error):
                logger.exception("interface: writing its marker on the channel layer")
            self.failed(error)
            return
        self._marked = True

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Stops the probe and the marker's refresh (the process is shutting down)."""
        for task in self._tasks:
            task.cancel()

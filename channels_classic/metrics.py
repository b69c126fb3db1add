"""Prometheus metrics of the worker and interface processes: opt-in, free when off.

Each process serves its own metrics on a port of its own when asked to (``runworker
--metrics-port``; ``CHANNELS_METRICS_PORT`` for daphne), through prometheus_client (the
``metrics`` extra). Several processes of one host can share a port: with
``PROMETHEUS_MULTIPROC_DIR`` set (prometheus_client's multiprocess mode), each writes its
figures there and whichever process holds the port serves them all, summed.

The code records through ``recorder``: a ``NullRecorder`` (every method does nothing) until
``enable()`` puts a ``PrometheusRecorder`` in its place, so a process without metrics pays
one attribute lookup and an empty call per event. What each metric means is in
docs/metrics.md.
"""

from __future__ import annotations

import logging
import os
from typing import Any

logger = logging.getLogger(__name__)

#: Consumer run times are counted into these buckets (seconds).
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: How often a worker with metrics on samples the depth of its channels (seconds).
DEPTH_SAMPLE_EVERY = 5.0
#: Where metrics are served unless told otherwise: this host only.
DEFAULT_ADDRESS = "127.0.0.1"


class NullRecorder:
    """Records nothing: the recorder of a process that serves no metrics."""

    samples_depths = False

    def received(self, channel: str) -> None:
        """A worker took a message from ``channel``."""

    def consumed(self, channel: str) -> None:
        """A worker finished a message from ``channel`` (its consumer ran, or it had none)."""

    def consumer_ran(self, consumer: str, seconds: float, failed: bool) -> None:
        """The consumer ``consumer`` ran for ``seconds``, raising if ``failed``."""

    def layer_error(self, process: str) -> None:
        """A layer operation of a ``process`` ("worker", "interface") failed: Redis down."""

    def layer_reconnected(self, process: str) -> None:
        """The layer answers ``process`` again after failing."""

    def socket_opened(self) -> None:
        """The interface accepted a WebSocket."""

    def socket_closed(self) -> None:
        """An accepted WebSocket closed."""

    def frame_in(self) -> None:
        """A client sent a frame."""

    def frame_out(self) -> None:
        """A frame went to a client."""

    def backpressure(self, channel: str, event: str) -> None:
        """A backpressure ``event`` on ``channel`` ("paused", "held", "gave up", "refused")."""

    def depths(self, depths: dict[str, int]) -> None:
        """How many messages wait on each channel, as just sampled."""


class PrometheusRecorder(NullRecorder):
    """Records into prometheus_client metrics on ``registry``."""

    samples_depths = True

    def __init__(self, registry: Any) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        def counter(name: str, what: str, *labels: str) -> Any:
            return Counter(name, what, labels, registry=registry)

        self._received = counter(
            "channels_messages_received", "Messages workers took, by channel", "channel"
        )
        self._consumed = counter(
            "channels_messages_consumed", "Messages workers finished, by channel", "channel"
        )
        self._duration = Histogram(
            "channels_consumer_duration_seconds",
            "How long consumers ran, by consumer",
            ["consumer"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self._errors = counter(
            "channels_consumer_errors", "Consumers that raised, by consumer", "consumer"
        )
        self._layer_errors = counter(
            "channels_layer_errors", "Layer operations that failed (Redis down)", "process"
        )
        self._reconnects = counter(
            "channels_layer_reconnects", "Times the layer answered again after failing", "process"
        )
        self._sockets = Gauge(
            "channels_open_sockets",
            "WebSockets open in the interface servers",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._frames_in = counter("channels_frames_received", "Frames clients sent")
        self._frames_out = counter("channels_frames_sent", "Frames sent to clients")
        self._backpressure = counter(
            "channels_backpressure_events",
            "Backpressure events of the interface, by channel and event",
            "channel",
            "event",
        )
        self._depth = Gauge(
            "channels_channel_depth",
            "Messages waiting on a channel, as a worker last sampled it",
            ["channel"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )

    def received(self, channel: str) -> None:
        self._received.labels(channel).inc()

    def consumed(self, channel: str) -> None:
        self._consumed.labels(channel).inc()

    def consumer_ran(self, consumer: str, seconds: float, failed: bool) -> None:
        self._duration.labels(consumer).observe(seconds)
        if failed:
            self._errors.labels(consumer).inc()

    def layer_error(self, process: str) -> None:
        self._layer_errors.labels(process).inc()

    def layer_reconnected(self, process: str) -> None:
        self._reconnects.labels(process).inc()

    def socket_opened(self) -> None:
        self._sockets.inc()

    def socket_closed(self) -> None:
        self._sockets.dec()

    def frame_in(self) -> None:
        self._frames_in.inc()

    def frame_out(self) -> None:
        self._frames_out.inc()

    def backpressure(self, channel: str, event: str) -> None:
        self._backpressure.labels(channel, event).inc()

    def depths(self, depths: dict[str, int]) -> None:
        for channel, depth in depths.items():
            self._depth.labels(channel).set(depth)


#: What the library records through; a NullRecorder until ``enable()``.
recorder: NullRecorder = NullRecorder()


class MetricsUnavailable(RuntimeError):
    """Metrics were asked for, but prometheus_client is not installed."""


def enable(port: int, address: str = DEFAULT_ADDRESS) -> None:
    """Records from now on, and serves the metrics on ``address``:``port`` (a thread of
    prometheus_client's). With PROMETHEUS_MULTIPROC_DIR set, a port that another process of
    this host holds already is left to it: that one serves this one's figures too."""
    global recorder
    try:
        import prometheus_client
        from prometheus_client import multiprocess
    except ImportError:
        raise MetricsUnavailable(
            "Metrics need prometheus_client: install channels-classic[metrics] (or "
            "prometheus-client)"
        ) from None
    multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if multiprocess_dir:
        # Figures go to files in the directory (a registry per process would make the
        # metrics of one host's processes collide); the server reads them all back.
        served = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(served)
        recorder = PrometheusRecorder(None)
    else:
        served = prometheus_client.CollectorRegistry()
        recorder = PrometheusRecorder(served)
    try:
        prometheus_client.start_http_server(port, addr=address, registry=served)
    except OSError as error:
        if not multiprocess_dir:
            raise OSError(
                f"Cannot serve metrics on {address}:{port} ({error}): choose a free port, or "
                "set PROMETHEUS_MULTIPROC_DIR for the processes of this host to share one"
            ) from error
        logger.info(
            "metrics: %s:%d is served by another process of this host (PROMETHEUS_MULTIPROC_DIR"
            "); its figures include this process's",
            address,
            port,
        )
        return
    logger.info("metrics: serving on http://%s:%d/metrics", address, port)


def process_exited() -> None:
    """Drops this process's live gauges from the shared directory (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and isinstance(recorder, PrometheusRecorder):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())

"""The metrics recorder (channels_classic/metrics.py): nothing recorded until enabled, and
each event into its Prometheus metric."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from channels_classic import metrics
from channels_classic.metrics import NullRecorder, PrometheusRecorder


def test_the_default_recorder_records_nothing():
    """A process that serves no metrics has the null recorder, which takes every event."""
    assert isinstance(metrics.recorder, NullRecorder)
    assert not isinstance(metrics.recorder, PrometheusRecorder)
    assert not metrics.recorder.samples_depths
    metrics.recorder.consumer_ran("app.consumer", 0.1, failed=True)


def test_each_event_lands_in_its_metric():
    """Messages, consumer runs and failures, sockets, frames, backpressure and depths."""
    registry = CollectorRegistry()
    recorder = PrometheusRecorder(registry)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    for _ in range(3):
        recorder.received("websocket.receive")
    recorder.consumed("websocket.receive")
    recorder.consumer_ran("app.echo", 0.003, failed=False)
    recorder.consumer_ran("app.echo", 0.2, failed=True)
    recorder.socket_opened()
    recorder.socket_opened()
    recorder.socket_closed()
    recorder.frame_in()
    recorder.frame_out()
    recorder.frame_out()
    recorder.backpressure("websocket.receive", "paused")
    recorder.layer_error("worker")
    recorder.layer_reconnected("worker")
    recorder.depths({"websocket.receive": 7, "http.request": 0})
    assert value("channels_messages_received_total", channel="websocket.receive") == 3
    assert value("channels_messages_consumed_total", channel="websocket.receive") == 1
    assert value("channels_consumer_duration_seconds_count", consumer="app.echo") == 2
    assert value("channels_consumer_duration_seconds_bucket", consumer="app.echo", le="0.005") == 1
    assert value("channels_consumer_errors_total", consumer="app.echo") == 1
    assert value("channels_open_sockets") == 1
    assert value("channels_frames_received_total") == 1
    assert value("channels_frames_sent_total") == 2
    assert value("channels_backpressure_events_total", channel="websocket.receive", event="paused")
    assert value("channels_layer_errors_total", process="worker") == 1
    assert value("channels_layer_reconnects_total", process="worker") == 1
    assert value("channels_channel_depth", channel="websocket.receive") == 7

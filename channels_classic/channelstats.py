"""What ``manage.py channelstats`` shows: each channel's backlog and traffic, refreshed.

Every refresh it asks the layer how many messages wait on each channel, and, from the
metrics endpoints it is given (workers' ``--metrics-port``, daphne's
``CHANNELS_METRICS_PORT``), how many each channel's messages the workers took and finished
since the last refresh: rates per second. The layer alone gives the backlog and how fast it
grows or shrinks; the rates need the metrics.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .exceptions import is_unavailable

#: The counters read from the metrics endpoints, by the column they feed.
RATE_COUNTERS = {
    "taken/s": "channels_messages_received_total",
    "done/s": "channels_messages_consumed_total",
}
#: How long a metrics endpoint may take to answer (seconds).
SCRAPE_TIMEOUT = 5.0

Counts = dict[str, dict[str, float]]  # counter name -> channel -> value


def scrape(urls: Sequence[str]) -> tuple[Counts, list[str]]:
    """The channel counters of every endpoint, summed, and the errors of those that did not
    answer (one line each)."""
    from prometheus_client.parser import text_string_to_metric_families

    totals: Counts = {name: {} for name in RATE_COUNTERS.values()}
    errors = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=SCRAPE_TIMEOUT) as response:
                text = response.read().decode()
        except OSError as error:
            errors.append(f"{url}: {error}")
            continue
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                channels = totals.get(sample.name)
                if channels is not None and "channel" in sample.labels:
                    channel = sample.labels["channel"]
                    channels[channel] = channels.get(channel, 0.0) + sample.value
    return totals, errors


@dataclass
class Snapshot:
    """One refresh: when, the backlog per channel, the counters (if any endpoint)."""

    at: float
    waiting: dict[str, int]
    counts: Counts = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def table(now: Snapshot, before: Snapshot | None, with_rates: bool) -> list[str]:
    """The lines of one refresh: a row per channel, the busiest first."""
    seconds = now.at - before.at if before is not None else 0.0
    columns = ["channel", "waiting", "change/s", *(RATE_COUNTERS if with_rates else ())]

    def rate(value: float, previous: float) -> str:
        return f"{(value - previous) / seconds:.1f}" if seconds > 0 else "-"

    rows = []
    for channel in sorted(now.waiting, key=lambda name: (-now.waiting[name], name)):
        row = [channel, str(now.waiting[channel])]
        row.append(rate(now.waiting[channel], before.waiting.get(channel, 0)) if before else "-")
        if with_rates:
            for counter in RATE_COUNTERS.values():
                value = now.counts.get(counter, {}).get(channel, 0.0)
                previous = before.counts.get(counter, {}).get(channel, 0.0) if before else 0.0
                row.append(rate(value, previous) if before else "-")
        rows.append(row)
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(columns, *rows, strict=False)
    ]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(columns, widths, strict=True))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
    lines += [f"unavailable: {error}" for error in now.errors]
    return lines


def watch(
    count_waiting: Callable[[], dict[str, int]],
    urls: Sequence[str],
    *,
    interval: float,
    refreshes: int | None,
    show: Callable[[list[str]], None],
) -> None:
    """Shows a table every ``interval`` seconds, ``refreshes`` times (None: until
    interrupted)."""
    before: Snapshot | None = None
    shown = 0
    while refreshes is None or shown < refreshes:
        counts, errors = scrape(urls) if urls else ({}, [])
        try:
            waiting = count_waiting()
        except Exception as error:
            if not is_unavailable(error):
                raise
            waiting = before.waiting if before is not None else {}
            errors.insert(0, f"the channel layer: {error}")
        now = Snapshot(time.monotonic(), waiting, counts, errors)
        show(table(now, before, with_rates=bool(urls)))
        before, shown = now, shown + 1
        if refreshes is None or shown < refreshes:
            time.sleep(interval)

"""What a load run measured, in a form that client processes merge into one report."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keeps the load tool's own garbage collector out of the times it takes: what is alive is
    frozen and collection is off inside the block, both undone after it. Otherwise a full
    collection in the client (about 20 ms with the benchmark's heap) lands in a round trip
    and is reported as the server's."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (0 < fraction < 1); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


@dataclass
class LoadReport:
    """Counts and round trips of one run. ``started``/``finished`` are wall-clock
    (time.time()) seconds of the first request and the last correct answer; ``rtts_ms`` the
    correct answers' round trips. Subclasses add counts (listed in COUNTS, summed by merge)
    and name their rate (RATE: correct answers per second)."""

    COUNTS: ClassVar[tuple[str, ...]] = ()
    RATE: ClassVar[str] = "per_s"

    ok: int = 0
    started: float = 0.0
    finished: float = 0.0
    rtts_ms: list[float] = field(default_factory=list)

    def merge(self, other: LoadReport) -> None:
        """Adds ``other`` (another client process's report) into this one."""
        for name in ("ok", *self.COUNTS):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        starts = [t for t in (self.started, other.started) if t]
        self.started = min(starts) if starts else 0.0
        self.finished = max(self.finished, other.finished)
        self.rtts_ms += other.rtts_ms

    def summary(self) -> dict[str, Any]:
        """The figures without the raw round trips: the rate, p50/p99 (ms) and the counts."""
        figures = {k: v for k, v in asdict(self).items() if k != "rtts_ms"}
        elapsed = self.finished - self.started
        figures[self.RATE] = self.ok / elapsed if self.ok and elapsed > 0 else 0.0
        figures["p50_ms"] = percentile(self.rtts_ms, 0.50)
        figures["p99_ms"] = percentile(self.rtts_ms, 0.99)
        return figures

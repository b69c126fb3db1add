"""Logging failures that may repeat for ever, without flooding the log.

A consumer that raises on every message, or a client that keeps sending what no route
takes, would otherwise write one traceback per message: a client could fill the disks, and
the first, useful traceback is lost in the noise. So each kind of failure is logged in full
the first time (with its traceback), and its repeats are counted and reported once per
FAILURE_LOG_INTERVAL ("consumer X on channel Y failed 312 more times in the last 60 s").
When the failures stop, the count still pending is reported once, at the end of its
interval (or when the process stops: ``flush_all``). A kind that then stays quiet for a
whole interval is forgotten, so its next failure is logged in full again.

A kind is the caller's key plus the exception's type: a different exception from the same
consumer logs its own first traceback.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

#: Seconds between two reports of one kind of failure; repeats in between are only counted.
FAILURE_LOG_INTERVAL = 60.0

#: Arranges for a function to be called in so many seconds (a timer thread by default).
Schedule = Callable[[float, Callable[[], None]], None]

_all: weakref.WeakSet[FailureLog] = weakref.WeakSet()


def _timer(delay: float, function: Callable[[], None]) -> None:
    timer = threading.Timer(delay, function)
    timer.daemon = True
    timer.start()


@dataclass
class _Kind:
    """One kind of failure: how to report its repeats, and how many are unreported."""

    repeated: str
    args: tuple[Any, ...]
    level: int
    window_start: float
    count: int = 0


class FailureLog:
    """Logs failures through ``logger``, each kind in full once, then counted per interval.

    ``clock`` and ``schedule`` are for tests (a clock they move, timers they fire).
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = FAILURE_LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        schedule: Schedule = _timer,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self._clock = clock
        self._schedule = schedule
        self._kinds: dict[Hashable, _Kind] = {}
        self._lock = threading.Lock()
        self._check_scheduled = False
        _all.add(self)

    def failed(
        self,
        key: tuple[Hashable, ...],
        error: BaseException | None,
        first: str,
        repeated: str,
        *args: Any,
        level: int = logging.ERROR,
    ) -> None:
        """Records a failure of the kind ``key`` (plus ``error``'s type). The first is logged
        as ``first % args`` with ``error``'s traceback; later ones are counted, and reported
        as ``repeated % args`` followed by "N more times in the last S s"."""
        kind_key = (*key, type(error) if error is not None else None)
        now = self._clock()
        report = None
        with self._lock:
            kind = self._kinds.get(kind_key)
            if kind is None:
                self._kinds[kind_key] = _Kind(repeated, args, level, now)
                self._arm()
            else:
                kind.count += 1
                if now - kind.window_start >= self.interval:
                    report = self._take_report(kind, now)
        if kind is None:
            self.logger.log(level, first, *args, exc_info=error)
        elif report is not None:
            self._log_report(*report)

    def check(self) -> None:
        """Reports the counts whose interval is over and forgets kinds quiet for a whole
        interval; called by the timer ``failed`` arms, and again while kinds remain."""
        now = self._clock()
        reports = []
        with self._lock:
            self._check_scheduled = False
            for kind_key, kind in list(self._kinds.items()):
                if now - kind.window_start < self.interval:
                    continue
                if kind.count:
                    reports.append(self._take_report(kind, now))
                else:
                    del self._kinds[kind_key]
            self._arm()
        for report in reports:
            self._log_report(*report)

    def flush(self) -> None:
        """Reports every pending count now (the process is stopping)."""
        now = self._clock()
        with self._lock:
            reports = [self._take_report(kind, now) for kind in self._kinds.values() if kind.count]
        for report in reports:
            self._log_report(*report)

    def _arm(self) -> None:
        """Schedules the next check for the earliest interval end. Call with the lock held."""
        if self._check_scheduled or not self._kinds:
            return
        self._check_scheduled = True
        due = min(kind.window_start for kind in self._kinds.values()) + self.interval
        self._schedule(max(0.0, due - self._clock()), self.check)

    def _take_report(self, kind: _Kind, now: float) -> tuple[_Kind, int, float]:
        """The report of ``kind``'s count so far, which starts a new interval. Call with the
        lock held."""
        report = (kind, kind.count, now - kind.window_start)
        kind.count, kind.window_start = 0, now
        return report

    def _log_report(self, kind: _Kind, count: int, seconds: float) -> None:
        self.logger.log(
            kind.level,
            f"{kind.repeated} %d more time%s in the last %s s",
            *kind.args,
            count,
            "" if count == 1 else "s",
            f"{seconds:.1f}" if seconds < 10 else f"{seconds:.0f}",
        )


def forget_all() -> None:
    """Forgets every kind of failure seen so far, pending counts included (the test suite
    starts each test afresh with it)."""
    for failure_log in list(_all):
        with failure_log._lock:
            failure_log._kinds.clear()


def flush_all() -> None:
    """Reports the pending counts of every failure log of the process (before it exits)."""
    for failure_log in list(_all):
        failure_log.flush()

"""Rate-limited failure logs: each kind of failure in full once, then a count per interval
(on a clock and timers the tests move by hand)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from channels_classic.failure_log import FAILURE_LOG_INTERVAL, FailureLog

CONSUMER_FIRST = "worker: consumer %s failed on a message from %s"
CONSUMER_REPEATED = "worker: consumer %s on channel %s failed"


class Clock:
    """A clock and a timer queue moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def __call__(self) -> float:
        return self.now

    def schedule(self, delay: float, function: Callable[[], None]) -> None:
        self.timers.append((self.now + delay, function))

    def advance(self, seconds: float) -> None:
        """Moves the clock on, firing the timers that fall due on the way, in order."""
        end = self.now + seconds
        while self.timers and min(due for due, _ in self.timers) <= end:
            due, function = min(self.timers, key=lambda timer: timer[0])
            self.timers.remove((due, function))
            self.now = due
            function()
        self.now = end


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Records:
    """What the test's failure logs logged so far."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.INFO, logger="test.failures")
        self._caplog = caplog

    def __len__(self) -> int:
        return len(self._caplog.records)

    def __getitem__(self, index: int) -> logging.LogRecord:
        return self._caplog.records[index]

    def __iter__(self):
        return iter(self._caplog.records)


@pytest.fixture
def records(caplog) -> Records:
    return Records(caplog)


def failure_log(clock: Clock) -> FailureLog:
    return FailureLog(logging.getLogger("test.failures"), clock=clock, schedule=clock.schedule)


def consumer_failed(log: FailureLog, error: Exception, consumer="app.crash", channel="ws.in"):
    log.failed(
        ("consumer", consumer, channel), error, CONSUMER_FIRST, CONSUMER_REPEATED, consumer, channel
    )


def raised(error: Exception) -> Exception:
    """``error`` as raised and caught, with its traceback."""
    try:
        raise error
    except Exception as caught:
        return caught


def messages(records: Records) -> list[str]:
    return [record.getMessage() for record in records]


def test_the_first_failure_is_logged_with_its_traceback_the_repeats_counted(clock, records):
    """Of failures one second apart, the first is logged in full; the next 59 are not logged;
    the one after the interval reports the count since the first, and starts a new interval."""
    log = failure_log(clock)
    for _ in range(61):
        consumer_failed(log, raised(RuntimeError("boom")))
        clock.now += 1
    assert messages(records) == [
        "worker: consumer app.crash failed on a message from ws.in",
        "worker: consumer app.crash on channel ws.in failed 60 more times in the last 60 s",
    ]
    assert records[0].exc_info is not None and records[0].exc_info[0] is RuntimeError
    assert records[1].exc_info is None
    assert records[0].levelno == records[1].levelno == logging.ERROR


def test_a_pending_count_is_reported_once_when_the_failures_stop(clock, records):
    """Three repeats, then silence: the count is reported once at the end of the interval;
    a whole quiet interval later the kind is forgotten, and its next failure is logged in
    full again."""
    log = failure_log(clock)
    for _ in range(4):
        consumer_failed(log, raised(RuntimeError("boom")))
        clock.advance(1)
    clock.advance(FAILURE_LOG_INTERVAL)
    assert messages(records)[1:] == [
        "worker: consumer app.crash on channel ws.in failed 3 more times in the last 60 s"
    ]
    clock.advance(FAILURE_LOG_INTERVAL * 3)
    assert len(records) == 2
    assert clock.timers == []
    consumer_failed(log, raised(RuntimeError("again")))
    assert messages(records)[2] == "worker: consumer app.crash failed on a message from ws.in"
    assert records[2].exc_info is not None


def test_another_exception_type_or_key_logs_its_own_first_traceback(clock, records):
    """The same consumer raising another exception type, or another consumer or channel,
    is a kind of its own: logged in full the first time."""
    log = failure_log(clock)
    consumer_failed(log, raised(RuntimeError("boom")))
    consumer_failed(log, raised(RuntimeError("boom")))
    consumer_failed(log, raised(KeyError("text")))
    consumer_failed(log, raised(RuntimeError("boom")), consumer="app.other")
    consumer_failed(log, raised(RuntimeError("boom")), channel="http.request")
    assert [record.exc_info[0] for record in records] == [RuntimeError, KeyError] + [
        RuntimeError
    ] * 2
    assert messages(records)[2:] == [
        "worker: consumer app.other failed on a message from ws.in",
        "worker: consumer app.crash failed on a message from http.request",
    ]


def test_one_repeat_is_counted_in_the_singular_and_flush_reports_at_once(clock, records):
    """flush() (a process stopping) reports what is pending without waiting for the end of
    the interval, and only that: nothing is reported twice."""
    log = failure_log(clock)
    log.failed(("no route", "ws.in"), None, "no route for %s", "no route matched %s", "ws.in")
    clock.advance(5)
    log.failed(("no route", "ws.in"), None, "no route for %s", "no route matched %s", "ws.in")
    log.flush()
    clock.advance(FAILURE_LOG_INTERVAL * 2)
    assert messages(records) == [
        "no route for ws.in",
        "no route matched ws.in 1 more time in the last 5.0 s",
    ]
    assert records[0].exc_info is None


def test_a_warning_stays_a_warning(clock, records):
    """The level given is the level of the first line and of the counts."""
    log = failure_log(clock)
    for _ in range(2):
        log.failed(
            ("full", "g"), None, "group %s full", "group %s full", "g", level=logging.WARNING
        )
    clock.advance(FAILURE_LOG_INTERVAL)
    assert [record.levelno for record in records] == [logging.WARNING] * 2

"""CPU accounting for the benchmarks: what each server process spent over a scenario, and
what the rest of the machine (processes that are not the benchmark's) kept busy meanwhile."""

from __future__ import annotations

import os
import time

import psutil


class CpuMeter:
    """CPU seconds (user + system) each process of ``pids`` has used since the meter was made."""

    def __init__(self, pids: list[int]) -> None:
        self._processes = [psutil.Process(pid) for pid in pids]
        self._start = [self._seconds(process) for process in self._processes]

    @staticmethod
    def _seconds(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    def used(self) -> list[float]:
        return [
            self._seconds(process) - start
            for process, start in zip(self._processes, self._start, strict=True)
        ]


class ForeignLoad:
    """Measures the CPU that processes other than this benchmark's use while it runs.

    Busy CPU seconds of the whole machine, minus those of this process and its children
    (live ones from psutil, finished ones from os.times()), over the wall-clock time: the
    average number of cores something else kept busy."""

    def __init__(self) -> None:
        self._start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        machine = psutil.cpu_times()
        busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        own = os.times()
        ours = own.user + own.system + own.children_user + own.children_system
        for child in psutil.Process().children():
            try:
                times = child.cpu_times()
            except psutil.NoSuchProcess:
                continue  # reaped meanwhile: os.times() will count it next time
            ours += times.user + times.system
        return time.monotonic(), busy, ours

    def cores(self) -> float:
        """Average cores busy with other processes since this object was made."""
        (start, busy, ours), (end, busy_now, ours_now) = self._start, self._sample()
        return max(0.0, (busy_now - busy) - (ours_now - ours)) / max(end - start, 1e-9)

"""What ws_bench.py shows of its results: the markdown table, the problems, the plot.

``results`` is ws_bench's ``{stack name: [one dict per round]}``; each round's dict holds one
entry per scenario (``sequential``, ``concurrent_1w``, ``concurrent_2w``, ``broadcast``,
``idle_sockets``, ``idle_cpu``; a scenario a stack does not run is absent) and
``processes``, what each process did and logged.
"""

from __future__ import annotations

import argparse
import re
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

#: A log line worth reporting: a warning or worse (a traceback's last line is taken too).
NOTABLE = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Error: ")
#: What makes otherwise equal log lines differ (timestamps, ports, ids), for grouping them.
VARYING = re.compile(r"^\d{4}-\d\d-\d\d [\d:,.]+\s+|[0-9a-f]{8,}|\d+")
#: Distinct notable lines kept per process log.
MAX_NOTABLE = 12
#: Counts that should stay 0, per echo or broadcast scenario.
BAD_COUNTS = (
    "failed_connects", "lost", "late", "duplicates", "wrong", "unsent", "closed_early",
)  # fmt: skip
#: (row label, scenario, key, number format); the label is formatted with the run's args.
ROWS = (
    ("1 client × {echoes} sequential echoes: p50 (ms)", "sequential", "p50_ms", "{:.2f}"),
    ("1 client × {echoes} sequential echoes: p99 (ms)", "sequential", "p99_ms", "{:.2f}"),
    ("1 client × {echoes} sequential echoes: CPU per echo, interface / worker / Redis (µs)",
     "sequential", "cpu_us_per_echo", "{:.0f}"),
    ("{clients} clients × {per_client}, 1 worker*: msg/s", "concurrent_1w", "msg_per_s", "{:,.0f}"),
    ("{clients} clients × {per_client}, 1 worker*: p50 (ms)", "concurrent_1w", "p50_ms", "{:.2f}"),
    ("{clients} clients × {per_client}, 1 worker*: lost / duplicates", "concurrent_1w", "", ""),
    ("{clients} clients × {per_client}, 1 worker*: cores busy, interface / worker",
     "concurrent_1w", "cpu_cores", "{:.2f}"),
    ("{clients} clients × {per_client}, 2 workers: msg/s", "concurrent_2w", "msg_per_s", "{:,.0f}"),
    ("{clients} clients × {per_client}, 2 workers: p50 (ms)", "concurrent_2w", "p50_ms", "{:.2f}"),
    ("{clients} clients × {per_client}, 2 workers: lost / duplicates", "concurrent_2w", "", ""),
    ("{clients} clients × {per_client}, 2 workers: cores busy, interface / each worker",
     "concurrent_2w", "cpu_cores", "{:.2f}"),
    ("broadcast to {members} members: p50 (ms)", "broadcast", "p50_ms", "{:.1f}"),
    ("broadcast to {members} members: p99 (ms)", "broadcast", "p99_ms", "{:.1f}"),
    ("broadcast to {members} members: lost / duplicates", "broadcast", "", ""),
    ("{idle_sockets} idle sockets: interface RSS (KiB/socket)", "idle_sockets",
     "rss_kib_per_socket", "{:.1f}"),
    ("idle {idle_seconds:g} s: interface CPU (s)", "idle_cpu", "interface_cpu_s", "{:.3f}"),
    ("idle {idle_seconds:g} s: CPU of each worker (s)", "idle_cpu", "worker_cpu_s", "{:.3f}"),
    ("idle {idle_seconds:g} s: whole machine busy (%)", "idle_cpu", "machine_cpu_percent",
     "{:.1f}"),
    ("noise: cores other processes kept busy during the stack's run", "", "foreign_cores",
     "{:.2f}"),
)  # fmt: skip


def notable_lines(log: str) -> list[str]:
    """The warnings, errors and traceback endings of ``log``, alike lines grouped as
    "N× line" (the first of them shown), at most MAX_NOTABLE groups."""
    found: dict[str, str] = {}
    counts: Counter[str] = Counter()
    in_traceback = False
    for line in log.splitlines():
        ends_traceback = in_traceback and line and not line.startswith(" ")
        if line.startswith("Traceback"):
            in_traceback = True
        elif ends_traceback:
            in_traceback = False
        if not (NOTABLE.search(line) or ends_traceback):
            continue
        key = VARYING.sub("#", line)
        found.setdefault(key, line.strip()[:300])
        counts[key] += 1
    return [f"{counts[key]}× {line}" for key, line in list(found.items())[:MAX_NOTABLE]]


def _spread(values: list[float], number: str, with_range: bool = True) -> str:
    """The median, and with several rounds their range: "1.23 (1.10–1.40)"."""
    if not values:
        return "—"
    cell = number.format(statistics.median(values))
    if with_range and len(values) > 1:
        cell += f" ({number.format(min(values))}–{number.format(max(values))})"
    return cell


def _cell(rounds: list[dict[str, Any]], scenario: str, key: str, number: str) -> str:
    found = (r.get(scenario) if scenario else r for r in rounds)
    runs = [r for r in found if r is not None and (not key or key in r)]
    if not runs:
        return "—"
    if not key:
        return f"{sum(r['lost'] for r in runs)} / {sum(r['duplicates'] for r in runs)}"
    if isinstance(runs[0][key], list):  # one figure per process: medians only, to stay legible
        columns = zip(*(r[key] for r in runs), strict=True)
        return " / ".join(_spread(list(c), number, with_range=False) for c in columns) or "—"
    return _spread([r[key] for r in runs if r[key] is not None], number)


def table(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> str:
    """The markdown table: one column per stack, medians over the rounds (range in
    parentheses, except in per-process cells); lost / duplicates are sums over the rounds."""
    stacks = list(results)
    lines = [f"| figure | {' | '.join(stacks)} |", f"|---|{'---|' * len(stacks)}"]
    for label, scenario, key, number in ROWS:
        cells = [_cell(results[stack], scenario, key, number) for stack in stacks]
        lines.append(f"| {label.format(**vars(args))} | {' | '.join(cells)} |")
    lines.append("")
    lines.append("\\* floor: no worker, daphne answers itself.")
    return "\n".join(lines)


def one_line(result: dict[str, Any]) -> str:
    """A progress line for one stack's round."""
    if "error" in result:
        return f"FAILED: {result['error']}"
    parts = [f"seq p50 {result['sequential']['p50_ms'] or 0:.2f} ms"]
    for scenario in ("concurrent_1w", "concurrent_2w"):
        if scenario in result:
            figures = result[scenario]
            parts.append(f"{scenario} {figures['msg_per_s']:,.0f} msg/s lost {figures['lost']}")
    if "broadcast" in result:
        parts.append(f"broadcast p50 {result['broadcast']['p50_ms'] or 0:.1f} ms")
    if "idle_sockets" in result:
        parts.append(f"{result['idle_sockets']['rss_kib_per_socket']:.1f} KiB/socket")
    if "foreign_cores" in result:
        parts.append(f"other processes {result['foreign_cores']:.2f} cores")
    return ", ".join(parts)


def problems(results: dict[str, list[dict[str, Any]]]) -> str:
    """Everything that should not have happened: bad counts, sockets that did not open or
    stay open, processes that died or needed SIGKILL, warnings and errors in their logs."""
    found = []
    for stack, rounds in results.items():
        for number, result in enumerate(rounds, 1):
            where = f"{stack}, round {number}"
            if "error" in result:
                found.append(f"- {where}: stopped by {result['error']}")
            for scenario in ("sequential", "concurrent_1w", "concurrent_2w", "broadcast"):
                figures = result.get(scenario, {})
                bad = {key: figures[key] for key in BAD_COUNTS if figures.get(key)}
                if figures.get("timed_out"):
                    bad["timed_out"] = True
                if bad:
                    found.append(f"- {where}, {scenario}: {bad} {figures['connect_errors'] or ''}")
            idle = result.get("idle_sockets")
            if idle and (idle["failed"] or idle["still_open"] != idle["opened"]):
                found.append(
                    f"- {where}, idle sockets: {idle['failed']} failed "
                    f"{idle['connect_errors']}, {idle['opened'] - idle['still_open']} closed"
                )
            for name, process in result.get("processes", {}).items():
                if not process["alive_until_stopped"] or process["exit_status"] not in (0, None):
                    found.append(
                        f"- {where}, {name}: alive until stopped: "
                        f"{process['alive_until_stopped']}, exit status {process['exit_status']}"
                    )
                found += [f"- {where}, {name} log: {line}" for line in process["notable"]]
    return "\n".join(["Problems:", *found]) if found else "Problems: none seen."


def plot(results: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Writes the round-trip CDFs per stack: sequential echoes, and the concurrent echoes with
    the most workers each stack has."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    colors = {stack: f"C{index}" for index, stack in enumerate(results)}  # alike in both panels
    for axis, title, scenarios in (
        (axes[0], "1 client, sequential echoes", ("sequential",)),
        (
            axes[1],
            "concurrent clients (2 workers; floor: none)",
            ("concurrent_2w", "concurrent_1w"),
        ),
    ):
        for stack, rounds in results.items():
            scenario = next((s for s in scenarios if any(s in r for r in rounds)), None)
            times = sorted(t for r in rounds if scenario in r for t in r[scenario]["rtts_ms"])
            if times:
                fractions = [(i + 1) / len(times) for i in range(len(times))]
                axis.plot(times, fractions, label=stack, color=colors[stack])
        axis.set_xscale("log")
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.set_xlabel("round trip (ms, log scale)")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(loc="lower right")
    axes[0].set_ylabel("fraction of echoes at most this long")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)

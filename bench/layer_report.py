"""What layer_bench.py shows of its results: the markdown table, medians over the rounds
per layer (sums for counts), with ratio columns: djchan to each other layer, and a layer on
a Redis Cluster to itself on the single Redis.

``results`` is layer_bench's ``{layer name: [one dict of figures per round]}``.
"""

from __future__ import annotations

import statistics

from bench import redis_servers


def ratios(names: list[str]) -> list[tuple[str, str]]:
    """The (numerator, denominator) of each ratio column: a layer on the cluster to itself on
    the single Redis, and djchan to each other layer on the single Redis."""
    twins = [(redis_servers.cluster_name(name), name) for name in names]
    pairs = [(twin, name) for twin, name in twins if twin in names and name in names]
    if "djchan" in names:
        clustered = {twin for twin, _ in pairs}
        pairs += [("djchan", name) for name in names if name not in clustered | {"djchan"}]
    return pairs


def table(results: dict[str, list[dict[str, float]]]) -> str:
    """Medians over the rounds per layer (sums for counts), and the ratios of ``ratios``."""
    names = list(results)
    pairs = ratios(names)

    def value(name: str, key: str) -> float:
        rounds = results[name]
        # A layer that receives one message per call anyway has no batch-1 run of its own.
        figures = [r.get(key, r["msg_per_s"]) if key.endswith("batch1") else r[key] for r in rounds]
        return sum(figures) if key in COUNTED else statistics.median(figures)

    header = " | ".join([*names, *(f"{ours}/{theirs}" for ours, theirs in pairs)])
    lines = [f"| figure | {header} |", "|---" * (1 + len(names) + len(pairs)) + "|"]
    for label, key, form in ROWS:
        cells = [form.format(value(name, key)) for name in names]
        for ours, theirs in pairs:
            below = value(theirs, key)
            cells.append(f"{value(ours, key) / below:.2f}" if below else "-")
        lines.append(f"| {label} | {' | '.join(cells)} |")
    return "\n".join(lines)


#: The table's rows: label, figure, format. Counts are summed over the rounds.
ROWS = [
    ("ping-pong p50 (ms)", "p50_ms", "{:.3f}"),
    ("ping-pong p99 (ms)", "p99_ms", "{:.3f}"),
    ("50 senders, 2 receivers (msg/s)", "msg_per_s", "{:,.0f}"),
    ("same, receiving one message per call (msg/s)", "msg_per_s_batch1", "{:,.0f}"),
    ("duplicates (sum over rounds)", "duplicates", "{:.0f}"),
    ("lost (sum over rounds)", "lost", "{:.0f}"),
    ("idle receiver CPU (s)", "idle_cpu_s", "{:.3f}"),
    ("idle receivers still receiving afterwards", "idle_survived", "{:.0f}"),
]
COUNTED = {"duplicates", "lost", "idle_survived"}

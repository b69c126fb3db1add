"""HTTP benchmark: a small Django view through the layer, beside the same view on daphne
through Django's own ASGI handler, in one invocation.

    .venv/bin/python bench/http_bench.py [--rounds 3] [--workers 2] [--connections 50]

Starts a private Redis and a migrated database, then, round after round (so that machine
noise hits both alike), each stack in turn on free 127.0.0.1 ports, stopped by PID after:

- django-asgi: ``daphne bench.django_asgi:application`` (the view runs in daphne's process);
- djchan: ``daphne djchan.asgi:channel_layer`` and ``--workers`` ``manage.py runworker``
  processes (the request crosses Redis to a worker and the response comes back).

Both serve /bench/hello/ (bench/urls.py) with bench.settings, the demo's middleware and
all, DEBUG off. Scenarios: 1 connection × 1000 sequential requests (p50/p99), then
``--connections`` keep-alive connections × ``--requests`` each (requests/s, p50/p99) with
bench/httpload.py.
Prints a markdown table of medians with ranges, and writes bench/results/http.json.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import httpload  # noqa: E402
from bench.hello import HELLO  # noqa: E402
from channels_classic.embedded_redis import EmbeddedRedis  # noqa: E402
from tests.support.processes import Stack  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PATH = "/bench/hello/"
STACKS = ("django-asgi", "djchan")
WARMUP = 200


def run_stack(name: str, redis_url: str, work: Path, args: argparse.Namespace) -> dict:
    stack = Stack(redis_url, work, settings="bench.settings")
    stack.env["BENCH_PREFIX"] = f"http{name.replace('-', '')}"
    stack.env["DJANGO_DEBUG"] = "0"  # as deployed: no query log, no debug pages
    stack.env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    stack.manage("migrate", "--noinput", "-v", "0")
    try:
        if name == "djchan":
            for _ in range(args.workers):
                stack.start_worker("--threads", str(args.threads))
            stack.start_daphne()
        else:
            stack.start_daphne(app="bench.django_asgi:application")
        url = stack.url(PATH, scheme="http")
        expect = json.dumps(HELLO).encode()
        httpload.run(url, 1, WARMUP, expect, 1)
        sequential = httpload.run(url, 1, args.sequential, expect, 1)
        concurrent = httpload.run(url, args.connections, args.requests, expect, args.processes)
    finally:
        stack.stop()
    return {"sequential": sequential, "concurrent": concurrent}


def table(results: dict[str, list[dict]]) -> str:
    def figure(stack: str, scenario: str, key: str) -> tuple[float, float, float]:
        values = [r[scenario][key] for r in results[stack]]
        return statistics.median(values), min(values), max(values)

    def cell(stack: str, scenario: str, key: str, fmt: str) -> str:
        mid, low, high = figure(stack, scenario, key)
        return f"{fmt.format(mid)} ({fmt.format(low)}–{fmt.format(high)})"

    rows = [
        ("1 connection × sequential requests: p50 (ms)", "sequential", "p50_ms", "{:.2f}"),
        ("1 connection × sequential requests: p99 (ms)", "sequential", "p99_ms", "{:.2f}"),
        ("concurrent connections: requests/s", "concurrent", "req_per_s", "{:,.0f}"),
        ("concurrent connections: p50 (ms)", "concurrent", "p50_ms", "{:.2f}"),
        ("concurrent connections: p99 (ms)", "concurrent", "p99_ms", "{:.2f}"),
    ]
    lines = ["| figure | django-asgi | djchan | djchan/django-asgi |", "|---|---|---|---|"]
    for label, scenario, key, fmt in rows:
        ratio = figure("djchan", scenario, key)[0] / figure("django-asgi", scenario, key)[0]
        lines.append(
            f"| {label} | {cell('django-asgi', scenario, key, fmt)} | "
            f"{cell('djchan', scenario, key, fmt)} | {ratio:.2f} |"
        )
    bad = {
        stack: sum(r[s]["bad"] + r[s]["lost"] for r in results[stack] for s in r)
        for stack in STACKS
    }
    lines.append(
        f"| bad or lost responses (all rounds) | {bad['django-asgi']} | {bad['djchan']} | |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="runworker --threads")
    parser.add_argument("--sequential", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100, help="per connection")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    args = parser.parse_args()
    results: dict[str, list[dict[str, Any]]] = {stack: [] for stack in STACKS}
    with EmbeddedRedis() as redis, tempfile.TemporaryDirectory(prefix="djchan-http-") as work:
        for round_number in range(1, args.rounds + 1):
            for name in STACKS:
                figures = run_stack(name, redis.url, Path(work), args)
                results[name].append(figures)
                seq, conc = figures["sequential"], figures["concurrent"]
                print(
                    f"round {round_number} {name}: sequential p50 {seq['p50_ms']:.2f} ms, "
                    f"{conc['req_per_s']:,.0f} req/s (p50 {conc['p50_ms']:.2f} ms)",
                    flush=True,
                )
    print()
    print(table(results))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "http.json").write_text(json.dumps({"args": vars(args), "results": results}))


if __name__ == "__main__":
    main()

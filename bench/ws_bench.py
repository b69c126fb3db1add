"""WebSocket benchmark: djchan on daphne beside a bare daphne echo app, in one invocation.

    .venv/bin/python bench/ws_bench.py [--quick] [--rounds 3] [--threads 8]
        [--baseline GIT-REF] [--stacks NAME,NAME...] [--redis single,cluster]

Starts a private Redis, then, round after round so that machine noise hits every stack
alike, each stack in turn: its processes on free 127.0.0.1 ports, the scenarios, then stops
them by PID (SIGTERM, SIGKILL after 10 s). Stacks:

- floor: bench/floor_app.py on daphne, no layer and no worker;
- djchan: ``daphne djchan.asgi:channel_layer`` + ``manage.py runworker --threads N`` with
  bench.settings (the project's Redis layer);
- djchan, minimal worker: the djchan stack with bench/minimal_worker.py in place of
  runworker (no Django, no event loop, no threads), sequential echoes only: what daphne,
  Redis and a worker process cost a round trip before any worker machinery;
- djchan+channels_redis: the same as djchan with BENCH_LAYER=channels_redis;
- with ``--baseline REF``, djchan@REF: the djchan stack run from a temporary checkout of the
  git revision REF, right after djchan in every round: a before/after comparison in one run.
- with ``--redis single,cluster``, djchan (cluster) (and djchan@REF (cluster)): the same
  stack on a private 3-master Redis Cluster, right after it in every round; ``--redis
  cluster`` runs the floor and the cluster's stacks only (bench/redis_servers.py);
  ``--cluster-shards N`` gives the layer N shards there instead of its default.
  ``--stacks`` runs only the stacks named (e.g. ``djchan,djchan@HEAD~3``).

Scenarios, after a short unmeasured warm-up: 1 client × 2000 sequential echoes (with the CPU
each server process spends per echo, Redis included); 50 clients
× 200 echoes with 1 worker, then again with a second worker started (floor: once, no
worker), with the cores each server process kept busy meanwhile; for the djchan stacks 50
broadcasts to a 100-member group; 1000 idle sockets (the interface process's RSS growth per
socket); then CPU seconds each process burns over 5 s with nothing to do. bench/wsload.py
and bench/wsbroadcast.py generate the load (see wsload's docstring for how it splits
clients over processes). Beside each stack's figures goes the CPU that other processes on
the machine used meanwhile: the noise they carry.

Prints a markdown table (medians over the rounds, with the range when there are several),
writes bench/results/ws.json and bench/results/ws_roundtrip.png, and keeps every process's
log in a temporary directory whose path it prints, with their warnings and errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    redis_servers,  # noqa: E402
    ws_report,
    wsbroadcast,
    wsload,
)
from bench.baseline import checkout  # noqa: E402
from bench.cpu import CpuMeter, ForeignLoad  # noqa: E402
from bench.redis_servers import CLUSTER, SINGLE, RedisServer, cluster_name  # noqa: E402
from channels_classic.embedded_redis import free_port  # noqa: E402
from tests.support.processes import ServerProcess, Stack  # noqa: E402

RESULTS = ROOT / "bench" / "results"
FLOOR_APP = "bench.floor_app:app"
#: Where bench/routing.py's broadcast group takes sockets (its BROADCAST_PATH).
BROADCAST_URL_PATH = "/broadcast/"
#: Unmeasured echoes before each stack's first scenario (imports, Redis scripts, pools).
WARMUP_ECHOES = 100
#: Seconds to let the servers finish reacting (handshakes, disconnects) before measuring.
SETTLE = 2.0
#: Handshakes in flight at once while opening the idle sockets.
IDLE_CONCURRENCY = 50


@dataclass(frozen=True)
class StackSpec:
    """One benchmarked stack: ``layer`` is BENCH_LAYER (None: the floor, no workers and no
    Redis). A ``minimal`` stack's worker is bench/minimal_worker.py, and it runs the
    sequential echoes only. ``redis`` is the kind of Redis it runs on (bench/redis_servers)."""

    name: str
    layer: str | None
    echo_path: str
    expect: str
    minimal: bool = False
    root: Path = ROOT
    redis: str | None = SINGLE

    @property
    def runs_on_a_cluster(self) -> bool:
        """Whether it has a cluster twin: the project's layer can run there, channels_redis
        cannot, and the minimal worker's one BZPOPMIN cannot wait on keys of several nodes.
        A baseline revision's stack gets none: it may predate the layer's cluster support."""
        return self.layer == "djchan" and not self.minimal and self.root == ROOT


STACKS = (
    StackSpec("floor", None, "/", "{text}", redis=None),
    StackSpec("djchan", "djchan", "/chat/", wsload.DEMO_EXPECT),
    StackSpec("djchan, minimal worker", "djchan", "/chat/", wsload.DEMO_EXPECT, minimal=True),
    StackSpec("djchan+channels_redis", "channels_redis", "/chat/", wsload.DEMO_EXPECT),
)
MINIMAL_WORKER = ROOT / "bench" / "minimal_worker.py"


def start_floor(stack: Stack) -> ServerProcess:
    """Starts daphne serving the floor app; it joins ``stack`` so that stack.stop() ends it."""
    stack.port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(stack.port)]
    daphne = ServerProcess(f"daphne-{stack.port}", [*command, FLOOR_APP], stack.env, stack.log_dir)
    stack.processes.append(daphne)
    daphne.wait_for_port(stack.port)
    return daphne


def start_minimal_worker(stack: Stack) -> ServerProcess:
    """Starts bench/minimal_worker.py; it joins ``stack`` so that stack.stop() ends it."""
    worker = ServerProcess(
        "minimal-worker", [sys.executable, str(MINIMAL_WORKER)], stack.env, stack.log_dir
    )
    stack.processes.append(worker)
    worker.wait_for_log("minimal worker: listening")
    return worker


def migrate(stack: Stack) -> None:
    """Creates the stack's temporary database, as a deployment does before its workers."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=stack.root,
        env=stack.env,
        check=True,
        timeout=120,
    )


def microseconds(times_ms: list[float]) -> list[float]:
    """Round trips rounded to the microsecond (all their precision), to keep ws.json small."""
    return [round(t, 3) for t in times_ms]


async def concurrent_echoes(
    url: str, spec: StackSpec, args: argparse.Namespace, processes: list[ServerProcess]
) -> dict[str, Any]:
    """The many-clients echo run, with the cores each server process (interface first, then
    the workers) kept busy: its CPU seconds over the call (the handshakes and closes add a
    little) per second of the measured run. Near 1 is the bottleneck."""
    meter = CpuMeter([process.pid for process in processes])
    report = await wsload.echo(url, args.clients, args.per_client, spec.expect, args.processes)
    wall = max(report.finished - report.started, 1e-3)
    cores = [seconds / wall for seconds in meter.used()]
    return report.summary() | {"cpu_cores": cores, "rtts_ms": microseconds(report.rtts_ms)}


async def sequential_echoes(
    url: str, spec: StackSpec, echoes: int, pids: list[int], redis_pids: tuple[int, ...]
) -> dict:
    """The one-client run, with the CPU each server process of ``pids`` (interface, workers)
    and Redis (every node of a cluster together) spent per answered echo, in microseconds:
    what one round trip costs each of them."""
    meter = CpuMeter([*pids, *redis_pids])
    report = await wsload.echo(url, 1, echoes, spec.expect, processes=1)
    used = meter.used()
    if redis_pids:
        used[len(pids) :] = [sum(used[len(pids) :])]
    per_echo = [seconds * 1e6 / max(report.ok, 1) for seconds in used]
    return report.summary() | {"cpu_us_per_echo": per_echo, "rtts_ms": microseconds(report.rtts_ms)}


async def idle_sockets(url: str, count: int, interface: ServerProcess) -> dict[str, Any]:
    """Opens ``count`` sockets and holds them: the interface's RSS growth per socket (KiB)."""
    handle = psutil.Process(interface.pid)
    before = handle.memory_info().rss
    sockets, failures = await wsload.open_sockets(url, count, IDLE_CONCURRENCY)
    await asyncio.sleep(SETTLE)
    after = handle.memory_info().rss
    still_open = wsload.count_open(sockets)
    await wsload.close_sockets(sockets)
    return {
        "opened": len(sockets),
        "failed": count - len(sockets),
        "connect_errors": dict(failures),
        "still_open": still_open,
        "rss_before_mib": before / 2**20,
        "rss_after_mib": after / 2**20,
        "rss_kib_per_socket": (after - before) / 1024 / max(1, len(sockets)),
    }


async def idle_cpu(interface: ServerProcess, workers: list[ServerProcess], seconds: float) -> dict:
    """CPU seconds each process uses over ``seconds`` with no socket open and nothing sent,
    and how busy the whole machine was meanwhile (percent of all its cores)."""
    await asyncio.sleep(SETTLE)
    meter = CpuMeter([process.pid for process in (interface, *workers)])
    psutil.cpu_percent(None)
    await asyncio.sleep(seconds)
    machine = psutil.cpu_percent(None)
    used = meter.used()
    return {
        "seconds": seconds,
        "interface_cpu_s": used[0],
        "worker_cpu_s": used[1:],
        "machine_cpu_percent": machine,
    }


async def load_scenarios(
    stack: Stack,
    spec: StackSpec,
    url: str,
    interface: ServerProcess,
    workers: list[ServerProcess],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The scenarios after the sequential echoes: many clients with one worker and then two,
    the broadcast, idle sockets and idle CPU (each stack runs those it can)."""
    result = {"concurrent_1w": await concurrent_echoes(url, spec, args, [interface, *workers])}
    if spec.layer is not None:
        workers.append(stack.start_worker("--threads", str(args.threads), name="worker-2"))
        result["concurrent_2w"] = await concurrent_echoes(url, spec, args, [interface, *workers])
        result["broadcast"] = await wsbroadcast.broadcast(
            stack.url(BROADCAST_URL_PATH), args.members, args.broadcasts
        )
    result["idle_sockets"] = await idle_sockets(url, args.idle_sockets, interface)
    result["idle_cpu"] = await idle_cpu(interface, workers, args.idle_seconds)
    return result


async def run_stack(
    spec: StackSpec,
    redis: RedisServer | None,
    log_dir: Path,
    tag: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Starts ``spec``'s processes on ``redis`` (None: the floor, which uses none), runs every
    scenario on them, stops them; returns figures (and ``error`` if a process or a client
    child failed: the scenarios after it are absent)."""
    redis_url, redis_pids = (redis.url, redis.pids) if redis else ("", ())
    stack = Stack(redis_url, log_dir, settings="bench.settings", root=spec.root)
    stack.env["BENCH_PREFIX"] = f"wsbench{tag}"
    stack.env["DJANGO_DEBUG"] = "0"  # as deployed: no query log, no debug pages
    stack.env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    if spec.layer is not None:
        stack.env["BENCH_LAYER"] = spec.layer
    result: dict[str, Any] = {"load_average": os.getloadavg()}
    foreign = ForeignLoad()
    workers: list[ServerProcess] = []
    try:
        if spec.layer is None:
            interface = start_floor(stack)
        elif spec.minimal:
            workers.append(start_minimal_worker(stack))
            interface = stack.start_daphne()
        else:
            migrate(stack)
            workers.append(stack.start_worker("--threads", str(args.threads), name="worker-1"))
            interface = stack.start_daphne()
        url = stack.url(spec.echo_path)
        await wsload.echo_in_process(url, 1, WARMUP_ECHOES, spec.expect)
        pids = [interface.pid, *(worker.pid for worker in workers)]
        result["sequential"] = await sequential_echoes(url, spec, args.echoes, pids, redis_pids)
        if not spec.minimal:
            result |= await load_scenarios(stack, spec, url, interface, workers, args)
        result["foreign_cores"] = foreign.cores()
    except (RuntimeError, subprocess.SubprocessError) as error:
        # A stack that cannot start (or whose client children fail) costs its figures only.
        # Its first line and the exception it ends with; the logs hold the rest.
        lines = [line for line in str(error).splitlines() if line.strip()] or [""]
        ending = f" ... {lines[-1].strip()}" if len(lines) > 1 else ""
        result["error"] = f"{type(error).__name__}: {lines[0]}{ending}"
    finally:
        alive = {process.name: process.alive() for process in stack.processes}
        stack.stop()
        result["processes"] = {
            process.name: {
                "alive_until_stopped": alive[process.name],
                "exit_status": process.process.returncode,
                "log": str(process.log_path),
                "notable": ws_report.notable_lines(process.log()),
            }
            for process in stack.processes
        }
    return result


def chosen_stacks(args: argparse.Namespace, baseline: Path | None) -> list[StackSpec]:
    """The stacks to run, in order: all of them, the baseline after djchan, each on the Redis
    kinds of ``--redis`` it can run on (its cluster twin right after it), or ``--stacks``."""
    bases = list(STACKS)
    if baseline is not None:
        djchan = bases[1]
        bases.insert(2, replace(djchan, name=f"djchan@{args.baseline}", root=baseline))
    stacks = []
    for spec in bases:
        if spec.redis is None or SINGLE in args.redis:
            stacks.append(spec)
        if spec.runs_on_a_cluster and CLUSTER in args.redis:
            stacks.append(replace(spec, name=cluster_name(spec.name), redis=CLUSTER))
    if args.stacks:
        wanted = args.stacks.split(",")
        unknown = set(wanted) - {spec.name for spec in stacks}
        if unknown:
            known = ", ".join(spec.name for spec in stacks)
            raise SystemExit(f"--stacks: no stack named {sorted(unknown)}; there are: {known}")
        stacks = [spec for spec in stacks if spec.name in wanted]
    return stacks


async def run(
    args: argparse.Namespace, stacks: list[StackSpec], log_root: Path
) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {spec.name: [] for spec in stacks}
    kinds = [spec.redis for spec in stacks if spec.redis is not None]
    with redis_servers.started(kinds, cluster_shards=args.cluster_shards) as servers:
        for round_number in range(1, args.rounds + 1):
            for n, spec in enumerate(stacks):
                log_dir = log_root / f"round{round_number}" / re.sub(r"\W+", "-", spec.name)
                log_dir.mkdir(parents=True)
                started = time.monotonic()
                redis = servers[spec.redis] if spec.redis else None
                result = await run_stack(spec, redis, log_dir, f"{round_number}x{n}", args)
                results[spec.name].append(result)
                print(
                    f"round {round_number} {spec.name}: {time.monotonic() - started:.0f} s, "
                    f"{ws_report.one_line(result)}",
                    flush=True,
                )
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a minute-long check")
    parser.add_argument("--rounds", type=int, default=3, help="runs of every stack")
    parser.add_argument("--threads", type=int, default=8, help="runworker --threads")
    parser.add_argument("--echoes", type=int, default=2000, help="sequential echoes, 1 client")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--per-client", type=int, default=200, help="echoes per client")
    parser.add_argument("--processes", type=int, help="client processes (default: wsload's)")
    parser.add_argument("--members", type=int, default=100, help="broadcast group size")
    parser.add_argument("--broadcasts", type=int, default=50, help="broadcasts timed")
    parser.add_argument("--idle-sockets", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="idle CPU window")
    parser.add_argument("--baseline", metavar="GIT-REF", help="also run djchan at this revision")
    parser.add_argument("--stacks", metavar="NAMES", help="run only these stacks (comma list)")
    parser.add_argument(
        "--redis",
        type=redis_servers.kinds_argument,
        default=[SINGLE],
        metavar="KINDS",
        help="single, cluster (a private 3-master Redis Cluster), or single,cluster: both, "
        "the djchan stacks on each",
    )
    parser.add_argument(
        "--cluster-shards", type=int, metavar="N", help="the layer's shards on the cluster"
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.echoes, args.clients, args.per_client = 1, 200, 10, 50
        args.members, args.broadcasts, args.idle_sockets, args.idle_seconds = 20, 10, 100, 2.0
    return args


def main() -> None:
    args = parse_args()
    log_root = Path(tempfile.mkdtemp(prefix="djchan-wsbench-"))
    started = time.monotonic()
    with checkout(args.baseline) as baseline:
        results = asyncio.run(run(args, chosen_stacks(args, baseline), log_root))
    elapsed = time.monotonic() - started
    print()
    print(ws_report.table(results, args))
    print()
    print(ws_report.problems(results))
    print(f"Process logs: {log_root} (whole run {elapsed:.0f} s)")
    RESULTS.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "elapsed_s": elapsed}
    document = {"args": vars(args), "machine": machine, "results": results}
    (RESULTS / "ws.json").write_text(json.dumps(document, indent=1))
    ws_report.plot(results, RESULTS / "ws_roundtrip.png")


if __name__ == "__main__":
    main()

"""Layer-level benchmark: the project's Redis layer beside channels_redis 4.3, one run.

    .venv/bin/python bench/layer_bench.py [--rounds 3] [--redis-url redis://...]
        [--baseline GIT-REF] [--stacks NAME,NAME...] [--redis single,cluster]

Starts a private Redis (unless --redis-url is given) and, for each layer in turn, round
after round so that machine noise hits both alike:

- ping-pong: a client process sends to a normal channel and waits for the answer on its own
  process channel; a server process (one receive loop, like a worker) answers. Round-trip
  p50 and p99.
- throughput: 50 concurrent senders in one process, 2 receiving processes on one normal
  channel, each process's connections warmed up first. Messages per second from first send
  to last receipt, and how many were lost or delivered twice.
- idle: CPU seconds a receiving process burns while blocked on an empty channel, and
  whether its receive is still alive afterwards.

Every round of every layer runs in processes of its own. With ``--baseline REF`` the
project's layer is also run from a temporary checkout of the git revision REF
(``djchan@REF``), right after ``djchan`` in every round: a before/after comparison in one
run. With ``--redis single,cluster`` the project's layer also runs on a private 3-master
Redis Cluster (``djchan (cluster)``, right after ``djchan``; channels_redis cannot run on a
cluster), and the table gives its ratio to the single Redis (bench/redis_servers.py).
``--cluster-shards N`` cuts the cluster into N shards instead of the layer's default (to
weigh a shard count). ``--stacks`` runs only the layers named (e.g. ``djchan,djchan@HEAD~3``).

Prints a table of medians over the rounds, and writes bench/results/layer.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
#: Where a round's processes import channels_classic from: this checkout, or a baseline's.
CODE_ENV = "LAYER_BENCH_CODE"
CODE = Path(os.environ.get(CODE_ENV, ROOT))
sys.path.insert(0, str(CODE))


LAYERS = {
    "djchan": "channels_classic.layers.redis.RedisChannelLayer",
    "channels_redis": "channels_redis.core.RedisChannelLayer",
}
CAPACITY = 1_000_000
#: Sends that warm a process's connections up: one per shard of a 16-shard cluster.
WARM_UP_SENDS = 16


def make_layer(kind: str, url: str, prefix: str) -> Any:
    module, _, name = LAYERS[kind].rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    return cls(hosts=[url], prefix=prefix, capacity=CAPACITY)


async def receive(layer: Any, kind: str, channel: str, batch: int) -> list[dict[str, Any]]:
    """One receive call the way each layer is best used by a worker."""
    if kind == "djchan":
        return [message for _, message in await layer.receive_batch([channel], batch)]
    return [await layer.receive(channel)]


# Child process roles ---------------------------------------------------------------------


async def role_echo(kind: str, url: str, prefix: str) -> None:
    """Answers every message on bench.ping to the channel named in its "reply" key."""
    layer = make_layer(kind, url, prefix)
    print("ready", flush=True)
    while True:
        for message in await receive(layer, kind, "bench.ping", 1):
            await layer.send(message["reply"], {"n": message["n"]})


async def warm_up(layer: Any, kind: str) -> None:
    """Connects what a throughput run uses before its clock starts: a message to each
    shard (the sends take turns over them), then one received, which every shard's
    listener waits for."""
    warm = f"bench.warm{os.getpid()}"
    for _ in range(WARM_UP_SENDS):
        await layer.send(warm, {})
    await receive(layer, kind, warm, 1)


async def role_sink(kind: str, url: str, prefix: str, batch: int) -> None:
    """Receives on bench.work; prints progress, then every number it got on SIGTERM."""
    layer = make_layer(kind, url, prefix)
    received: list[int] = []
    last = [0.0]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(15, stop.set)
    await warm_up(layer, kind)

    async def consume() -> None:
        while True:
            for message in await receive(layer, kind, "bench.work", batch):
                received.append(message["n"])
            last[0] = time.time()

    async def report() -> None:
        shown = -1
        while not stop.is_set():
            if len(received) != shown:
                shown = len(received)
                print(json.dumps({"count": shown, "last": last[0]}), flush=True)
            await asyncio.sleep(0.05)

    print("ready", flush=True)
    consumer = asyncio.ensure_future(consume())
    await report()
    consumer.cancel()
    print(json.dumps({"final": received, "last": last[0]}), flush=True)


async def role_idle(kind: str, url: str, prefix: str) -> None:
    """Blocks on an empty channel forever."""
    layer = make_layer(kind, url, prefix)
    print("ready", flush=True)
    await receive(layer, kind, "bench.idle", 1)


# Coordinator -------------------------------------------------------------------------------


class Child:
    """A role running in a child process, with its stdout lines collected."""

    def __init__(self, role: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--role", role, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"{role} child did not start: {ready!r}")
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(json.loads(line))

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(20)
        self._reader.join(20)


async def ping_pong(kind: str, url: str, prefix: str, count: int) -> dict[str, float]:
    echo = Child("echo", kind, url, prefix)
    layer = make_layer(kind, url, prefix)
    reply = await layer.new_channel("bench.reply")
    times = []
    try:
        async with asyncio.timeout(count * 0.1):
            for n in range(count + 100):
                started = time.perf_counter()
                await layer.send("bench.ping", {"n": n, "reply": reply})
                answer = await layer.receive(reply)
                assert answer["n"] == n
                if n >= 100:  # the first hundred warm up connections and scripts
                    times.append((time.perf_counter() - started) * 1000)
    finally:
        echo.stop()
    times.sort()
    return {"p50_ms": times[len(times) // 2], "p99_ms": times[int(len(times) * 0.99)]}


async def throughput(
    kind: str, url: str, prefix: str, senders: int, per_sender: int, batch: int
) -> dict[str, float]:
    sinks = [Child("sink", kind, url, prefix, str(batch)) for _ in range(2)]
    layer = make_layer(kind, url, prefix)
    await warm_up(layer, kind)
    total = senders * per_sender

    async def sender(first: int) -> None:
        for n in range(first, first + per_sender):
            await layer.send("bench.work", {"n": n, "text": "x" * 32})

    started = time.time()
    await asyncio.gather(*(sender(i * per_sender) for i in range(senders)))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if sum(sink.lines[-1]["count"] for sink in sinks if sink.lines) >= total:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # let duplicates, if any, arrive
    for sink in sinks:
        sink.stop()
    finals = [sink.lines[-1] for sink in sinks]
    everything = [n for final in finals for n in final["final"]]
    unique = set(everything)
    finished = max(final["last"] for final in finals)
    return {
        "msg_per_s": len(unique) / (finished - started),
        "duplicates": len(everything) - len(unique),
        "lost": total - len(unique),
        "share": min(len(f["final"]) for f in finals) / max(1, len(everything)),
    }


async def idle(kind: str, url: str, prefix: str, seconds: float) -> dict[str, float]:
    child = Child("idle", kind, url, prefix)
    await asyncio.sleep(1)
    before = latest = child.cpu_seconds()
    for _ in range(int(seconds)):
        await asyncio.sleep(1)
        if child.process.poll() is not None:
            break
        latest = child.cpu_seconds()
    alive = child.process.poll() is None
    used = latest - before
    child.stop()
    return {"idle_cpu_s": used, "idle_survived": float(alive)}


async def one_round(kind: str, url: str, prefix: str, args: argparse.Namespace) -> dict:
    """Every measurement of one round of ``kind``, in this process and its children."""
    result: dict[str, float] = {}
    result.update(await ping_pong(kind, url, prefix, args.round_trips))
    result.update(await throughput(kind, url, prefix, 50, args.per_sender, args.batch))
    if kind == "djchan":
        one = await throughput(kind, url, prefix, 50, args.per_sender, 1)
        result["msg_per_s_batch1"] = one["msg_per_s"]
        result["duplicates"] += one["duplicates"]
        result["lost"] += one["lost"]
    result.update(await idle(kind, url, prefix, args.idle_seconds))
    return result


#: A layer to run: its kind (a key of LAYERS), the checkout it is imported from, and the
#: kind of Redis it runs on (bench/redis_servers.py).
LayerStack = tuple[str, Path, str]


def chosen_stacks(args: argparse.Namespace, baseline: Path | None) -> dict[str, LayerStack]:
    """The layers to run, by name, in running order: each on the Redis kinds of ``--redis``
    it can run on (channels_redis on the single Redis only)."""
    from bench import redis_servers  # (see coordinate)

    layers = {"djchan": ("djchan", ROOT)}
    if baseline is not None:
        layers[f"djchan@{args.baseline}"] = ("djchan", baseline)
    layers["channels_redis"] = ("channels_redis", ROOT)
    stacks: dict[str, LayerStack] = {}
    for name, (kind, code) in layers.items():
        if redis_servers.SINGLE in args.redis:
            stacks[name] = (kind, code, redis_servers.SINGLE)
        if redis_servers.CLUSTER in args.redis and kind == "djchan":
            stacks[redis_servers.cluster_name(name)] = (kind, code, redis_servers.CLUSTER)
    if args.stacks:
        wanted = args.stacks.split(",")
        unknown = set(wanted) - set(stacks)
        if unknown:
            raise SystemExit(
                f"--stacks: no layer named {sorted(unknown)}; there are: {list(stacks)}"
            )
        stacks = {name: stack for name, stack in stacks.items() if name in wanted}
    return stacks


def run_round(kind: str, code: Path, url: str, prefix: str, args: argparse.Namespace) -> dict:
    """One round of ``kind``, in a process that imports channels_classic from ``code``."""
    sizes = [
        f"--round-trips={args.round_trips}",
        f"--per-sender={args.per_sender}",
        f"--batch={args.batch}",
        f"--idle-seconds={args.idle_seconds}",
    ]
    done = subprocess.run(
        [sys.executable, __file__, *sizes, "--role", "round", kind, url, prefix],
        env={**os.environ, CODE_ENV: str(code)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode:
        raise RuntimeError(f"a round of {kind} from {code} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def coordinate(args: argparse.Namespace) -> None:
    # Imported here: round processes of a baseline import the bench package of its checkout,
    # which may have neither.
    from bench import layer_report, redis_servers
    from bench.baseline import checkout

    try:
        args.redis = redis_servers.kinds_argument(args.redis)
    except argparse.ArgumentTypeError as error:
        raise SystemExit(f"--redis: {error}") from None

    with checkout(args.baseline) as baseline:
        stacks = chosen_stacks(args, baseline)
        kinds = [redis for _, _, redis in stacks.values()]
        results: dict[str, list[dict[str, float]]] = {name: [] for name in stacks}
        with redis_servers.started(kinds, args.redis_url, args.cluster_shards) as servers:
            for round_number in range(args.rounds):
                for n, (name, (kind, code, redis)) in enumerate(stacks.items()):
                    prefix = f"bench{round_number}x{n}"
                    result = run_round(kind, code, servers[redis].url, prefix, args)
                    results[name].append(result)
                    print(f"round {round_number + 1} {name}: {json.dumps(result)}", flush=True)
    print()
    print(layer_report.table(results))
    out = ROOT / "bench" / "results" / "layer.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "results": results}, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--per-sender", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=12.0)
    parser.add_argument("--redis-url", help="the single Redis to use instead of a private one")
    parser.add_argument(
        "--redis",
        default="single",
        metavar="KINDS",
        help="single, cluster (a private 3-master Redis Cluster), or single,cluster: both, "
        "the project's layer on each",
    )
    parser.add_argument(
        "--cluster-shards", type=int, metavar="N", help="the layer's shards on the cluster"
    )
    parser.add_argument("--baseline", metavar="GIT-REF", help="also run djchan at this revision")
    parser.add_argument("--stacks", metavar="NAMES", help="run only these layers (comma list)")
    parser.add_argument("--role", choices=["echo", "sink", "idle", "round"])
    args, rest = parser.parse_known_args()
    if args.role == "echo":
        asyncio.run(role_echo(*rest))
    elif args.role == "sink":
        asyncio.run(role_sink(rest[0], rest[1], rest[2], int(rest[3])))
    elif args.role == "idle":
        asyncio.run(role_idle(*rest))
    elif args.role == "round":
        print(json.dumps(asyncio.run(one_round(rest[0], rest[1], rest[2], args))), flush=True)
    else:
        coordinate(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

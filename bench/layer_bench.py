"""Layer-level benchmark: the project's Redis layer beside channels_redis 4.3, one run.

    .venv/bin/python bench/layer_bench.py [--rounds 3] [--redis-url redis://...]

Starts a private Redis (unless --redis-url is given) and, for each layer in turn, round
after round so that machine noise hits both alike:

- ping-pong: a client process sends to a normal channel and waits for the answer on its own
  process channel; a server process (one receive loop, like a worker) answers. Round-trip
  p50 and p99.
- throughput: 50 concurrent senders in one process, 2 receiving processes on one normal
  channel. Messages per second from first send to last receipt, and how many were lost or
  delivered twice.
- idle: CPU seconds a receiving process burns while blocked on an empty channel, and
  whether its receive is still alive afterwards.

Prints a table of medians over the rounds, and writes bench/results/layer.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels_classic.embedded_redis import EmbeddedRedis  # noqa: E402

LAYERS = {
    "djchan": "channels_classic.layers.redis.RedisChannelLayer",
    "channels_redis": "channels_redis.core.RedisChannelLayer",
}
CAPACITY = 1_000_000


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


async def role_sink(kind: str, url: str, prefix: str, batch: int) -> None:
    """Receives on bench.work; prints progress, then every number it got on SIGTERM."""
    layer = make_layer(kind, url, prefix)
    received: list[int] = []
    last = [0.0]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(15, stop.set)

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


async def one_round(kind: str, url: str, round_number: int, args: argparse.Namespace) -> dict:
    prefix = f"bench{round_number}{kind.replace('_', '')}"
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


def table(results: dict[str, list[dict[str, float]]]) -> str:
    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in results[kind])

    ours, theirs = "djchan", "channels_redis"
    rows = [
        ("ping-pong p50 (ms)", "p50_ms", "{:.3f}"),
        ("ping-pong p99 (ms)", "p99_ms", "{:.3f}"),
        ("50 senders, 2 receivers (msg/s)", "msg_per_s", "{:,.0f}"),
        ("duplicates (sum over rounds)", "duplicates", "{:.0f}"),
        ("lost (sum over rounds)", "lost", "{:.0f}"),
        ("idle receiver CPU (s)", "idle_cpu_s", "{:.3f}"),
        ("idle receivers still receiving afterwards", "idle_survived", "{:.0f}"),
    ]
    lines = [
        f"| figure | {ours} | {theirs} | {ours}/{theirs} |",
        "|---|---|---|---|",
    ]
    for label, key, fmt in rows:
        if key in ("duplicates", "lost", "idle_survived"):
            a = sum(r[key] for r in results[ours])
            b = sum(r[key] for r in results[theirs])
        else:
            a, b = median(ours, key), median(theirs, key)
        ratio = f"{a / b:.2f}" if b else "-"
        lines.append(f"| {label} | {fmt.format(a)} | {fmt.format(b)} | {ratio} |")
    one = median(ours, "msg_per_s_batch1")
    lines.append(
        f"| same, {ours} receiving one message per call (msg/s) | {one:,.0f} | "
        f"{median(theirs, 'msg_per_s'):,.0f} | {one / median(theirs, 'msg_per_s'):.2f} |"
    )
    return "\n".join(lines)


async def coordinate(args: argparse.Namespace) -> None:
    server = None
    url = args.redis_url
    if url is None:
        server = EmbeddedRedis()
        url = server.start()
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in LAYERS}
    try:
        for round_number in range(args.rounds):
            for kind in LAYERS:
                result = await one_round(kind, url, round_number, args)
                results[kind].append(result)
                print(f"round {round_number + 1} {kind}: {json.dumps(result)}", flush=True)
    finally:
        if server is not None:
            server.close()
    print()
    print(table(results))
    out = ROOT / "bench" / "results" / "layer.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "results": results}, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--per-sender", type=int, default=100)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=12.0)
    parser.add_argument("--redis-url")
    parser.add_argument("--role", choices=["echo", "sink", "idle"])
    args, rest = parser.parse_known_args()
    if args.role == "echo":
        asyncio.run(role_echo(*rest))
    elif args.role == "sink":
        asyncio.run(role_sink(rest[0], rest[1], rest[2], int(rest[3])))
    elif args.role == "idle":
        asyncio.run(role_idle(*rest))
    else:
        asyncio.run(coordinate(args))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

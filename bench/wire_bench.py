"""The Redis layer's own connections beside redis-py's clients, for what the layer sends.

    .venv/bin/python bench/wire_bench.py [--rounds 5] [--sends 5000] [--redis-url redis://...]

Starts a private Redis (unless --redis-url is given) and times the layer's send, the PUSH
script by its SHA1 with a 60-byte stored message, three ways each round, interleaved:

- sequential, async: one send after another on one event loop: the layer's ``CommandPipe``
  against redis-py's asyncio ``Redis.evalsha`` (hiredis parser, pooled connections);
- 50 concurrent, async: 50 tasks sending at once: the pipe writes what is concurrent in one
  batch, redis-py takes a pooled connection per command in flight;
- sequential, blocking: the layer's ``BlockingConnection`` (a consumer thread's sends)
  against redis-py's synchronous ``Redis.evalsha``.

Prints the medians over the rounds in µs per send (wall clock, this process's CPU beside
it), and writes bench/results/wire.json. ``docs/redis-layer.md`` keeps the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis
import redis.asyncio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels_classic.embedded_redis import EmbeddedRedis  # noqa: E402
from channels_classic.layers.redis import scripts  # noqa: E402
from channels_classic.layers.redis.wire.blocking import BlockingConnection  # noqa: E402
from channels_classic.layers.redis.wire.pipe import CommandPipe  # noqa: E402
from channels_classic.layers.redis.wire.redis_py import decode_hosts  # noqa: E402

CONCURRENCY = 50
MEMBER = b"m" * 60
#: The layer's default capacity: every send checks it.
CAPACITY = 100_000_000


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def push_args(n: int) -> tuple[list[bytes], list[object]]:
    """Keys and arguments of one send: a unique member, so that every send adds one."""
    score = time.time()
    return [b"wirebench.channel"], [
        repr(score - 60),
        60000,
        repr(score),
        MEMBER + b"%d" % n,
        CAPACITY,
    ]


def timed(sends: int, run: Callable[[], None]) -> tuple[float, float]:
    """(wall µs, CPU µs) per send of ``run()``."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    run()
    return (time.perf_counter() - wall) * 1e6 / sends, (cpu_seconds() - cpu) * 1e6 / sends


async def timed_async(sends: int, run: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    cpu, wall = cpu_seconds(), time.perf_counter()
    await run()
    return (time.perf_counter() - wall) * 1e6 / sends, (cpu_seconds() - cpu) * 1e6 / sends


async def async_round(url: str, sends: int) -> dict[str, tuple[float, float]]:
    pipe = CommandPipe(decode_hosts([url])[0])
    client = redis.asyncio.Redis.from_url(url)
    sha = scripts.push.sha
    await client.script_load(scripts.PUSH)

    async def ours_sequential() -> None:
        for n in range(sends):
            await pipe.run(scripts.push(*push_args(n)))

    async def theirs_sequential() -> None:
        for n in range(sends):
            keys, args = push_args(n)
            await client.evalsha(sha, len(keys), *keys, *args)

    async def ours_concurrent() -> None:
        async def sender(first: int) -> None:
            for n in range(first, first + sends // CONCURRENCY):
                await pipe.run(scripts.push(*push_args(n)))

        await asyncio.gather(*(sender(i * sends) for i in range(CONCURRENCY)))

    async def theirs_concurrent() -> None:
        async def sender(first: int) -> None:
            for n in range(first, first + sends // CONCURRENCY):
                keys, args = push_args(n)
                await client.evalsha(sha, len(keys), *keys, *args)

        await asyncio.gather(*(sender(i * sends) for i in range(CONCURRENCY)))

    figures = {}
    await ours_sequential()  # connect, load the script, warm up
    await theirs_sequential()
    for name, run in (
        ("sequential async: layer pipe", ours_sequential),
        ("sequential async: redis-py", theirs_sequential),
        ("50 concurrent async: layer pipe", ours_concurrent),
        ("50 concurrent async: redis-py", theirs_concurrent),
    ):
        figures[name] = await timed_async(sends, run)
    await pipe.close()
    await client.aclose()
    return figures


def blocking_round(url: str, sends: int) -> dict[str, tuple[float, float]]:
    ours = BlockingConnection(decode_hosts([url])[0])
    theirs = redis.Redis.from_url(url)
    sha = scripts.push.sha

    def ours_sequential() -> None:
        for n in range(sends):
            ours.call_many([scripts.push(*push_args(n))])

    def theirs_sequential() -> None:
        for n in range(sends):
            keys, args = push_args(n)
            theirs.evalsha(sha, len(keys), *keys, *args)

    ours_sequential()
    theirs_sequential()
    figures = {
        "sequential blocking: layer connection": timed(sends, ours_sequential),
        "sequential blocking: redis-py": timed(sends, theirs_sequential),
    }
    ours.close()
    theirs.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sends", type=int, default=5000)
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    server = None if args.redis_url else EmbeddedRedis()
    url = args.redis_url or server.start()  # type: ignore[union-attr]
    rounds: list[dict[str, tuple[float, float]]] = []
    try:
        for number in range(args.rounds):
            figures = asyncio.run(async_round(url, args.sends)) | blocking_round(url, args.sends)
            redis.Redis.from_url(url).delete("wirebench.channel")
            rounds.append(figures)
            print(f"round {number + 1}: {json.dumps(figures)}", flush=True)
    finally:
        if server is not None:
            server.close()
    print("\n| µs per send (median of rounds) | wall | CPU of this process |\n|---|---|---|")
    for name in rounds[0]:
        wall = statistics.median(figures[name][0] for figures in rounds)
        cpu = statistics.median(figures[name][1] for figures in rounds)
        print(f"| {name} | {wall:.1f} | {cpu:.1f} |")
    out = ROOT / "bench" / "results" / "wire.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "rounds": rounds}, indent=1))


if __name__ == "__main__":
    main()

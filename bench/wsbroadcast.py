"""Group broadcast timing: how long one frame takes to reach every member of a group.

    .venv/bin/python bench/wsbroadcast.py ws://127.0.0.1:8000/broadcast/ --members 100

Opens ``--members`` sockets on a path whose connect consumer adds them to one group and
whose receive consumer sends each frame to that group (bench/routing.py's /broadcast/).
Then, ``--rounds`` times, one member (a different one each round) sends a frame, and the
time from that send until every member, the sender included, has received it is one
sample. Rounds run one after another; a member that has not received the frame within
wsload.REPLY_TIMEOUT counts as a lost delivery and the round gets no sample. The report is
JSON on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadreport import collector_paused, percentile  # noqa: E402
from bench.wsload import REPLY_TIMEOUT, close_sockets, open_sockets  # noqa: E402

#: What every broadcast frame starts with, to tell a late copy from a wrong frame.
BROADCAST_TAG = "broadcast-"


async def _delivery(
    socket: ClientConnection, text: str, seen: set[str], tally: Counter[str]
) -> float | None:
    """Reads ``socket`` until ``text`` arrives; returns when (perf_counter), or None if it did
    not within REPLY_TIMEOUT. A frame seen before counts as a duplicate, an earlier broadcast
    that missed its own round as late, anything else as wrong."""
    try:
        async with asyncio.timeout(REPLY_TIMEOUT):
            while (reply := await socket.recv()) != text:
                if reply in seen:
                    tally["duplicates"] += 1
                else:
                    tally["late" if reply.startswith(BROADCAST_TAG) else "wrong"] += 1
                seen.add(reply)
    except (TimeoutError, ConnectionClosed):
        return None
    seen.add(text)
    return time.perf_counter()


async def broadcast(url: str, members: int, rounds: int, concurrency: int = 50) -> dict[str, Any]:
    """Times ``rounds`` broadcasts to ``members`` sockets, the sender changing each round.

    Returns p50/p99 (ms) over the rounds every member got, from the send until the last
    member has the frame; ``lost`` deliveries (not within REPLY_TIMEOUT), late, duplicate and
    wrong frames; ``times_ms``, every complete round's time."""
    sockets, failures = await open_sockets(url, members, concurrency)
    seen: list[set[str]] = [set() for _ in sockets]
    tally: Counter[str] = Counter()
    times_ms: list[float] = []
    try:
        with collector_paused():
            for n in range(rounds if sockets else 0):
                text = f"{BROADCAST_TAG}{n}"
                began = time.perf_counter()
                await sockets[n % len(sockets)].send(text)
                arrivals = await asyncio.gather(
                    *(_delivery(socket, text, seen[i], tally) for i, socket in enumerate(sockets))
                )
                received = [t for t in arrivals if t is not None]
                tally["lost"] += len(sockets) - len(received)
                if len(received) == len(sockets):
                    times_ms.append((max(received) - began) * 1000)
    finally:
        await close_sockets(sockets)
    return {
        "members": len(sockets),
        "failed_connects": members - len(sockets),
        "connect_errors": dict(failures),
        "rounds": rounds,
        "complete_rounds": len(times_ms),
        "p50_ms": percentile(times_ms, 0.50),
        "p99_ms": percentile(times_ms, 0.99),
        **{key: tally[key] for key in ("lost", "late", "duplicates", "wrong")},
        "times_ms": times_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50, help="handshakes at a time")
    args = parser.parse_args()
    result = asyncio.run(broadcast(args.url, args.members, args.rounds, args.concurrency))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

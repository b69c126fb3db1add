"""A WebSocket load tool: many clients echoing in sequence, or many idle sockets.

    .venv/bin/python bench/wsload.py echo ws://127.0.0.1:8000/chat/ --clients 50 --echoes 200
    .venv/bin/python bench/wsload.py echo ws://127.0.0.1:8001/ --expect '{text}'
    .venv/bin/python bench/wsload.py idle ws://127.0.0.1:8000/chat/ --sockets 1000 --hold 10

echo: every client opens one socket, then sends a unique text, waits for its reply, records
the round trip and sends the next, ``--echoes`` times. A reply must equal ``--expect`` with
``{text}`` replaced by the text sent ("You said: {text}" for the demo's echo consumer,
"{text}" for bench/floor_app.py). A reply to an earlier frame that was already answered is a
duplicate, one that came after its wait timed out is late, one that matches nothing this
client sent is wrong; frames whose reply never came are lost.

How the load is split: ``--processes P`` (default: one per 25 clients, at most the machine's
cores) runs the clients in P child processes, clients dealt out evenly, one asyncio loop
each, because one Python process tops out near the rate a single core can frame and parse.
Each child opens all its sockets, says so, and waits; the parent then starts every child
with one line on its stdin, so that interpreter start and handshakes are not measured.
Messages per second are all correct replies divided by the wall-clock time from the first
send in any process to the last correct reply in any process. The children share the cores
with the server under test, as any client on the same machine would. With one process (up
to 25 clients by default) the clients run in the calling process, without children.

idle: opens ``--sockets`` sockets (``--concurrency`` handshakes at a time), holds them
``--hold`` seconds without sending anything, and reports how many opened and stayed open.

Every wait has a timeout and every loop a count; a run that passes ``--time-limit`` stops
sending and reports what it got. The report is JSON on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadreport import LoadReport, collector_paused  # noqa: E402

#: What the demo's echo consumer answers; bench/floor_app.py answers "{text}".
DEMO_EXPECT = "You said: {text}"
#: Seconds a handshake may take before the socket counts as failed.
OPEN_TIMEOUT = 10.0
#: Seconds the closing handshakes of a set of sockets may take before they are cut.
CLOSE_TIMEOUT = 10.0
#: Seconds one reply is waited for before it counts as lost.
REPLY_TIMEOUT = 5.0
#: Seconds spent after the last echo listening for duplicates and late replies.
DRAIN = 0.3
#: Seconds a whole run may take before it stops sending and reports.
TIME_LIMIT = 120.0
#: Clients per child process when --processes is not given.
CLIENTS_PER_PROCESS = 25


async def open_socket(url: str) -> ClientConnection:
    """One client socket: no compression and no client pings, so that both stacks do the same
    work per frame; no proxy from the environment."""
    return await connect(
        url, compression=None, ping_interval=None, proxy=None, open_timeout=OPEN_TIMEOUT
    )


async def open_sockets(
    url: str, count: int, concurrency: int
) -> tuple[list[ClientConnection], Counter[str]]:
    """Opens ``count`` sockets, ``concurrency`` handshakes at a time; returns the open ones and
    the failures counted by error (refused, rejected with a status, timed out...)."""
    gate = asyncio.Semaphore(concurrency)
    failures: Counter[str] = Counter()

    async def one() -> ClientConnection | None:
        async with gate:
            try:
                return await open_socket(url)
            except Exception as error:  # whatever stops a handshake is a failed socket
                failures[f"{type(error).__name__}: {error}"[:120]] += 1
                return None

    opened = await asyncio.gather(*(one() for _ in range(count)))
    return [socket for socket in opened if socket is not None], failures


def count_open(sockets: list[ClientConnection]) -> int:
    """How many of ``sockets`` are still open (neither side has closed them)."""
    return sum(socket.state is State.OPEN for socket in sockets)


async def close_sockets(sockets: list[ClientConnection]) -> None:
    """Closes every socket; those whose closing handshake takes over CLOSE_TIMEOUT are cut."""
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    except TimeoutError:
        for socket in sockets:
            socket.transport.abort()


# Echo ---------------------------------------------------------------------------------------


@dataclass
class EchoReport(LoadReport):
    """What an echo run got (see LoadReport); a correct answer is a correct reply."""

    COUNTS = (
        "clients", "failed_connects", "sent", "lost", "late", "duplicates", "wrong", "unsent",
        "closed_early",
    )  # fmt: skip
    RATE = "msg_per_s"

    clients: int = 0
    failed_connects: int = 0
    connect_errors: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    lost: int = 0
    late: int = 0
    duplicates: int = 0
    wrong: int = 0
    unsent: int = 0
    closed_early: int = 0
    timed_out: bool = False

    def merge(self, other: LoadReport) -> None:
        assert isinstance(other, EchoReport)
        super().merge(other)
        self.connect_errors = dict(Counter(self.connect_errors) + Counter(other.connect_errors))
        self.timed_out = self.timed_out or other.timed_out


async def _echo_client(
    socket: ClientConnection,
    tag: str,
    echoes: int,
    expect: str,
    deadline: float,
    report: EchoReport,
) -> None:
    """Runs one client's sequential echoes into ``report`` (shared by the process's clients)."""
    answered: set[str] = set()
    overdue: set[str] = set()

    def classify(reply: Any) -> None:
        if reply in answered:
            report.duplicates += 1
        elif reply in overdue:
            overdue.discard(reply)
            answered.add(reply)
            report.late += 1
        else:
            report.wrong += 1

    async def wait_for(wanted: str | None, until: float) -> bool:
        """Reads replies until ``wanted`` comes (True) or ``until`` passes (False)."""
        try:
            async with asyncio.timeout_at(until):
                while True:
                    reply = await socket.recv()
                    if reply == wanted:
                        return True
                    classify(reply)
        except TimeoutError:
            return False

    loop = asyncio.get_running_loop()
    sent = 0
    try:
        for n in range(echoes):
            if loop.time() >= deadline:
                report.timed_out = True
                break
            text = f"{tag}-{n}"
            wanted = expect.format(text=text)
            began = time.perf_counter()
            await socket.send(text)
            sent += 1
            report.sent += 1
            if await wait_for(wanted, min(loop.time() + REPLY_TIMEOUT, deadline)):
                report.rtts_ms.append((time.perf_counter() - began) * 1000)
                report.ok += 1
                report.finished = max(report.finished, time.time())
                answered.add(wanted)
            else:
                overdue.add(wanted)
        await wait_for(None, loop.time() + DRAIN)
    except ConnectionClosed:
        report.closed_early += 1
    report.unsent += echoes - sent
    report.lost += len(overdue)


async def _connect_clients(url: str, clients: int) -> tuple[list[ClientConnection], EchoReport]:
    sockets, failures = await open_sockets(url, clients, concurrency=clients)
    report = EchoReport(clients=clients, failed_connects=clients - len(sockets))
    report.connect_errors = dict(failures)
    return sockets, report


async def _run_echoes(
    sockets: list[ClientConnection],
    report: EchoReport,
    tag: str,
    echoes: int,
    expect: str,
    time_limit: float,
) -> EchoReport:
    """Runs the clients of open ``sockets`` at once, then closes them."""
    report.unsent += report.failed_connects * echoes
    deadline = asyncio.get_running_loop().time() + time_limit
    report.started = time.time()
    try:
        with collector_paused():
            await asyncio.gather(
                *(
                    _echo_client(socket, f"{tag}.{i}", echoes, expect, deadline, report)
                    for i, socket in enumerate(sockets)
                )
            )
    finally:
        await close_sockets(sockets)
    return report


async def echo_in_process(
    url: str, clients: int, echoes: int, expect: str = DEMO_EXPECT, time_limit: float = TIME_LIMIT
) -> EchoReport:
    """Runs ``clients`` × ``echoes`` sequential echoes in this process's event loop."""
    sockets, report = await _connect_clients(url, clients)
    return await _run_echoes(sockets, report, "c0", echoes, expect, time_limit)


async def echo(
    url: str,
    clients: int,
    echoes: int,
    expect: str = DEMO_EXPECT,
    processes: int | None = None,
    time_limit: float = TIME_LIMIT,
) -> EchoReport:
    """Runs the echo load over ``processes`` child processes started together (see the module
    docstring); with one process, runs it here. Returns the merged report."""
    if processes is None:
        processes = min(os.cpu_count() or 1, -(-clients // CLIENTS_PER_PROCESS))
    if processes <= 1:
        return await echo_in_process(url, clients, echoes, expect, time_limit)
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, __file__, "echo-child", url, str(share), str(echoes), expect,
            str(time_limit), f"c{i}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for i, share in enumerate(shares)
    ]  # fmt: skip
    report = EchoReport()
    try:
        async with asyncio.timeout(OPEN_TIMEOUT * 2):
            for child in children:
                assert child.stdout is not None
                if (await child.stdout.readline()).strip() != b"ready":
                    raise RuntimeError(f"echo child {child.pid} did not open its sockets")
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            await child.stdin.drain()
        async with asyncio.timeout(time_limit + REPLY_TIMEOUT + DRAIN + OPEN_TIMEOUT * 2):
            outputs = await asyncio.gather(*(child.communicate() for child in children))
        for stdout, _ in outputs:
            report.merge(EchoReport(**json.loads(stdout)))
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()
    return report


async def _echo_child(
    url: str, clients: int, echoes: int, expect: str, limit: str, tag: str
) -> None:
    """A child of ``echo``: opens its sockets, prints "ready", waits for a line, runs."""
    sockets, report = await _connect_clients(url, clients)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await _run_echoes(sockets, report, tag, echoes, expect, float(limit))
    print(json.dumps(asdict(report)), flush=True)


# Command line -------------------------------------------------------------------------------


async def _idle(url: str, sockets: int, concurrency: int, hold: float) -> dict[str, Any]:
    opened, failures = await open_sockets(url, sockets, concurrency)
    await asyncio.sleep(hold)
    still_open = count_open(opened)
    await close_sockets(opened)
    return {"opened": len(opened), "failures": failures, "still_open_after_hold": still_open}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    echo_args = commands.add_parser("echo", help="N clients × M sequential echoes")
    echo_args.add_argument("url")
    echo_args.add_argument("--clients", type=int, default=1)
    echo_args.add_argument("--echoes", type=int, default=1000)
    echo_args.add_argument("--expect", default=DEMO_EXPECT, help="the reply, {text} = sent")
    echo_args.add_argument("--processes", type=int, help="client processes (default: auto)")
    echo_args.add_argument("--time-limit", type=float, default=TIME_LIMIT)
    echo_args.add_argument("--raw", action="store_true", help="include every round trip")
    idle_args = commands.add_parser("idle", help="hold K idle sockets open")
    idle_args.add_argument("url")
    idle_args.add_argument("--sockets", type=int, default=1000)
    idle_args.add_argument("--concurrency", type=int, default=50, help="handshakes at a time")
    idle_args.add_argument("--hold", type=float, default=10.0, help="seconds")
    child_args = commands.add_parser("echo-child", help=argparse.SUPPRESS)
    child_args.add_argument("child", nargs=6)
    args = parser.parse_args()
    if args.command == "echo-child":
        url, clients, echoes, expect, limit, tag = args.child
        asyncio.run(_echo_child(url, int(clients), int(echoes), expect, limit, tag))
        return
    if args.command == "echo":
        report = asyncio.run(
            echo(args.url, args.clients, args.echoes, args.expect, args.processes, args.time_limit)
        )
        result = report.summary() | ({"rtts_ms": report.rtts_ms} if args.raw else {})
    else:
        result = asyncio.run(_idle(args.url, args.sockets, args.concurrency, args.hold))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""An HTTP load tool: keep-alive connections, each sending GETs one after the other.

    .venv/bin/python bench/httpload.py http://127.0.0.1:8000/bench/hello/ --connections 50 \
        --requests 100 [--expect '{"hello": "world"}']

Every connection opens once, then sends a request, reads the whole response (Content-Length
or chunked), records the round trip and sends the next, ``--requests`` times. A response
that is not 200 with ``--expect`` as its body (when given) counts as bad, one that does not
come within REPLY_TIMEOUT as lost (its connection stops). Requests per second are good
responses divided by the wall-clock time from the first request to the last response.

The connections are split over ``--processes`` child processes (default: one per 25), one
asyncio loop each, like wsload.py: they connect first, then all start on one line from the
parent. The report is JSON on stdout. Every wait has a timeout; --time-limit bounds the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadreport import LoadReport, collector_paused  # noqa: E402

#: Seconds one response may take before it counts as lost.
REPLY_TIMEOUT = 10.0
#: Seconds a whole run may take before it stops and reports.
TIME_LIMIT = 120.0
CONNECTIONS_PER_PROCESS = 25


@dataclass
class HttpReport(LoadReport):
    """What an HTTP run got (see LoadReport); a correct answer is a 200 with the expected body."""

    COUNTS = ("connections", "failed_connects", "bad", "lost")
    RATE = "req_per_s"

    connections: int = 0
    failed_connects: int = 0
    bad: int = 0
    lost: int = 0


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of one HTTP/1.1 response (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:] if line)
    }
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body
        body += chunk[:-2]


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def open_connections(url: str, count: int) -> tuple[list[Connection], int]:
    """Opens ``count`` connections to ``url``'s server; returns them and how many failed."""
    parts = urlsplit(url)
    opened, failed = [], 0
    for _ in range(count):
        try:
            opened.append(await asyncio.open_connection(parts.hostname, parts.port or 80))
        except OSError:
            failed += 1
    return opened, failed


async def drive(
    url: str, opened: list[Connection], requests: int, expect: bytes | None
) -> HttpReport:
    """Sends ``requests`` GETs on each connection, one after the other; returns the report."""
    parts = urlsplit(url)
    request = (
        f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    report = HttpReport(connections=len(opened))
    deadline = time.monotonic() + TIME_LIMIT

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(requests):
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            if not report.started:
                report.started = time.time()
            writer.write(request)
            try:
                async with asyncio.timeout(REPLY_TIMEOUT):
                    status, body = await read_response(reader)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                report.lost += 1
                return
            if status == 200 and (expect is None or body == expect):
                report.ok += 1
                report.rtts_ms.append((time.perf_counter() - started) * 1000)
                report.finished = time.time()
            else:
                report.bad += 1

    with collector_paused():
        await asyncio.gather(*(client(reader, writer) for reader, writer in opened))
    for _, writer in opened:
        writer.close()
    return report


async def _measure(url: str, connections: int, requests: int, expect: bytes | None) -> HttpReport:
    opened, failed = await open_connections(url, connections)
    report = await drive(url, opened, requests, expect)
    report.failed_connects = failed
    return report


def run(url: str, connections: int, requests: int, expect: bytes | None, processes: int) -> dict:
    """Runs the load (in child processes when more than one) and returns the summary."""
    if processes <= 1:
        return asyncio.run(_measure(url, connections, requests, expect)).summary()
    shares = [connections // processes + (i < connections % processes) for i in range(processes)]
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", url, "--connections", str(share),
             "--requests", str(requests)] + (["--expect", expect.decode()] if expect else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for share in shares
    ]  # fmt: skip
    for process in children:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    for process in children:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    total = HttpReport()
    for process in children:
        out, _ = process.communicate(timeout=TIME_LIMIT + 30)
        total.merge(HttpReport(**json.loads(out)))
    return total.summary()


async def child(url: str, connections: int, requests: int, expect: bytes | None) -> None:
    """A child process: opens its connections, says "ready", starts on a line from stdin."""
    opened, failed = await open_connections(url, connections)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    report = await drive(url, opened, requests, expect)
    report.failed_connects = failed
    print(json.dumps(asdict(report)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--expect", help="the body every response must have")
    parser.add_argument("--processes", type=int)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    expect = args.expect.encode() if args.expect else None
    if args.child:
        asyncio.run(child(args.url, args.connections, args.requests, expect))
        return
    processes = args.processes or max(1, -(-args.connections // CONNECTIONS_PER_PROCESS))
    print(json.dumps(run(args.url, args.connections, args.requests, expect, processes)))


if __name__ == "__main__":
    main()

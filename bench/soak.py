"""Soak: the demo's chat rooms under steady traffic for minutes, with workers redeployed.

    .venv/bin/python bench/soak.py [--minutes 10] [--sockets 200] [--rooms 20]
        [--every 2.0] [--restart-every 120]

Starts a private Redis and the demo as the Procfile deploys it, on the demo's own settings
(DEBUG off): daphne and two ``runworker --threads 8``. Logs in ``--sockets`` users, each on
one socket in one of ``--rooms`` rooms, each posting a chat message every ``--every``
seconds (jittered), which the room broadcasts to every socket in it. Every
``--restart-every`` seconds one worker (the two in turn) is stopped with SIGTERM and a new
one started, as a rolling deploy does.

Reports, per minute: messages sent, deliveries received (each message is due to every
socket of its room), the p99 of the delivery times (from the sender's send to each
member's receipt), the sockets closed, and the RSS of daphne, each worker slot and Redis.
At the end, after the senders stop and a settling time: deliveries lost and duplicated.
Target: nothing lost, flat memory. Writes bench/results/soak.json and soak.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels_classic.embedded_redis import EmbeddedRedis  # noqa: E402
from tests.support.processes import ServerProcess, Stack  # noqa: E402

RESULTS = ROOT / "bench" / "results"
#: Seconds after the last send during which deliveries still count.
SETTLE = 15.0
#: How often the processes' memory is read (seconds).
SAMPLE_EVERY = 5.0
#: Handshakes in flight at once while the sockets open.
OPEN_CONCURRENCY = 20
#: Makes the users and their logged-in sessions; prints their session keys as JSON.
MAKE_SESSIONS = """
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
store_class = import_module(settings.SESSION_ENGINE).SessionStore
keys = []
for n in range({count}):
    user = User.objects.create_user(f"soak{{n:04}}", password=None)
    store = store_class()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    keys.append(store.session_key)
print(json.dumps(keys))
"""


@dataclass
class Minute:
    """What one minute of the run saw."""

    sent: int = 0
    received: int = 0
    delays: list[float] = field(default_factory=list)
    closed: int = 0
    rss_mib: dict[str, float] = field(default_factory=dict)


class Soak:
    """The clients' side: who is in which room, what was sent, what arrived."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.started = time.monotonic()
        self.minutes: list[Minute] = [Minute()]
        self.members: Counter[str] = Counter()
        self.due: Counter[str] = Counter()  # message id -> deliveries owed
        self.got: Counter[str] = Counter()  # message id -> deliveries received
        self.sent_at: dict[str, float] = {}
        self.duplicated = 0  # a socket given the same message twice
        self.stop = asyncio.Event()
        #: Set once every socket is open: posting starts then, so that a room's members are
        #: all there when a message is owed to them.
        self.all_open = asyncio.Event()
        self.opened = 0

    def minute(self) -> Minute:
        """The minute of the run now (the settling time after the last counts in the last)."""
        index = min(int((time.monotonic() - self.started) // 60), int(self.args.minutes) - 1)
        index = max(index, 0)
        while len(self.minutes) <= index:
            self.minutes.append(Minute())
        return self.minutes[index]

    async def client(
        self, url: str, origin: str, room: str, name: str, opening: asyncio.Semaphore
    ) -> None:
        async with opening:
            ws = await connect(url, additional_headers={"Origin": origin}, open_timeout=30)
        async with ws:
            self.members[room] += 1
            self.opened += 1
            if self.opened == self.args.sockets:
                self.started = time.monotonic()
                self.all_open.set()
            reading = asyncio.ensure_future(self._read(ws))
            try:
                await self.all_open.wait()
                count = 0
                while not self.stop.is_set():
                    await asyncio.sleep(self.args.every * random.uniform(0.5, 1.5))
                    if self.stop.is_set():
                        break
                    count += 1
                    message_id = f"{name}:{count}"
                    self.due[message_id] = self.members[room]
                    self.sent_at[message_id] = time.monotonic()
                    self.minute().sent += 1
                    await ws.send(json.dumps({"text": message_id}))
                await asyncio.sleep(SETTLE)
            except ConnectionClosed:
                pass
            finally:
                reading.cancel()
                if ws.close_code is not None and not self.stop.is_set():
                    self.minute().closed += 1

    async def _read(self, ws: Any) -> None:
        seen: set[str] = set()
        try:
            async for text in ws:
                frame = json.loads(text)
                if frame.get("type") != "message" or frame.get("text") not in self.sent_at:
                    continue
                message_id = frame["text"]
                if message_id in seen:
                    self.duplicated += 1
                    continue
                seen.add(message_id)
                self.got[message_id] += 1
                minute = self.minute()
                minute.received += 1
                minute.delays.append(time.monotonic() - self.sent_at[message_id])
        except ConnectionClosed:
            pass

    def totals(self) -> dict[str, int]:
        lost = sum(max(0, due - self.got[mid]) for mid, due in self.due.items())
        return {
            "sent": sum(m.sent for m in self.minutes),
            "due": sum(self.due.values()),
            "received": sum(self.got.values()),
            "lost": lost,
            "duplicated": self.duplicated,
            "closed": sum(m.closed for m in self.minutes),
        }


def sessions(stack: Stack, count: int) -> list[str]:
    shell = stack.manage("shell", "-c", MAKE_SESSIONS.format(count=count))
    return json.loads(shell.stdout.strip().splitlines()[-1])


async def restart_workers(stack: Stack, workers: list[ServerProcess], soak: Soak) -> list[int]:
    """Every --restart-every seconds, one worker (in turn) stopped and a new one started;
    returns each stopped worker's exit status."""
    statuses: list[int] = []
    turn = 0
    while not soak.stop.is_set():
        try:
            await asyncio.wait_for(soak.stop.wait(), soak.args.restart_every)
            break
        except TimeoutError:
            pass
        old = workers[turn]
        statuses.append(await asyncio.to_thread(old.stop))
        workers[turn] = await asyncio.to_thread(
            stack.start_worker, "--threads", "8", name=f"worker-{turn}-{len(statuses)}"
        )
        turn = 1 - turn
    return statuses


async def sample_memory(processes: dict[str, Any], soak: Soak) -> None:
    """The RSS of each process slot, every SAMPLE_EVERY seconds, kept per minute (the last
    sample of the minute; a slot's process may change with a restart)."""
    while not soak.stop.is_set():
        minute = soak.minute()
        for slot, pid in processes.items():
            try:
                rss = psutil.Process(pid()).memory_info().rss
            except psutil.NoSuchProcess:
                continue
            minute.rss_mib[slot] = rss / 2**20
        try:
            await asyncio.wait_for(soak.stop.wait(), SAMPLE_EVERY)
        except TimeoutError:
            pass


def p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def run(args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    with EmbeddedRedis() as redis:
        stack = Stack(redis.url, log_dir, settings="djchan.settings")
        stack.env |= {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        }
        try:
            stack.manage("migrate", "--noinput")
            keys = sessions(stack, args.sockets)
            workers = [stack.start_worker("--threads", "8", name=f"worker-{n}") for n in (0, 1)]
            daphne = stack.start_daphne()
            assert redis.process is not None
            redis_pid = redis.process.pid
            soak = Soak(args)
            processes = {
                "daphne": lambda: daphne.pid,
                "worker A": lambda: workers[0].pid,
                "worker B": lambda: workers[1].pid,
                "redis": lambda: redis_pid,
            }
            origin = f"http://127.0.0.1:{stack.port}"
            opening = asyncio.Semaphore(OPEN_CONCURRENCY)

            clients = []
            for n in range(args.sockets):
                room = f"soak-{n % args.rooms}"
                url = stack.url(f"/rooms/{room}/?session_key={keys[n]}")
                clients.append(
                    asyncio.ensure_future(soak.client(url, origin, room, f"u{n}", opening))
                )
            memory = asyncio.ensure_future(sample_memory(processes, soak))
            await asyncio.wait_for(soak.all_open.wait(), 120)
            restarts = asyncio.ensure_future(restart_workers(stack, workers, soak))
            await asyncio.sleep(args.minutes * 60)
            soak.stop.set()
            statuses = await restarts
            await asyncio.gather(*clients, return_exceptions=True)
            await memory
            return {
                "args": vars(args),
                "totals": soak.totals() | {"worker_exit_statuses": statuses},
                "minutes": [
                    {
                        "minute": index + 1,
                        "sent": m.sent,
                        "received": m.received,
                        "p99_ms": None if p99(m.delays) is None else p99(m.delays) * 1000,
                        "closed": m.closed,
                        "rss_mib": m.rss_mib,
                    }
                    for index, m in enumerate(soak.minutes)
                ],
            }
        finally:
            stack.stop()


def table(result: dict[str, Any]) -> str:
    slots = ["daphne", "worker A", "worker B", "redis"]
    lines = [
        "| minute | sent | received | p99 (ms) | closed | "
        + " | ".join(f"{s} RSS (MiB)" for s in slots)
        + " |",
        "|---" * (5 + len(slots)) + "|",
    ]
    for m in result["minutes"]:
        p99_text = "-" if m["p99_ms"] is None else f"{m['p99_ms']:.1f}"
        rss = " | ".join(f"{m['rss_mib'].get(s, 0):.1f}" for s in slots)
        counts = f"{m['sent']} | {m['received']} | {p99_text} | {m['closed']}"
        lines.append(f"| {m['minute']} | {counts} | {rss} |")
    totals = result["totals"]
    lines.append("")
    lines.append(
        f"sent {totals['sent']}, deliveries due {totals['due']}, received {totals['received']}, "
        f"lost {totals['lost']}, duplicated {totals['duplicated']}, sockets closed "
        f"{totals['closed']}, stopped workers' exit statuses {totals['worker_exit_statuses']}"
    )
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    # Each minute's figures at the middle of its minute; the restarts at their time.
    minutes = [m["minute"] - 0.5 for m in result["minutes"]]
    figure, (latency, memory) = pyplot.subplots(1, 2, figsize=(11, 4))
    latency.plot(minutes, [m["p99_ms"] or 0 for m in result["minutes"]], marker="o")
    latency.set(title="delivery p99 per minute", xlabel="minute", ylabel="ms")
    latency.set_ylim(bottom=0)
    for slot in ("daphne", "worker A", "worker B", "redis"):
        memory.plot(
            minutes, [m["rss_mib"].get(slot, 0) for m in result["minutes"]], marker="o", label=slot
        )
    memory.set(title="RSS per process, per minute", xlabel="minute", ylabel="MiB")
    memory.set_ylim(bottom=0)
    memory.legend()
    restarts = result["args"]["restart_every"] / 60
    for axis in (latency, memory):
        axis.set_xlim(0, result["args"]["minutes"])
        for at in range(1, int(result["args"]["minutes"] / restarts) + 1):
            axis.axvline(at * restarts, color="grey", linewidth=0.5, linestyle=":")
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between posts")
    parser.add_argument("--restart-every", type=float, default=120.0, help="seconds")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="djchan-soak-"))
    result = asyncio.run(run(args, log_dir))
    print(table(result))
    print(f"Process logs: {log_dir}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=1))
    plot(result, RESULTS / "soak.png")


if __name__ == "__main__":
    main()

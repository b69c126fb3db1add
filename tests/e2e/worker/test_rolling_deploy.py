"""End to end: a rolling deploy of the workers under steady traffic loses and repeats nothing.

Daphne and two `runworker --threads 8` on a private Redis; 20 clients on the demo's /chat/
echo each send a numbered frame every 10 ms. Ten times, one of the two workers gets SIGTERM
and a new one is started. Every frame must be answered exactly once, no socket may close,
and every stopped worker must exit 0.

The clients send together, and each SIGTERM goes out a few milliseconds after they did (a
little later each round): while their frames are on their way to the workers, which is when
a stopping worker is most likely to have a message in hand.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import time
from collections import Counter
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from tests.support.processes import ServerProcess, Stack

CLIENTS = 20
SEND_EVERY = 0.01
ROUNDS = 10
#: The first round's SIGTERM goes out this long after the clients sent; each later round's
#: SIGNAL_STEP later than the one before.
SIGNAL_AFTER, SIGNAL_STEP = 0.001, 0.0005
#: Traffic before the first round and between rounds, in seconds.
SETTLE = 0.3
#: How long the replies of the last frames may take once sending stops (under load).
DRAIN_TIMEOUT = 20.0
#: A client with this many frames unanswered skips its next sends until it has fewer: on a
#: machine too busy to keep up with 2000 frames a second the backlog stays this small
#: instead of growing past the drain time (at normal speed a client has one or two out).
MAX_OUTSTANDING = 50
#: How long a stopped worker may take to exit (it finishes what it took first).
EXIT_TIMEOUT = 20.0
REPLY_PREFIX = "You said: "


class EchoClient:
    """One socket: sends numbered frames, counts each number's replies."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.sent = 0
        self.replies: Counter[int] = Counter()
        self.unexpected: list[str] = []
        self.held_back = 0

    async def send_next(self) -> None:
        if self.sent - len(self.replies) >= MAX_OUTSTANDING:
            self.held_back += 1
            return
        await self.socket.send(str(self.sent))
        self.sent += 1

    async def read(self) -> None:
        async for reply in self.socket:
            if isinstance(reply, str) and reply.startswith(REPLY_PREFIX):
                self.replies[int(reply[len(REPLY_PREFIX) :])] += 1
            else:
                self.unexpected.append(repr(reply))

    def answered(self) -> int:
        return sum(1 for n in range(self.sent) if self.replies[n])

    def lost(self) -> list[int]:
        return [n for n in range(self.sent) if not self.replies[n]]

    def duplicated(self) -> list[int]:
        return [n for n, count in self.replies.items() if count > 1 or n >= self.sent]


class Traffic:
    """Every client sends its next frame every SEND_EVERY seconds, all together, until
    stopped; ``after_a_burst`` runs an action a moment after one of those sends."""

    def __init__(self, clients: list[EchoClient]) -> None:
        self.clients = clients
        self.stopped = asyncio.Event()
        self._action: tuple[float, Callable[[], None], asyncio.Future[None]] | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_burst = loop.time()
        while not self.stopped.is_set():
            await asyncio.gather(*(client.send_next() for client in self.clients))
            if self._action is not None:
                delay, action, done = self._action
                self._action = None
                loop.call_later(delay, action)
                done.set_result(None)
            # Late (a busy machine): the next burst in SEND_EVERY, not a catch-up at once.
            next_burst = max(next_burst + SEND_EVERY, loop.time())
            await asyncio.sleep(next_burst - loop.time())

    async def after_a_burst(self, delay: float, action: Callable[[], None]) -> None:
        done = asyncio.get_running_loop().create_future()
        self._action = (delay, action, done)
        await done
        await asyncio.sleep(delay)


async def wait_for_replies(clients: list[EchoClient]) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline and any(c.answered() < c.sent for c in clients):
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)  # room for a duplicate to show up


async def test_a_rolling_deploy_loses_nothing(stack: Stack):
    """Ten rounds of SIGTERM to one of two workers and a new worker started, under 20
    echoing clients: every frame answered exactly once, no socket closed, every stopped
    worker exits 0 (and says what it handed back, if anything)."""
    workers: list[ServerProcess] = [
        stack.start_worker("--threads", "8", name=f"worker-{n}") for n in range(2)
    ]
    stack.start_daphne()
    clients = [EchoClient(await connect(stack.url("/chat/"))) for _ in range(CLIENTS)]
    readers = [asyncio.ensure_future(client.read()) for client in clients]
    traffic = Traffic(clients)
    sending = asyncio.ensure_future(traffic.run())
    stopped: list[ServerProcess] = []
    exit_codes: list[int | None] = []
    try:
        await asyncio.sleep(SETTLE)
        for round_number in range(ROUNDS):
            old = workers.pop(0)
            delay = SIGNAL_AFTER + round_number * SIGNAL_STEP
            await traffic.after_a_burst(delay, functools.partial(old.signal, signal.SIGTERM))
            stopped.append(old)
            name = f"worker-{round_number + 2}"
            workers.append(await asyncio.to_thread(stack.start_worker, "--threads", "8", name=name))
            try:
                exit_codes.append(await asyncio.to_thread(old.process.wait, EXIT_TIMEOUT))
            except Exception:
                exit_codes.append(None)
            await asyncio.sleep(SETTLE)
        traffic.stopped.set()
        await sending
        await wait_for_replies(clients)
        closed = [c.socket.close_code for c in clients if c.socket.state is not State.OPEN]
    finally:
        traffic.stopped.set()
        for client in clients:
            await client.socket.close()
        await asyncio.gather(sending, *readers, return_exceptions=True)
    sent = sum(client.sent for client in clients)
    lost = sum(len(client.lost()) for client in clients)
    duplicates = sum(len(client.duplicated()) for client in clients)
    handed_back = sum(process.log().count("worker: handed back") for process in stopped)
    held_back = sum(client.held_back for client in clients)
    print(
        f"rolling deploy: {ROUNDS} rounds, {sent} frames sent, {lost} lost, {duplicates} "
        f"duplicated, {len(closed)} sockets closed, exit codes {exit_codes}, "
        f"{handed_back} stopped workers handed messages back, {held_back} sends held back"
    )
    assert [client.unexpected for client in clients if client.unexpected] == []
    assert closed == []
    assert exit_codes == [0] * ROUNDS
    assert [client.lost() for client in clients if client.lost()] == []
    assert [client.duplicated() for client in clients if client.duplicated()] == []
    assert sent >= CLIENTS * ROUNDS * SETTLE / SEND_EVERY / 2

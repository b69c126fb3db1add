"""End to end: a private Redis and real ``rundelay`` processes; delayed messages are read with
the project's Redis layer as any other process would."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

import pytest

from channels_classic.delay import DELAY_CHANNEL, delay_request
from channels_classic.layers.redis import RedisChannelLayer
from tests.support.processes import ServerProcess, Stack

#: How far from its delay a message may arrive (the issue's tolerance).
TOLERANCE = 1.0
LISTENING = "delay: listening on asgi.delay"


@pytest.fixture
def stack(stack):
    """The test's processes, with a migrated database."""
    stack.manage("migrate", "--noinput")
    return stack


@pytest.fixture
async def layer(stack):
    """The project's Redis layer on the stack's Redis, with the settings' (default) prefix."""
    channel_layer = RedisChannelLayer(hosts=[stack.redis_url])
    yield channel_layer
    await channel_layer.close()


def start_rundelay(stack: Stack, *extra: str) -> ServerProcess:
    process = ServerProcess(
        f"rundelay-{len(stack.processes)}",
        [sys.executable, "manage.py", "rundelay", *extra],
        stack.env,
        stack.log_dir,
    )
    stack.processes.append(process)
    process.wait_for_log(LISTENING)
    return process


async def test_messages_arrive_after_their_delay_past_a_bad_one(stack, layer):
    """Two delayed messages arrive on their channel in due order, each within a second of its
    delay, bytes intact; a bad request between them is logged and does not stop the server,
    which exits 0 on SIGTERM."""
    server = start_rundelay(stack)
    started = time.monotonic()
    await layer.send(DELAY_CHANNEL, dict(delay_request("test.later", {"body": b"\x00\xff"}, 2000)))
    await layer.send(DELAY_CHANNEL, {"channel": "test.later", "content": "oops", "delay": 10})
    await layer.send(DELAY_CHANNEL, dict(delay_request("test.later", {"n": 1}, 1000)))
    arrivals = []
    for _ in range(2):
        message = await asyncio.wait_for(layer.receive("test.later"), 2 + 2 * TOLERANCE)
        arrivals.append((message, time.monotonic() - started))
    assert [message for message, _ in arrivals] == [{"n": 1}, {"body": b"\x00\xff"}]
    assert abs(arrivals[0][1] - 1.0) <= TOLERANCE
    assert abs(arrivals[1][1] - 2.0) <= TOLERANCE
    assert (
        "delay: skipped a message: 'content' of a message on asgi.delay must be the dict to "
        "deliver to 'test.later', got str 'oops'"
    ) in server.log()
    assert server.alive()
    server.signal(signal.SIGTERM)
    assert server.process.wait(10) == 0
    assert "delay: SIGTERM received while" in server.log()
    assert "delay: stopped after storing 2 and sending 2 messages" in server.log()


async def test_a_stored_message_outlives_a_restart(stack, layer):
    """A message stored by one rundelay is sent on time by the next one, after a restart."""
    first = start_rundelay(stack, "-v", "2")
    started = time.monotonic()
    await layer.send(DELAY_CHANNEL, dict(delay_request("test.durable", {"n": 1}, 4000)))
    first.wait_for_log("delay: stored 1 message(s)")
    first.signal(signal.SIGTERM)
    assert first.process.wait(10) == 0
    start_rundelay(stack)
    message = await asyncio.wait_for(layer.receive("test.durable"), 4 + 2 * TOLERANCE)
    assert message == {"n": 1}
    assert abs(time.monotonic() - started - 4.0) <= TOLERANCE


def test_rundelay_refuses_an_unmigrated_database(private_redis, tmp_path):
    """Without the delay table, rundelay exits 1 and names the migrate command to run."""
    stack = Stack(private_redis().url, tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "rundelay"],
        cwd=stack.env["PYTHONPATH"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "run 'manage.py migrate channels_delay'" in result.stderr


async def test_two_servers_on_one_database_send_each_message_once(stack, layer):
    """A second rundelay started after the first stored a batch wakes for the same due date:
    both race over those messages, and each arrives exactly once."""
    count = 30
    first = start_rundelay(stack, "-v", "2")
    for n in range(count):
        await layer.send(DELAY_CHANNEL, dict(delay_request("test.once", {"n": n}, 3000)))
    deadline = time.monotonic() + 10
    while stored(first) < count:
        assert time.monotonic() < deadline, first.log()
        await asyncio.sleep(0.05)
    second = start_rundelay(stack, "-v", "2")
    received = [
        await asyncio.wait_for(layer.receive("test.once"), 3 + 2 * TOLERANCE) for _ in range(count)
    ]
    assert sorted(message["n"] for message in received) == list(range(count))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive("test.once"), TOLERANCE)
    sent = []
    for server in (first, second):
        server.signal(signal.SIGTERM)
        assert server.process.wait(10) == 0
        sent.append(int(server.log().split(" and sending ")[-1].split()[0]))
    assert sum(sent) == count, stack.logs()


def stored(server: ServerProcess) -> int:
    """How many messages ``server`` logged storing (at verbosity 2)."""
    return sum(
        int(line.split("delay: stored ")[1].split()[0])
        for line in server.log().splitlines()
        if "delay: stored " in line
    )

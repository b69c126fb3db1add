"""A worker on the project's Redis layer stopped at the moment its layer takes a message: the
message is handed back to Redis, in its place, and logged; nothing taken is lost."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import redis

from channels_classic import route
from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.signals import worker_ready
from channels_classic.worker import Worker

#: How long a test waits for something that should happen at once.
PROMPTLY = 5.0


def wait_until_blocked(raw: redis.Redis) -> None:
    """Waits until some client of ``raw``'s server is blocked in BZPOPMIN."""
    deadline = time.monotonic() + PROMPTLY
    while not any(client["cmd"] == "bzpopmin" for client in raw.client_list()):
        assert time.monotonic() < deadline, "the worker never blocked in BZPOPMIN"
        time.sleep(0.01)


def test_a_message_popped_as_the_worker_stops_goes_back_in_its_place(private_redis, prefix, caplog):
    """The worker waits in BZPOPMIN; in one turn of its loop a message is sent (Redis pops it
    for the worker at once) and the worker is stopped, so the pop's reply arrives after its
    receive was called off. The worker runs nothing, logs that it handed one message back,
    and both messages are on the channel again, oldest first."""
    caplog.set_level(logging.INFO, logger="channels_classic")
    server = private_redis()
    raw = redis.Redis.from_url(server.url)
    backend = RedisChannelLayer(hosts=[server.url], prefix=prefix)
    ran = []
    layer = ClassicLayer(backend, alias="test", routing=[route("test.job", ran.append)])
    worker = Worker(layer, install_signals=False, threads=8)
    loops: list[asyncio.AbstractEventLoop] = []

    def send_then_stop() -> None:
        backend.send_sync("test.job", {"n": 1})  # blocks this loop until Redis has popped it
        backend.send_sync("test.job", {"n": 2})
        worker.stop()

    def stop_while_popping() -> None:
        wait_until_blocked(raw)
        loops[0].call_soon_threadsafe(send_then_stop)

    def on_ready(sender, **kwargs):
        loops.append(asyncio.get_running_loop())
        threading.Thread(target=stop_while_popping).start()

    worker_ready.connect(on_ready)
    try:
        worker.run()
    finally:
        worker_ready.disconnect(on_ready)
    assert ran == []
    assert "worker: handed back 1 message(s)" in caplog.text
    reader = RedisChannelLayer(hosts=[server.url], prefix=prefix)

    async def read_both() -> list[dict]:
        batch = await asyncio.wait_for(reader.receive_batch(["test.job"], 2), PROMPTLY)
        await reader.close()
        return [message for _, message in batch]

    assert asyncio.run(read_both()) == [{"n": 1}, {"n": 2}]

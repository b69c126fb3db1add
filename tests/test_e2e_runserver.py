"""runserver: interface server and worker threads in one process, with no Redis at all."""

from __future__ import annotations

import asyncio
import http.client
import os
import sys

import pytest
from websockets.asyncio.client import connect

from channels_classic.embedded_redis import free_port
from tests.processes import ROOT, ServerProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def runserver(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(DJANGO_DATABASE=str(tmp_path / "db.sqlite3"), PYTHONPATH=str(ROOT))
    port = free_port()
    migrate = ServerProcess(
        "migrate", [sys.executable, "manage.py", "migrate", "--noinput"], env, tmp_path
    )
    assert migrate.process.wait(120) == 0, migrate.log()
    server = ServerProcess(
        "runserver",
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env,
        tmp_path,
    )
    server.wait_for_port(port)
    yield server, port
    assert server.stop() is not None
    print(server.log())


async def test_runserver_serves_pages_static_files_and_sockets(runserver):
    """The chat page and its script come from the worker threads, the echo socket works,
    and the console shows the requests."""
    server, port = runserver
    for path, expected in (("/", b"djchan chat"), ("/static/realtime/chat.js", b"WebSocket")):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200 and expected in response.read()
        connection.close()
    async with connect(f"ws://127.0.0.1:{port}/chat/") as socket:
        await socket.send("hello")
        assert await asyncio.wait_for(socket.recv(), 5) == "You said: hello"
    log = server.log()
    assert "Channel layer default (channels_classic.layers.inmemory" in log
    assert "HTTP GET / 200" in log
    assert "WebSocket CONNECT /chat/" in log

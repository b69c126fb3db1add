"""runserver: interface server and worker threads in one process, with no Redis at all; its
options (--noworker beside runworker on a shared Redis, --http_timeout, --noasgi) and the
autoreloader."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from channels_classic.embedded_redis import free_port
from tests.support.processes import DEVELOPMENT_ENV, ROOT, START_TIMEOUT, ServerProcess, run_manage

#: How long a response that must not wait for a timeout may take.
PROMPTLY = 5.0
#: Seconds a fixed file may take to restart the server (a reloader tick, then start-up).
RELOAD_TIMEOUT = 15.0
#: The line runserver prints each time it starts serving.
BANNER = "Starting djchan development server at"

StartRunserver = Callable[..., tuple[ServerProcess, int]]


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The demo's settings on the in-memory layer (no REDIS_URL), a database of the test's
    own, and ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "REDIS_CACHE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DEVELOPMENT_ENV,
        DJANGO_DATABASE=str(tmp_path / "db.sqlite3"),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def children(pid: int) -> list[int]:
    """The PIDs of a process's children (the autoreloader's serving process)."""
    listing = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in listing.read_text().split()] if listing.exists() else []


@pytest.fixture
def start_runserver(tmp_path) -> Iterator[StartRunserver]:
    """Starts ``manage.py runserver`` processes on free ports after migrating their database;
    stops them (and an autoreloader's child) by PID after the test, showing their logs."""
    started: list[ServerProcess] = []
    migrated: set[str] = set()

    def start(
        *options: str, env: dict[str, str], name: str = "runserver"
    ) -> tuple[ServerProcess, int]:
        if env["DJANGO_DATABASE"] not in migrated:
            result = run_manage(env, "migrate", "--noinput")
            assert result.returncode == 0, result.stderr
            migrated.add(env["DJANGO_DATABASE"])
        port = free_port()
        server = ServerProcess(
            name,
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", *options],
            env,
            tmp_path,
        )
        started.append(server)
        server.wait_for_port(port)
        return server, port

    yield start
    for server in reversed(started):
        for child in children(server.pid):
            os.kill(child, signal.SIGTERM)
        assert server.stop() is not None
        print(server.log())


def get(port: int, path: str = "/", timeout: float = 30) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


async def echo(port: int) -> str:
    async with connect(f"ws://127.0.0.1:{port}/chat/") as socket:
        await socket.send("hello")
        return await asyncio.wait_for(socket.recv(), PROMPTLY)


async def test_runserver_serves_pages_static_files_and_sockets(start_runserver, tmp_path):
    """The chat page and its script come from the worker threads, the echo socket works,
    and the console shows the requests."""
    server, port = start_runserver("--noreload", env=environment(tmp_path))
    for path, expected in (("/", b"djchan chat"), ("/static/realtime/chat.js", b"WebSocket")):
        status, body = get(port, path)
        assert status == 200 and expected in body
    assert await echo(port) == "You said: hello"
    server.wait_for_log("WebSocket CONNECT /chat/")
    log = server.log()
    assert "Channel layer default (channels_classic.layers.inmemory" in log
    assert "HTTP GET / 200" in log


async def test_noworker_with_runworker_on_a_shared_redis(start_runserver, private_redis, tmp_path):
    """runserver --noworker on a Redis layer runs no consumers itself: a runworker process
    beside it answers the page and the socket."""
    env = environment(tmp_path, REDIS_URL=private_redis().url)
    server, port = start_runserver("--noworker", "--noreload", env=env)
    assert "no workers" in server.log()
    worker = ServerProcess("runworker", [sys.executable, "manage.py", "runworker"], env, tmp_path)
    try:
        worker.wait_for_log("worker: listening on channels")
        status, body = get(port)
        assert status == 200 and b"djchan chat" in body
        assert await echo(port) == "You said: hello"
    finally:
        worker.stop()
        print(worker.log())


def test_http_timeout_option_without_workers_is_503(start_runserver, private_redis, tmp_path):
    """--http_timeout 1 with no worker anywhere: a request gets 503 after about a second."""
    env = environment(tmp_path, REDIS_URL=private_redis().url)
    _, port = start_runserver("--noworker", "--http_timeout", "1", "--noreload", env=env)
    started = time.monotonic()
    status, body = get(port)
    assert status == 503 and b"failed to respond within time limit" in body
    assert 0.9 < time.monotonic() - started < PROMPTLY


def test_noworker_on_the_in_memory_layer_is_refused(tmp_path):
    """--noworker with the in-memory layer stops at once, saying why and what to do."""
    port = free_port()
    result = run_manage(environment(tmp_path), "runserver", f"127.0.0.1:{port}", "--noworker")
    assert result.returncode == 1
    assert (
        "CommandError: --noworker with the channel layer default "
        "(channels_classic.layers.inmemory.InMemoryChannelLayer): no other process can reach "
        "it" in result.stderr
    )
    assert "run `manage.py runworker` beside runserver" in result.stderr


async def test_noasgi_serves_pages_but_no_sockets(start_runserver, tmp_path):
    """--noasgi is Django's own WSGI development server: pages work, /chat/ is no socket."""
    server, port = start_runserver("--noasgi", "--noreload", env=environment(tmp_path))
    status, body = get(port)
    assert status == 200 and b"djchan chat" in body
    with pytest.raises(InvalidStatus, match="HTTP 404"):
        await echo(port)
    assert BANNER not in server.log()
    assert "Starting development server at" in server.log()


def test_the_autoreloader_restarts_on_a_code_change(start_runserver, tmp_path):
    """Changing a project file (here the settings module) restarts the server, which then
    serves again."""
    tmp_path = tmp_path.resolve()  # as the reloader names files
    settings_file = tmp_path / "reloading_settings.py"
    settings_file.write_text(RELOADER_LOG)
    env = environment(
        tmp_path,
        DJANGO_SETTINGS_MODULE="reloading_settings",
        PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path)]),
    )
    server, port = start_runserver(env=env)
    server.wait_for_log(WATCHING)
    assert get(port)[0] == 200
    rewrite(server, settings_file, settings_file.read_text() + "# changed\n")
    server.wait_for_log("reloading_settings.py changed, reloading")
    deadline = time.monotonic() + START_TIMEOUT
    while server.log().count(BANNER) < 2:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    server.wait_for_port(port)
    assert get(port)[0] == 200


RELOAD_ROUTING = """from channels_classic.routing import route
from reload_consumers import echo

channel_routing = [route("websocket.receive", echo, path=r"^/chat/")]
"""
RELOAD_CONSUMERS = """def echo(message):
    message.reply_channel.send({"text": "%s: " + message.content["text"]})
"""
#: Ways of breaking the routing, in turn: the file broken, its broken text, what the log then
#: says, the file's fixed text, and the echo the fixed server gives.
BREAKAGES = [
    (
        "reload_routing.py",
        RELOAD_ROUTING.replace("import echo", "import echo, no_such_consumer"),
        "cannot import name 'no_such_consumer' from 'reload_consumers'",
        RELOAD_ROUTING,
        "v1: hello",
    ),
    (
        "reload_consumers.py",
        "from json import no_such_function\n" + RELOAD_CONSUMERS % "v1",
        "cannot import name 'no_such_function' from 'json'",
        RELOAD_CONSUMERS % "v2",
        "v2: hello",
    ),
    (
        "reload_routing.py",
        RELOAD_ROUTING.replace("channel_routing = [", "channel_routing = [[", 1),
        "SyntaxError",
        RELOAD_ROUTING,
        "v2: hello",
    ),
]


#: A test project's settings with the reloader's debug log (each file it watches is "first
#: seen" once per process: a change is made only after that, or it would be the first mtime).
RELOADER_LOG = """from djchan.settings import *  # noqa: F403

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"reloader": {"class": "logging.StreamHandler"}},
    "loggers": {"django.utils.autoreload": {"handlers": ["reloader"], "level": "DEBUG"}},
}
"""
#: Those settings with the test's routing.
RELOAD_SETTINGS = (
    RELOADER_LOG
    + 'CHANNEL_LAYERS["default"]["ROUTING"] = "reload_routing.channel_routing"  # noqa: F405\n'
)
#: What the reloader logs as each serving process starts.
WATCHING = "Watching for file changes"


def rewrite(server: ServerProcess, path: Path, text: str) -> None:
    """Writes ``text`` once the serving process's reloader watches ``path`` (a change made
    before then would be the mtime it first sees), with an mtime newer than that."""
    deadline = time.monotonic() + RELOAD_TIMEOUT
    while f"File {path} first seen" not in server.log().rsplit(WATCHING, 1)[-1]:
        assert time.monotonic() < deadline, f"{path} is not watched:\n{server.log()}"
        time.sleep(0.05)
    path.write_text(text)
    later = max(time.time(), path.stat().st_mtime) + 2
    os.utime(path, (later, later))


async def test_the_autoreloader_recovers_from_a_broken_routing(start_runserver, tmp_path):
    """Breaking the routing (a missing name, a consumer module that fails to import, a syntax
    error) restarts the server into the error; fixing the broken file, and only that file,
    restarts it again within a few seconds, serving the fixed code."""
    tmp_path = tmp_path.resolve()  # as the reloader names files
    (tmp_path / "reload_settings.py").write_text(RELOAD_SETTINGS)
    (tmp_path / "reload_routing.py").write_text(RELOAD_ROUTING)
    (tmp_path / "reload_consumers.py").write_text(RELOAD_CONSUMERS % "v1")
    env = environment(
        tmp_path,
        DJANGO_SETTINGS_MODULE="reload_settings",
        PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path)]),
    )
    server, port = start_runserver(env=env)
    assert await echo(port) == "v1: hello"
    for broken_file, broken_text, complaint, fixed_text, answer in BREAKAGES:
        rewrite(server, tmp_path / broken_file, broken_text)
        server.wait_for_log(complaint)
        starts = server.log().count(BANNER)
        rewrite(server, tmp_path / broken_file, fixed_text)
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while server.log().count(BANNER) == starts:
            assert time.monotonic() < deadline, f"no restart after the fix:\n{server.log()}"
            time.sleep(0.05)
        server.wait_for_port(port)
        assert await echo(port) == answer


@pytest.mark.parametrize("order", ["1x", "daphne"])
async def test_runserver_is_ours_whatever_the_order_of_installed_apps(
    start_runserver, tmp_path, order
):
    """With channels_classic after django.contrib.staticfiles (1.x's order), or daphne
    first, runserver is still the interface server with workers: sockets work, static files
    and pages too."""
    env = environment(
        tmp_path,
        DJANGO_SETTINGS_MODULE="tests.support.e2e.app_order_settings",
        TEST_APP_ORDER=order,
    )
    listed = run_manage(
        env, "shell", "-c", "from django.conf import settings; print(settings.INSTALLED_APPS)"
    )
    assert listed.stdout.index("staticfiles") < listed.stdout.index("'channels_classic'")
    server, port = start_runserver("--noreload", env=env)
    assert await echo(port) == "You said: hello"
    assert get(port, "/static/realtime/chat.js")[0] == 200
    assert BANNER in server.log()

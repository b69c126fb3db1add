"""Real server processes for end-to-end tests: daphne and runworker on free 127.0.0.1 ports.

Each process logs to a file in the test's temporary directory (shown when a test fails) and
is stopped by its PID.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from channels_classic.embedded_redis import find_redis_server, free_port
from channels_classic.test.process import stop_process
from tests.support.paths import ROOT

START_TIMEOUT = 20.0
#: What every process the tests start is told about the project: development settings, as
#: `bin/run` runs them (DEBUG on: the development secret key is accepted and the workers
#: serve static files). Tests of the deployed settings set their own.
DEVELOPMENT_ENV = {"DJANGO_DEBUG": "1"}
#: How long a fresh Sentinel may take to know its master.
SENTINEL_STARTUP_TIMEOUT = 10.0


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Runs ``manage.py args`` in ``env`` to its end; the caller checks its status."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class ServerProcess:
    """A child process started in ``cwd`` (the checkout unless told otherwise); logs go to
    ``log_path``."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        log_dir: Path,
        cwd: Path = ROOT,
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # closed in stop()
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for_log(self, text: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name} did not log {text!r} in {timeout} s:\n{self.log()}"
                )
            time.sleep(0.05)

    def wait_for_port(self, port: int, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not listen on {port}:\n{self.log()}")
            time.sleep(0.05)

    def signal(self, signum: int) -> None:
        if self.alive():
            os.kill(self.pid, signum)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after a while; returns the exit status."""
        status = stop_process(self.process)
        self._log.close()
        return status


class Stack:
    """Daphne and workers of one test, against one Redis, with the test settings; run from
    ``root``, the checkout (a benchmark may run another one beside it)."""

    def __init__(
        self,
        redis_url: str,
        log_dir: Path,
        settings: str = "tests.support.e2e.settings",
        root: Path = ROOT,
    ) -> None:
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.root = root
        self.env = {
            **os.environ,
            **DEVELOPMENT_ENV,
            "DJANGO_SETTINGS_MODULE": settings,
            "REDIS_URL": redis_url,
            "DJANGO_DATABASE": str(log_dir / "db.sqlite3"),
            "PYTHONPATH": str(root),
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[ServerProcess] = []
        self.port = 0

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs a management command with this stack's settings; raises if it fails."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def start_daphne(self, *extra: str, app: str = "djchan.asgi:channel_layer") -> ServerProcess:
        """daphne serving ``app`` (the interface server, unless told otherwise)."""
        self.port = free_port()
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        daphne = ServerProcess(
            f"daphne-{self.port}", [*command, *extra, app], self.env, self.log_dir, self.root
        )
        self.processes.append(daphne)
        daphne.wait_for_port(self.port)
        return daphne

    def start_worker(self, *extra: str, name: str | None = None) -> ServerProcess:
        worker = ServerProcess(
            name or f"worker-{len(self.processes)}",
            [sys.executable, "manage.py", "runworker", *extra],
            self.env,
            self.log_dir,
            self.root,
        )
        self.processes.append(worker)
        worker.wait_for_log("worker: listening on channels")
        return worker

    def url(self, path: str, scheme: str = "ws") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()}" for p in self.processes)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@contextmanager
def running_sentinel(
    master_port: int, service: str, password: str, directory: Path
) -> Iterator[int]:
    """A Redis Sentinel (asking for ``password``) that monitors the Redis on ``master_port``
    as ``service``, on a free port of 127.0.0.1; yields its port once it knows the master,
    and stops it by PID after the block. Its log is ``directory / "sentinel.log"``."""
    port = free_port()
    config = directory / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {directory}\nrequirepass {password}\n"
        f"sentinel monitor {service} 127.0.0.1 {master_port} 1\n"
    )
    log_path = directory / "sentinel.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [find_redis_server(), str(config), "--sentinel"], stdout=log, stderr=log
        )
    try:
        client = redis.Redis(port=port, password=password)
        deadline = time.monotonic() + SENTINEL_STARTUP_TIMEOUT
        while True:
            try:
                if client.sentinel_get_master_addr_by_name(service):
                    break
            except redis.ConnectionError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"the Sentinel exited: {log_path.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Sentinel did not start: {log_path.read_text()}")
            time.sleep(0.05)
        yield port
    finally:
        stop_process(process)

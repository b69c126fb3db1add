"""The server processes of a live-server test, started and stopped by PID.

Each is ``python -m channels_classic.test.serve <role> <run directory>``: a new interpreter,
not a fork of the test process (whose threads a fork would leave half copied). What it needs
from the test (the settings as the test sees them, the layer alias, the host) waits for it
in the run directory; it writes ``<role>.ready`` there once it serves, and its output goes
to ``<role>.log`` there, which start-up errors quote.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

#: How long a server process may take to be ready (Django set-up included).
READY_TIMEOUT = 30.0
#: How long a stopped process may take to exit before it is killed.
STOP_TIMEOUT = 10.0
#: How often the test process looks for a ready file.
READY_POLL = 0.05

DAPHNE, WORKER = "daphne", "worker"
_STATE_FILE = "state.pickle"


def stop_process(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then SIGKILL if it has not exited after STOP_TIMEOUT seconds; returns the
    exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@dataclass(frozen=True)
class LiveServerState:
    """What the server processes of one test need to know. ``settings`` maps each setting's
    name to its pickled value, unpickled one by one in the process (see ``serve``)."""

    settings: dict[str, bytes]
    alias: str
    host: str
    worker_threads: int
    serve_static: bool


class RunDirectory:
    """The directory one test's server processes share with it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write_state(self, state: LiveServerState) -> None:
        (self.path / _STATE_FILE).write_bytes(pickle.dumps(state))

    def read_state(self) -> LiveServerState:
        state = pickle.loads((self.path / _STATE_FILE).read_bytes())
        if not isinstance(state, LiveServerState):
            raise TypeError(f"{self.path / _STATE_FILE} holds {state!r}, not a LiveServerState")
        return state

    def ready_path(self, role: str) -> Path:
        return self.path / f"{role}.ready"

    def log_path(self, role: str) -> Path:
        return self.path / f"{role}.log"

    def mark_ready(self, role: str, detail: str) -> None:
        """Tells the test process that ``role`` serves; ``detail`` is what it needs to know
        (the port daphne listens on). Written whole, then renamed, so it is never read half
        written."""
        partial = self.path / f"{role}.ready.partial"
        partial.write_text(detail)
        os.replace(partial, self.ready_path(role))


class LiveServerProcess:
    """One server process of a live-server test. Subclass it (and point the test case's
    ``ProtocolServerProcess`` or ``WorkerProcess`` at the subclass) to run it differently:
    ``command()`` must run something that calls ``RunDirectory.mark_ready(role, ...)``."""

    role: ClassVar[str]

    def __init__(self, run_directory: RunDirectory, env: Mapping[str, str]) -> None:
        self.run_directory = run_directory
        self.env = dict(env)
        self.process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        pid = "not started" if self.process is None else f"pid {self.process.pid}"
        return f"<{type(self).__name__} {pid}>"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "channels_classic.test.serve",
            self.role,
            str(self.run_directory.path),
        ]

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self!r} has no PID: start() it first")
        return self.process.pid

    def start(self) -> None:
        with open(self.run_directory.log_path(self.role), "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        """Everything the process wrote so far."""
        path = self.run_directory.log_path(self.role)
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> str:
        """Waits until the process is ready and returns what it reported; RuntimeError, with
        its output, if it exits first or takes longer than ``timeout`` seconds."""
        ready = self.run_directory.ready_path(self.role)
        deadline = time.monotonic() + timeout
        while not ready.exists():
            status = None if self.process is None else self.process.poll()
            if self.process is None or status is not None:
                raise RuntimeError(
                    f"The live server's {self.role} process exited (status {status}) before "
                    f"it was ready. Its output:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"The live server's {self.role} process (pid {self.pid}) was not ready "
                    f"within {timeout} s. Its output:\n{self.log()}"
                )
            time.sleep(READY_POLL)
        return ready.read_text()

    def stop(self) -> int | None:
        """Stops the process (``stop_process``); None if it was never started."""
        if self.process is None:
            return None
        return stop_process(self.process)


class DaphneProcess(LiveServerProcess):
    """daphne serving the layer's interface app on a port the system picks; it reports the
    port."""

    role = DAPHNE


class WorkerProcess(LiveServerProcess):
    """A worker running the layer's consumers, plus the default routes (a live server is
    the site as deployed: un-routed requests reach the views)."""

    role = WORKER

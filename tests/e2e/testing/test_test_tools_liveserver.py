"""ChannelLiveServerTestCase (channels_classic.test.liveserver): real daphne and worker
processes, started and stopped around each test."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from websockets.sync.client import connect

from channels_classic.embedded_redis import EmbeddedRedis
from channels_classic.layers.registry import channel_layers
from channels_classic.test import ChannelLiveServerTestCase
from channels_classic.test.process import DaphneProcess, LiveServerProcess, WorkerProcess
from tests.support.e2e.routing import REPORTS
from tests.support.paths import ROOT
from tests.support.processes import DEVELOPMENT_ENV
from tests.support.tools import problems, run_tests
from tests.unit.testing.test_test_tools_liveserver import _Probe, live_layers

#: Bounded waits on real sockets and processes.
SOCKET_TIMEOUT = 10
#: The routes the live server's worker runs in these tests.
E2E_ROUTING = "tests.support.e2e.routing.channel_routing"
#: How long a test suite run in a process of its own may take.
SUITE_TIMEOUT = 180


class LiveServerTests(ChannelLiveServerTestCase):
    """Real daphne and worker processes on a Redis of this class's own."""

    databases = set()

    @classmethod
    def setUpClass(cls):
        cls.redis = EmbeddedRedis()
        cls.addClassCleanup(cls.redis.close)
        cls.enterClassContext(
            override_settings(CHANNEL_LAYERS=live_layers(cls.redis.start(), ROUTING=E2E_ROUTING))
        )
        super().setUpClass()

    def test_a_websocket_reaches_the_worker_process(self):
        """A socket to live_server_ws_url is answered by a consumer in the worker process."""
        worker = self._live_server_processes[1]
        with connect(self.live_server_ws_url + "/whoami/", open_timeout=SOCKET_TIMEOUT) as ws:
            ws.send("who?")
            assert int(ws.recv(timeout=SOCKET_TIMEOUT)) == worker.pid, self.live_server_logs()
            ws.send("and you?")
            assert ws.recv(timeout=SOCKET_TIMEOUT) != str(os.getpid())

    def test_the_test_shares_the_live_layer(self):
        """The test's own layer is the live one (TEST_CONFIG): it reads what a consumer in
        the worker sent."""
        with connect(self.live_server_ws_url + "/report/", open_timeout=SOCKET_TIMEOUT):
            pass
        channel, report = channel_layers["default"].receive([REPORTS], block=True)
        assert (channel, report) == (REPORTS, {"code": 1000, "order": 1, "path": "/report/"}), (
            self.live_server_logs()
        )
        assert channel_layers["default"].channel_layer.prefix == "live"

    def test_http_and_static_files_go_through_the_worker(self):
        """live_server_url serves HTTP through the worker's default route, static files
        included (serve_static), on host "localhost"."""
        assert self.live_server_url.startswith("http://localhost:")
        url = self.live_server_url + settings.STATIC_URL + "realtime/chat.css"
        with urllib.request.urlopen(url, timeout=SOCKET_TIMEOUT) as response:
            body = response.read()
        css = ROOT / "realtime/static/realtime/chat.css"
        assert body == css.read_bytes()


def test_a_live_server_test_case_with_a_file_database_passes(private_redis, tmp_path):
    """tests/support/e2e/live_database_suite.py, a ChannelLiveServerTestCase that logs in
    through the worker and chats on a room socket, passes under Django's test runner with a
    file test database its server processes open: the database reaches them, both ways."""
    database = tmp_path / "test.sqlite3"
    env = {
        **os.environ,
        **DEVELOPMENT_ENV,
        "DJANGO_SETTINGS_MODULE": "tests.support.e2e.live_database_settings",
        "REDIS_URL": private_redis().url,
        "TEST_DATABASE_FILE": str(database),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "test", "tests.support.e2e.live_database_suite", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Ran 1 test" in output and "\nOK" in output, output
    assert not database.exists()  # the runner destroyed it


def test_live_server_processes_are_stopped_and_cleaned_up(redis_url):
    """After a live-server test its processes are gone (stopped by PID), its run directory
    is removed and the configured layer is back."""
    recorded: dict[str, Any] = {}

    class Probe(ChannelLiveServerTestCase):
        databases = set()

        def test_it(self):
            recorded["pids"] = [p.pid for p in self._live_server_processes]
            recorded["run_directory"] = self._run_directory.path
            recorded["layer"] = channel_layers["default"]

    with override_settings(CHANNEL_LAYERS=live_layers(redis_url)):
        configured = channel_layers["default"]
        result = run_tests(Probe, "test_it")
        assert result.wasSuccessful(), problems(result)
        assert channel_layers["default"] is configured is not recorded["layer"]
    assert len(recorded["pids"]) == 2
    for pid in recorded["pids"]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not recorded["run_directory"].exists()


def test_live_server_start_failure_shows_the_output_and_stops_everything(redis_url):
    """A worker that cannot start fails the set-up with its output; daphne, already started,
    is stopped, the run directory removed and the configured layer is back."""
    started: list[LiveServerProcess] = []

    class RecordingDaphne(DaphneProcess):
        def start(self):
            super().start()
            started.append(self)

    class RecordingWorker(WorkerProcess):
        def start(self):
            super().start()
            started.append(self)

    class BadRouting(_Probe):
        ProtocolServerProcess = RecordingDaphne
        WorkerProcess = RecordingWorker

    layers = live_layers(redis_url, ROUTING="tests.no_such_module.channel_routing")
    with override_settings(CHANNEL_LAYERS=layers):
        configured = channel_layers["default"]
        with pytest.raises(RuntimeError, match=r"(?s)worker process exited.*no_such_module"):
            BadRouting._pre_setup()
        assert channel_layers["default"] is configured
    daphne, worker = started
    assert daphne.process is not None and daphne.process.poll() is not None
    assert worker.process is not None and worker.process.poll() not in (None, 0)
    assert not worker.run_directory.path.exists()

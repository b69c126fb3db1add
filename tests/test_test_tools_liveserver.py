"""ChannelLiveServerTestCase (channels_classic.test.liveserver, SPEC T10): real daphne and
worker processes, started and stopped around each test."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from websockets.sync.client import connect

from channels_classic.embedded_redis import EmbeddedRedis
from channels_classic.exceptions import InvalidChannelLayerError
from channels_classic.layers.registry import channel_layers
from channels_classic.test import ChannelLiveServerTestCase
from channels_classic.test.process import DaphneProcess, LiveServerProcess, WorkerProcess
from tests.e2e_routing import REPORTS
from tests.processes import DEVELOPMENT_ENV
from tests.tools_support import IN_MEMORY_LAYER, REDIS_LAYER, problems, run_tests

#: Bounded waits on real sockets and processes.
SOCKET_TIMEOUT = 10
#: How long a test suite run in a process of its own may take.
SUITE_TIMEOUT = 180
ROOT = Path(__file__).resolve().parent.parent


# ChannelLiveServerTestCase


def live_layers(redis_url: str, **config: Any) -> dict[str, Any]:
    """CHANNEL_LAYERS with the default layer on Redis, its TEST_CONFIG on ``redis_url``."""
    layer = {
        "BACKEND": REDIS_LAYER,
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # never used: the tests use TEST_CONFIG
        "TEST_CONFIG": {"hosts": [redis_url], "prefix": "live"},
        "ROUTING": "tests.e2e_routing.channel_routing",
    }
    return {"default": {**layer, **config}}


class LiveServerTests(ChannelLiveServerTestCase):
    """Real daphne and worker processes on a Redis of this class's own."""

    databases = set()

    @classmethod
    def setUpClass(cls):
        cls.redis = EmbeddedRedis()
        cls.addClassCleanup(cls.redis.close)
        cls.enterClassContext(override_settings(CHANNEL_LAYERS=live_layers(cls.redis.start())))
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
        css = Path(__file__).resolve().parent.parent / "realtime/static/realtime/chat.css"
        assert body == css.read_bytes()


def test_a_live_server_test_case_with_a_file_database_passes(private_redis, tmp_path):
    """tests/live_database_suite.py, a ChannelLiveServerTestCase that logs in through the
    worker and chats on a room socket, passes under Django's test runner with a file test
    database its server processes open: the database reaches them, both ways."""
    database = tmp_path / "test.sqlite3"
    env = {
        **os.environ,
        **DEVELOPMENT_ENV,
        "DJANGO_SETTINGS_MODULE": "tests.live_database_settings",
        "REDIS_URL": private_redis().url,
        "TEST_DATABASE_FILE": str(database),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "test", "tests.live_database_suite", "--noinput"],
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


class _Probe(ChannelLiveServerTestCase):
    __test__ = False  # only its set-up is tried, by the tests below
    databases = set()

    def test_it(self):
        """Never run: the set-up is what these tests try."""


def test_live_server_processes_get_the_settings_the_test_sees(redis_url):
    """Every setting goes to the processes as the test sees it, overrides included, with the
    layers' TEST_CONFIG as their CONFIG, the live host allowed and the databases the test
    case does not use closed."""
    layers = live_layers(redis_url)
    with override_settings(CHANNEL_LAYERS=layers, TEST_MARKER=["seen"]):
        pickled = _Probe._settings_for_processes()
    values = {name: pickle.loads(data) for name, data in pickled.items()}
    assert values["TEST_MARKER"] == ["seen"]
    assert values["SECRET_KEY"] == settings.SECRET_KEY
    assert values["CHANNEL_LAYERS"] == {
        "default": {**layers["default"], "CONFIG": {"hosts": [redis_url], "prefix": "live"}}
    }
    assert values["ALLOWED_HOSTS"] == [*settings.ALLOWED_HOSTS, "localhost"]
    assert values["DATABASES"] == {"default": {"ENGINE": "django.db.backends.dummy"}}


def test_live_server_needs_a_test_config(redis_url):
    """Without TEST_CONFIG the error says what to add."""
    layers = live_layers(redis_url)
    del layers["default"]["TEST_CONFIG"]
    with override_settings(CHANNEL_LAYERS=layers):
        with pytest.raises(InvalidChannelLayerError, match=r"needs CHANNEL_LAYERS\['default'\] "):
            _Probe._pre_setup()


def test_live_server_refuses_an_in_memory_layer(redis_url):
    """An in-memory BACKEND cannot span processes: the error names the Redis layer."""
    layers = live_layers(redis_url, BACKEND=IN_MEMORY_LAYER, TEST_CONFIG={})
    with override_settings(CHANNEL_LAYERS=layers):
        with pytest.raises(InvalidChannelLayerError, match=f"BACKEND'\\] to '{REDIS_LAYER}'"):
            _Probe._pre_setup()


@pytest.mark.django_db
def test_live_server_refuses_an_in_memory_test_database(redis_url):
    """A test case that uses a database whose test database is SQLite in memory is told to
    give it a file (the processes could not open it)."""

    class UsesDatabase(_Probe):
        databases = {"default"}

    with override_settings(CHANNEL_LAYERS=live_layers(redis_url)):
        with pytest.raises(ImproperlyConfigured, match=r"SQLite in memory.*\['TEST'\]"):
            UsesDatabase._pre_setup()


def test_live_server_refuses_settings_that_do_not_pickle(redis_url):
    """Settings are handed to the processes pickled; one that cannot be is named."""
    with override_settings(CHANNEL_LAYERS=live_layers(redis_url), TEST_HOOK=lambda: None):
        with pytest.raises(ImproperlyConfigured, match=r"settings.TEST_HOOK = <function"):
            _Probe._pre_setup()


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

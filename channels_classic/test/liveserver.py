"""``ChannelLiveServerTestCase``: tests against a real daphne and a real worker.

Before each test it starts two processes (``process``, ``serve``): daphne serving the
interface app on a free port of ``host``, and a worker running the routed consumers plus the
default routes, Django's views and, with ``serve_static``, static files. Browsers or
WebSocket clients in the test reach them at ``live_server_url`` / ``live_server_ws_url``.
After the test both are stopped by PID and their run directory is removed.

What the project's settings need:

- ``CHANNEL_LAYERS[alias]`` (alias ``channel_layer_alias``, default ``"default"``) with a
  BACKEND that spans processes (the Redis layer) and a ``TEST_CONFIG``: the layer options
  the processes and the test share, flushed before each test, so point it at a Redis (or a
  ``prefix``) that holds nothing else, e.g. ``{"hosts": [os.environ["REDIS_URL"]], "prefix":
  "test"}``. The processes use the TEST_CONFIG of every alias that has one, and so does the
  test's own code for this alias (``Channel(...).send()`` reaches the live server).
- For each database the test case uses (``databases``), a test database other processes
  can open: not SQLite in memory, e.g. ``DATABASES["default"]["TEST"] = {"NAME":
  "test.sqlite3"}``. Databases the test case does not use are closed to the processes too.
- Sessions that consumers and views share with the test (logins) in a shared store: the
  ``db`` session engine, or a cache on Redis, not the local-memory cache.

The processes see the settings the test sees: all of them, class-level ``override_settings``
included, are handed over when they start. So they must pickle (dotted paths and
module-level objects do); a ``override_settings`` on a test method comes too late.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.test import TransactionTestCase

from ..exceptions import InvalidChannelLayerError
from ..layers.facade import ClassicLayer
from ..layers.registry import DEFAULT_CHANNEL_LAYER, channel_layers
from ..layers.sync import runner
from .process import (
    DaphneProcess,
    LiveServerProcess,
    LiveServerState,
    RunDirectory,
    WorkerProcess,
)

#: 1.x's name for the base class of the server processes (DaphneProcess, WorkerProcess).
ProcessSetup = LiveServerProcess
#: What databases the test case does not use are, to its server processes: closed.
CLOSED_DATABASE = {"ENGINE": "django.db.backends.dummy"}
_REDIS_LAYER = "channels_classic.layers.redis.RedisChannelLayer"


class ChannelLiveServerTestCase(TransactionTestCase):
    """A ``TransactionTestCase`` with a live daphne and worker (see the module docstring)."""

    host: ClassVar[str] = "localhost"
    channel_layer_alias: ClassVar[str] = DEFAULT_CHANNEL_LAYER
    worker_threads: ClassVar[int] = 1
    serve_static: ClassVar[bool] = True
    ProtocolServerProcess: ClassVar[type[LiveServerProcess]] = DaphneProcess
    WorkerProcess: ClassVar[type[LiveServerProcess]] = WorkerProcess

    # Set by _pre_setup for the test that runs (a classmethod, as Django's: TransactionTestCase
    # runs it for the first test in setUpClass).
    _live_server_port: ClassVar[int]
    _live_server_processes: ClassVar[list[LiveServerProcess]]
    _live_layer: ClassVar[ClassicLayer]
    _replaced_layer: ClassVar[ClassicLayer | None]
    _run_directory: ClassVar[RunDirectory]

    @property
    def live_server_url(self) -> str:
        return f"http://{self.host}:{self._live_server_port}"

    @property
    def live_server_ws_url(self) -> str:
        return f"ws://{self.host}:{self._live_server_port}"

    def live_server_logs(self) -> str:
        """The output of the server processes so far (for failure messages)."""
        return "\n".join(
            f"--- {process.role} (pid {process.pid})\n{process.log()}"
            for process in self._live_server_processes
        )

    @classmethod
    def _pre_setup(cls) -> None:
        layer = cls._test_layer()
        state = LiveServerState(
            settings=cls._settings_for_processes(),
            alias=cls.channel_layer_alias,
            host=cls.host,
            worker_threads=cls.worker_threads,
            serve_static=cls.serve_static,
        )
        layer.flush()
        cls._live_layer = layer
        cls._replaced_layer = channel_layers.set(cls.channel_layer_alias, layer)
        cls._run_directory = RunDirectory(Path(tempfile.mkdtemp(prefix="channels-live-")))
        cls._run_directory.write_state(state)
        cls._live_server_processes = []
        # The processes first: Django's set-up is the part a failure would leave undone.
        try:
            cls._start_live_server()
            super()._pre_setup()
        except BaseException:
            cls._stop_live_server()
            raise

    def _post_teardown(self) -> None:
        try:
            self._stop_live_server()
        finally:
            super()._post_teardown()

    @classmethod
    def _start_live_server(cls) -> None:
        env = _process_environment()
        server = cls.ProtocolServerProcess(cls._run_directory, env)
        worker = cls.WorkerProcess(cls._run_directory, env)
        for process in (server, worker):
            process.start()
            cls._live_server_processes.append(process)
        cls._live_server_port = int(server.wait_ready())
        worker.wait_ready()

    @classmethod
    def _stop_live_server(cls) -> None:
        """Stops the processes, puts the layer the test replaced back, closes the test's and
        removes the run directory."""
        for process in cls._live_server_processes:
            process.stop()
        alias = cls.channel_layer_alias
        if cls._replaced_layer is None:
            channel_layers.layers.pop(alias, None)
        else:
            channel_layers.set(alias, cls._replaced_layer)
        close = getattr(cls._live_layer.channel_layer, "close", None)
        if close is not None:
            runner.run(close)
        shutil.rmtree(cls._run_directory.path, ignore_errors=True)

    @classmethod
    def _test_layer(cls) -> ClassicLayer:
        """The TEST_CONFIG layer of ``channel_layer_alias``, once it is sure to span
        processes; InvalidChannelLayerError saying what to configure otherwise."""
        alias = cls.channel_layer_alias
        config = channel_layers.configs.get(alias)
        if not isinstance(config, dict) or "TEST_CONFIG" not in config:
            raise InvalidChannelLayerError(
                f"{cls.__name__} needs CHANNEL_LAYERS[{alias!r}] with a TEST_CONFIG: "
                "the options of a layer its server processes share with the test, flushed "
                "before each test, e.g. {'hosts': [REDIS_URL], 'prefix': 'test'}"
            )
        layer = channel_layers.make_test_backend(alias)
        if layer.local_only():
            raise InvalidChannelLayerError(
                f"{cls.__name__} runs daphne and a worker in processes of their own, "
                f"which cannot share the channel layer {layer}: set "
                f"CHANNEL_LAYERS[{alias!r}]['BACKEND'] to {_REDIS_LAYER!r}"
            )
        return layer

    @classmethod
    def _settings_for_processes(cls) -> dict[str, bytes]:
        """Every setting as the test sees it, pickled, with the test databases, the layers'
        TEST_CONFIG as their CONFIG and ``host`` in ALLOWED_HOSTS."""
        values: dict[str, Any] = {
            name: getattr(settings, name) for name in dir(settings) if name.isupper()
        }
        values["DATABASES"] = cls._databases_for_processes()
        values["CHANNEL_LAYERS"] = {
            alias: {**config, "CONFIG": config["TEST_CONFIG"]}
            if "TEST_CONFIG" in config
            else config
            for alias, config in values.get("CHANNEL_LAYERS", {}).items()
        }
        values["ALLOWED_HOSTS"] = [*values.get("ALLOWED_HOSTS", []), cls.host]
        pickled = {}
        for name, value in values.items():
            try:
                pickled[name] = pickle.dumps(value)
            except Exception as error:
                raise ImproperlyConfigured(
                    f"settings.{name} = {value!r} cannot be handed to the live server's "
                    f"processes: it does not pickle ({error}). Give objects in it as dotted "
                    "paths or module-level names."
                ) from error
        return pickled

    @classmethod
    def _databases_for_processes(cls) -> dict[str, dict[str, Any]]:
        """The test databases the test case uses; ImproperlyConfigured for one that only
        exists inside this process."""
        used = set(connections) if cls.databases == "__all__" else set(cls.databases)
        databases = {}
        for alias in connections:
            if alias not in used:
                databases[alias] = dict(CLOSED_DATABASE)
                continue
            connection = connections[alias]
            if connection.vendor == "sqlite" and connection.is_in_memory_db():
                raise ImproperlyConfigured(
                    "ChannelLiveServerTestCase can not be used with in memory databases: "
                    f"{cls.__name__} uses database {alias!r}, whose test database is "
                    "SQLite in memory: the server processes cannot open it. Give it a file, "
                    f"DATABASES[{alias!r}]['TEST'] = {{'NAME': 'test.sqlite3'}}, or leave it "
                    "out of the test case's `databases` if its consumers do not need it."
                )
            databases[alias] = dict(connection.settings_dict)
        return databases


def _process_environment() -> dict[str, str]:
    """The environment of the server processes: this one, with this process's import path
    (the test's modules and the project's must import there)."""
    path = [os.path.abspath(entry or os.curdir) for entry in sys.path]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "PYTHONUNBUFFERED": "1"}

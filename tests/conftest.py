"""What kind of test lives where, and the settings each kind runs on (tests/README.md says
more).

- ``tests/unit``: the code under test runs in the pytest process. A unit test starts no
  process: no daphne, worker, manage.py, Redis or other subprocess of its own. It may use the
  one Redis server the session starts for all of them (fixtures ``redis_server``,
  ``redis_url``, ``layer``), as Django tests use the test database: no test stops,
  restarts, freezes or reconfigures it. A unit test that starts a process, in its body or
  in a fixture of its own, fails, naming it.
- ``tests/e2e``: tests that start real processes (Redis servers of their own, daphne,
  runworker, runserver, bin/run, any subprocess); all marked ``e2e``.
- ``tests/browser``: Chromium through Playwright, on real processes; marked ``e2e`` and
  ``browser``.
- ``tests/support``: what tests share (helpers, fixtures, settings, routing and URL
  modules, the porting command's fixture projects); no tests.

Django's settings are one per process, so the suite runs in two pytest sessions, which
``bin/test`` runs one after the other (tests/support/suites.py): the library's unit tests on
the test project (``tests.support.project.settings``, pyproject's DJANGO_SETTINGS_MODULE),
and on the demo's settings (``--ds djchan.settings``) the demo's own unit tests
(tests/unit/demo) and the end-to-end and browser tests, whose processes run the demo project
with test routes added (tests.support.e2e.settings). Each session leaves the other's folders
alone, and refuses a path that belongs to the other.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.suites import (
    DEMO_SETTINGS,
    TALLIED,
    TESTS,
    runs_on_demo_settings,
    selected_paths,
)

pytest_plugins = ["tests.support.fixtures"]

#: Folders whose tests start processes, and the markers each of their tests gets.
PROCESS_FOLDERS = {TESTS / "e2e": ("e2e",), TESTS / "browser": ("e2e", "browser")}
#: Fixtures that start processes: a unit test that asks for one belongs in tests/e2e.
PROCESS_FIXTURES = {"private_redis", "private_cluster", "stack", "demo_site"}
#: Audit events (see sys.addaudithook) that start a process.
PROCESS_EVENTS = {"subprocess.Popen", "os.posix_spawn", "os.fork", "os.forkpty", "os.system"}
#: The fixtures that start the Redis server and the Redis Cluster the session's tests share,
#: unit tests too.
SHARED_SERVER_FIXTURES = {"redis_server", "redis_cluster"}

#: The unit test being set up, run or torn down, while no shared server is being started.
_running_unit_test: list[str] = []


def _within(path: Path, folders: list[Path]) -> bool:
    return any(path == folder or folder in path.parents for folder in folders)


def _on_demo_settings() -> bool:
    return os.environ.get("DJANGO_SETTINGS_MODULE") == DEMO_SETTINGS


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leaves the other session's folders alone (a folder that holds both, such as tests/
    itself, is entered)."""
    demo = runs_on_demo_settings(collection_path)
    if demo is not None and demo != _on_demo_settings():
        return True
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuses a path named on the command line that the other session runs: pytest would
    collect it here, on settings it was not written for."""
    for path in selected_paths(session.config.invocation_params.args):
        demo = runs_on_demo_settings(path)
        if demo is not None and demo != _on_demo_settings():
            settings = DEMO_SETTINGS if demo else "the test project's settings"
            raise pytest.UsageError(
                f"{path} runs on {settings}: run it with bin/test, which starts the session "
                "each path needs (see tests/conftest.py)"
            )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks what starts processes by its folder; refuses unit tests that ask for a fixture
    that starts one."""
    for item in items:
        path = Path(item.path)
        for folder, markers in PROCESS_FOLDERS.items():
            if _within(path, [folder]):
                for marker in markers:
                    item.add_marker(marker)
        if _within(path, [TESTS / "unit"]):
            starting = PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            if starting:
                raise pytest.UsageError(
                    f"{item.nodeid} is a unit test but uses {', '.join(sorted(starting))}, "
                    "which starts processes: move it to tests/e2e (see tests/conftest.py)"
                )


def _refuse_processes_in_unit_tests(event: str, args: tuple[object, ...]) -> None:
    if _running_unit_test and event in PROCESS_EVENTS:
        raise RuntimeError(
            f"{_running_unit_test[0]} is a unit test but started a process ({event}: "
            f"{args[:2]!r}): move it to tests/e2e (see tests/conftest.py)"
        )


def pytest_configure(config: pytest.Config) -> None:
    sys.addaudithook(_refuse_processes_in_unit_tests)
    config.pluginmanager.register(SharedServerStart(), "shared-server-start")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """While a unit test is set up, runs and is torn down, starting a process is an error."""
    unit = _within(Path(item.path), [TESTS / "unit"])
    if unit:
        _running_unit_test.append(item.nodeid)
    try:
        return (yield)
    finally:
        if unit:
            _running_unit_test.clear()


class SharedServerStart:
    """Lets the session's shared Redis server start during a unit test's set-up (the first
    test that needs it starts it, as pytest-django makes the test database). A plugin of its
    own, registered for the whole session: pytest sets a session fixture up through the
    hooks of the root folder, which this conftest's own hooks do not reach."""

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[object]) -> Iterator[object]:
        if fixturedef.argname not in SHARED_SERVER_FIXTURES or not _running_unit_test:
            return (yield)
        paused = _running_unit_test.copy()
        _running_unit_test.clear()
        try:
            return (yield)
        finally:
            _running_unit_test.extend(paused)


def pytest_terminal_summary(terminalreporter) -> None:
    """Writes this session's counts where TEST_TALLY says (bin/test adds the sessions up)."""
    tally_path = os.environ.get("TEST_TALLY")
    if tally_path:
        counts = {kind: len(terminalreporter.stats.get(kind, [])) for kind in TALLIED}
        Path(tally_path).write_text(json.dumps(counts))

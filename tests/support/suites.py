"""The suite's two pytest sessions and how bin/test runs them: ``python -m
tests.support.suites [pytest arguments]``.

Django's settings are one per process, and pytest-django sets them up once per session, so
tests that need other settings need a session of their own:

- the library's unit tests (tests/unit outside tests/unit/demo) on the test project,
  ``tests.support.project.settings``;
- on the demo's settings, ``djchan.settings``: the demo's own unit tests (tests/unit/demo),
  and the end-to-end and browser tests (tests/e2e, tests/browser), whose processes run the
  demo project with test routes (tests.support.e2e.settings).

Each session runs under coverage; their data and their child processes' are combined into
one report. Arguments go to pytest in both sessions; a session none of whose folders the
named paths reach is not started. A run of the whole suite (no arguments, as CI runs it, or
only options that change what pytest prints, such as ``-q``) also fails when coverage falls
below the floor set in pyproject.toml.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import ROOT

TESTS = ROOT / "tests"
PROJECT_SETTINGS = "tests.support.project.settings"
DEMO_SETTINGS = "djchan.settings"
#: The folders whose tests run on DEMO_SETTINGS; all others run on PROJECT_SETTINGS.
DEMO_FOLDERS = (TESTS / "unit" / "demo", TESTS / "e2e", TESTS / "browser")
#: Options whose value is a path that selects no tests.
PATH_VALUED_OPTIONS = {"--deselect", "--ignore", "--ignore-glob", "--basetemp", "--junitxml"}
#: Arguments that change what pytest prints, not which tests run (``-q``, ``-vv``, ``-rA``,
#: ``--tb=short``, ``--durations=10``...): a run given only these is a whole run.
OUTPUT_ONLY = re.compile(r"-[qvs]+|-r\w+|--(quiet|verbose|no-header|(tb|durations|color)=\S+)")
#: pytest's exit status when it collected no test.
NO_TESTS_COLLECTED = 5
#: The outcomes a session counts (see tests/conftest.py, which writes them).
TALLIED = ("passed", "failed", "error", "skipped")


@dataclass(frozen=True)
class Session:
    """One pytest session: its settings module and what it holds, in words."""

    settings: str
    holds: str

    @property
    def on_demo_settings(self) -> bool:
        return self.settings == DEMO_SETTINGS


SESSIONS = (
    Session(PROJECT_SETTINGS, "the library's unit tests, on the test project's settings"),
    Session(DEMO_SETTINGS, "the demo's tests and the end-to-end and browser tests"),
)


def runs_on_demo_settings(path: Path) -> bool | None:
    """True for a path in the demo's folders, False for one outside them all, None for a
    folder that holds some of each (tests/, tests/unit)."""
    path = path.resolve()
    if any(path == folder or folder in path.parents for folder in DEMO_FOLDERS):
        return True
    if path.is_dir() and any(path in folder.parents for folder in DEMO_FOLDERS):
        return None
    return False


def path_named(previous: str, arg: str) -> Path | None:
    """The test path that pytest argument ``arg`` (``path`` or ``path::test``, after
    ``previous``) names, or None for an option or its value."""
    if arg.startswith("-") or previous in PATH_VALUED_OPTIONS:
        return None
    path = Path(arg.split("::")[0])
    return path if path.exists() else None


def selected_paths(args: list[str]) -> list[Path]:
    """The test paths among pytest arguments."""
    pairs = zip(["", *args], args, strict=False)
    return [path for previous, arg in pairs if (path := path_named(previous, arg)) is not None]


def args_for(session: Session, args: list[str]) -> list[str]:
    """``args`` without the test paths that only the other session runs, so that one
    command can name tests of both (``bin/test tests/unit/test_routing.py tests/e2e``)."""
    kept = []
    for previous, arg in zip(["", *args], args, strict=False):
        path = path_named(previous, arg)
        if path is None or runs_on_demo_settings(path) in (None, session.on_demo_settings):
            kept.append(arg)
    return kept


def runs_everything(args: list[str]) -> bool:
    """Whether pytest given ``args`` runs the whole suite: every test, to the end."""
    return all(OUTPUT_ONLY.fullmatch(arg) for arg in args)


def sessions_for(args: list[str]) -> list[Session]:
    """The sessions that the paths named in ``args`` reach (all of them when none is named)."""
    kinds = {runs_on_demo_settings(path) for path in selected_paths(args)}
    if not kinds or None in kinds:
        return list(SESSIONS)
    return [session for session in SESSIONS if session.on_demo_settings in kinds]


def run_session(session: Session, args: list[str], tally: Path) -> int:
    """Runs one session under coverage; returns pytest's exit status."""
    print(f"\n=== {session.holds} ({session.settings})", flush=True)
    env = {**os.environ, "TEST_TALLY": str(tally)}
    command = [sys.executable, "-m", "coverage", "run", "-m", "pytest", "--ds", session.settings]
    return subprocess.run([*command, *args], cwd=ROOT, env=env).returncode


def report_coverage(whole_suite: bool) -> int:
    """Combines the sessions' coverage data and reports it: every file short of full
    coverage and the floor's verdict for the whole suite, the total alone otherwise."""
    coverage = [sys.executable, "-m", "coverage"]
    subprocess.run([*coverage, "combine", "--quiet"], cwd=ROOT, check=True)
    if whole_suite:
        return subprocess.run([*coverage, "report", "--skip-covered"], cwd=ROOT).returncode
    total = subprocess.run(
        [*coverage, "report", "--format=total", "--fail-under=0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    print(f"coverage of this run: {total.stdout.strip()}% (the floor applies to whole runs)")
    return 0


def main(args: list[str]) -> int:
    """Runs the sessions ``args`` reach, then the coverage report; returns the exit status
    (the first failing session's, or the coverage floor's)."""
    subprocess.run([sys.executable, "-m", "coverage", "erase"], cwd=ROOT, check=True)
    statuses: list[int] = []
    totals = dict.fromkeys(TALLIED, 0)
    with tempfile.TemporaryDirectory() as scratch:
        for number, session in enumerate(sessions_for(args)):
            tally = Path(scratch) / f"tally-{number}.json"
            statuses.append(run_session(session, args_for(session, args), tally))
            if tally.exists():
                for kind, count in json.loads(tally.read_text()).items():
                    totals[kind] += count
            if statuses[-1] not in (0, NO_TESTS_COLLECTED) and {"-x", "--exitfirst"} & set(args):
                break
    coverage_status = report_coverage(whole_suite=runs_everything(args))
    print(
        f"\nsuite: {totals['passed']} passed, {totals['failed'] + totals['error']} failed, "
        f"{totals['skipped']} skipped"
    )
    failed = [status for status in statuses if status not in (0, NO_TESTS_COLLECTED)]
    if failed:
        return failed[0]
    if all(status == NO_TESTS_COLLECTED for status in statuses):
        return NO_TESTS_COLLECTED
    return coverage_status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""How bin/test splits a command between its two pytest sessions (tests/support/suites.py):
each session gets the options and the paths it runs, never a path of the other's settings."""

from __future__ import annotations

from tests.support.suites import SESSIONS, args_for, runs_everything, sessions_for

LIBRARY, DEMO = SESSIONS


def test_each_session_gets_its_own_paths_and_every_option():
    args = ["-x", "tests/unit/test_routing.py::test_a", "tests/e2e/demo", "-k", "cache"]
    assert sessions_for(args) == [LIBRARY, DEMO]
    assert args_for(LIBRARY, args) == ["-x", "tests/unit/test_routing.py::test_a", "-k", "cache"]
    assert args_for(DEMO, args) == ["-x", "tests/e2e/demo", "-k", "cache"]


def test_a_folder_holding_tests_of_both_goes_to_both():
    assert sessions_for(["tests/unit"]) == [LIBRARY, DEMO]
    assert args_for(LIBRARY, ["tests/unit"]) == args_for(DEMO, ["tests/unit"]) == ["tests/unit"]


def test_only_output_options_make_a_whole_run():
    assert runs_everything([]) and runs_everything(["-q", "--durations=10"])
    assert not runs_everything(["-x"]) and not runs_everything(["tests/unit"])

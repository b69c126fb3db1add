"""The porting command as users run it, ``python -m channels_classic.upgrade`` in a process of
its own, on the 1.x fixture projects, and its diffs as git applies them
(tests/unit/upgrade/test_upgrade_command.py runs the command in this process)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from channels_classic.upgrade.command import EXIT_LEFT_TO_DO, EXIT_USAGE
from tests.support.paths import UPGRADE_FIXTURES
from tests.unit.upgrade.test_upgrade_command import PROJECTS, _tree


def test_python_dash_m_runs_the_command(tmp_path: Path) -> None:
    """``python -m channels_classic.upgrade`` is the command, with its exit status."""
    shutil.copytree(UPGRADE_FIXTURES / "legacy", tmp_path / "legacy")
    ported = subprocess.run(
        [sys.executable, "-m", "channels_classic.upgrade", "legacy"],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert ported.returncode == EXIT_LEFT_TO_DO
    assert ported.stdout == (UPGRADE_FIXTURES / "legacy.diff").read_bytes()
    usage = subprocess.run(
        [sys.executable, "-m", "channels_classic.upgrade"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert usage.returncode == EXIT_USAGE and "PATH" in usage.stderr


@pytest.mark.parametrize("project", PROJECTS)
def test_git_applies_the_diff_to_what_write_writes(project: str, tmp_path: Path) -> None:
    """The diff the command prints (its golden file) is a patch git applies, and applied to a
    pristine copy it gives exactly what ``--write`` writes."""
    for copy in ("written", "pristine"):
        shutil.copytree(UPGRADE_FIXTURES / project, tmp_path / copy / project)
    subprocess.run(
        [sys.executable, "-m", "channels_classic.upgrade", "--write", project],
        cwd=tmp_path / "written",
        capture_output=True,
        timeout=60,
    )
    patched = subprocess.run(
        ["git", "apply", "-p2", "-"],
        cwd=tmp_path / "pristine" / project,
        input=(UPGRADE_FIXTURES / f"{project}.diff").read_bytes(),
        capture_output=True,
        timeout=60,
    )
    assert patched.returncode == 0, patched.stderr
    assert _tree(tmp_path / "pristine" / project) == _tree(tmp_path / "written" / project)

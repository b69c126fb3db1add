"""The porting command end to end on 1.x fixture projects (``channels_classic.upgrade``).

``tests/support/upgrade_fixtures/<project>`` are 1.x projects written for these tests; beside each,
``<project>.diff`` and ``<project>.report`` are what the command prints for it (standard
output and standard error) when run from that folder. To refresh them after a deliberate
change, run in that folder: ``python -m channels_classic.upgrade chat > chat.diff 2>
chat.report`` (and the same for ``legacy``), and read the diff of the golden files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from channels_classic.upgrade.command import EXIT_DONE, EXIT_LEFT_TO_DO, EXIT_USAGE, main
from tests.support.paths import UPGRADE_FIXTURES

PROJECTS = {"chat": EXIT_DONE, "legacy": EXIT_LEFT_TO_DO}


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of every fixture project, as the current directory."""
    for name in PROJECTS:
        shutil.copytree(UPGRADE_FIXTURES / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes, str]:
    """Runs the command; returns its status, its standard output (bytes: each file's diff is
    in that file's encoding) and its standard error."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err.decode()


@pytest.mark.parametrize("project", PROJECTS)
def test_diff_and_report_match_the_golden_files(
    project: str, workdir: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """Without --write the command prints the expected diff and report, and changes nothing."""
    before = _tree(workdir / project)
    status, out, err = _run(capsysbinary, project)
    assert out == (UPGRADE_FIXTURES / f"{project}.diff").read_bytes()
    assert err == (UPGRADE_FIXTURES / f"{project}.report").read_bytes().decode()
    assert status == PROJECTS[project]
    assert _tree(workdir / project) == before


@pytest.mark.parametrize("project", PROJECTS)
def test_write_changes_what_the_diff_names_and_leaves_other_files_byte_for_byte(
    project: str, workdir: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """--write changes exactly the files the diff names; every other file keeps its bytes
    (tests/e2e/upgrade/test_upgrade_command.py checks that the diff, applied by git, gives
    what --write wrote)."""
    before = _tree(workdir / project)
    _, diff, _ = _run(capsysbinary, project)
    status, out, err = _run(capsysbinary, "--write", project)
    assert status == PROJECTS[project] and out == b""
    assert "file(s) changed" in err
    after = _tree(workdir / project)
    prefix = f"+++ b/{project}/".encode()
    named = {line[len(prefix) :].decode() for line in diff.splitlines() if line.startswith(prefix)}
    assert named and {name for name in before if before[name] != after[name]} == named


@pytest.mark.parametrize("project", PROJECTS)
def test_a_second_run_changes_nothing(
    project: str, workdir: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """After --write, running the command again prints no diff and writes nothing."""
    _run(capsysbinary, "--write", project)
    written = _tree(workdir / project)
    status, out, err = _run(capsysbinary, project)
    assert out == b""
    assert "0 file(s) to change" in err and "changed:" not in err
    assert status == PROJECTS[project]
    _run(capsysbinary, "--write", project)
    assert _tree(workdir / project) == written


def test_encoding_and_line_endings_are_kept(
    workdir: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """A Latin-1 file with CRLF line endings is rewritten in Latin-1 with CRLF endings."""
    path = workdir / "chat" / "chat" / "notifications.py"
    original = path.read_bytes()
    _run(capsysbinary, "--write", str(path))
    assert path.read_bytes() == original.replace(
        b"from channels import Channel\r\n", b"from channels_classic import Channel\r\n"
    )
    assert b"\xe9crites" in path.read_bytes()


def test_unportable_things_are_listed_with_file_line_and_fix(
    workdir: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """Each thing left to do is one line naming its file and line, and the fix; the Python 2
    file is reported and the other files are still ported."""
    status, _, err = _run(capsysbinary, "--write", "legacy")
    assert status == EXIT_LEFT_TO_DO
    problems = [line for line in err.splitlines() if ": cannot port: " in line]
    assert "legacy/legacy/py2_script.py:4: cannot port: not Python 3" in problems[4]
    assert all(line.split(":")[1].isdigit() for line in problems)
    expected = {
        "legacy/legacy/settings.py:5": "asgi_redis.RedisLocalChannelLayer",
        "legacy/legacy/settings.py:6": "'stats_prefix'",
        "legacy/legacy/monitor.py:8": "channel_statistics",
        "legacy/legacy/test_layers.py:3": "asgiref.inmemory",
        "legacy/legacy/test_layers.py:16": "make it 'channels_classic.channel.Group.send'",
    }
    for place, text in expected.items():
        assert any(line.startswith(place + ":") and text in line for line in problems), place
    assert "12 thing(s) to port by hand" in err
    assert b"channels_classic" in (workdir / "legacy" / "legacy" / "settings.py").read_bytes()


def test_a_project_with_nothing_to_port_exits_0(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """A tree without 1.x code: no diff, exit 0."""
    (tmp_path / "app.py").write_text("import django\n")
    assert _run(capsysbinary, str(tmp_path)) == (
        EXIT_DONE,
        b"",
        "0 file(s) to change, 0 thing(s) to port by hand\n",
    )


def test_virtualenvs_and_hidden_folders_are_not_walked(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """An installed 1.x channels inside a virtualenv, or under .git, is not the project's."""
    for folder in ("venv/lib/site", ".tox/py27", "node_modules/x"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "mod.py").write_text("from channels import Group\n")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert _run(capsysbinary, str(tmp_path))[:2] == (EXIT_DONE, b"")


def test_bad_usage_exits_2(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    """A missing path or an unknown option is a usage error (2) that names the problem."""
    with pytest.raises(SystemExit) as missing:
        main([str(tmp_path / "nowhere")])
    assert missing.value.code == EXIT_USAGE
    assert b"no such file or folder" in capsysbinary.readouterr().err
    with pytest.raises(SystemExit) as unknown:
        main(["--frobnicate", str(tmp_path)])
    assert unknown.value.code == EXIT_USAGE
    with pytest.raises(SystemExit) as nothing:
        main([])
    assert nothing.value.code == EXIT_USAGE

"""The distribution: the wheel and sdist ``python -m build`` makes, and a 1.x project run
against that wheel in a fresh virtualenv (daphne + runworker + Redis, one echo).

The wheel is built once for the module; PyPI provides the build backend and the runtime's
dependencies (pip's cache makes later runs quick).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from email.parser import Parser
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

import channels_classic
from channels_classic.embedded_redis import EmbeddedRedis, free_port
from tests.support.paths import ROOT, UPGRADE_FIXTURES
from tests.support.processes import ServerProcess

INSTALL_TIMEOUT = 600
DIST_INFO = f"channels_classic-{channels_classic.__version__}.dist-info"


def _run(command: list[str], cwd: Path, **options: object) -> subprocess.CompletedProcess[str]:
    """Runs ``command``; fails the test with its output if it fails."""
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, **options
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the sdist and the wheel built from it, as ``python -m build`` does."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=ROOT)
    return out


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("channels_classic-*.whl")
    return wheel


def _runtime_files() -> set[str]:
    """Every file of channels_classic in the checkout, caches aside."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "channels_classic").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_holds_channels_classic_and_nothing_else(dist: Path) -> None:
    """The wheel installs every file of channels_classic (code, py.typed, migrations, any
    templates or static files), its metadata and licence, and no other top-level name."""
    with zipfile.ZipFile(_wheel(dist)) as wheel:
        names = set(wheel.namelist())
        metadata = Parser().parsestr(wheel.read(f"{DIST_INFO}/METADATA").decode())
    assert {name.split("/")[0] for name in names} == {"channels_classic", DIST_INFO}
    runtime = {name for name in names if name.startswith("channels_classic/")}
    assert runtime == _runtime_files()
    assert {
        "channels_classic/py.typed",
        "channels_classic/delay/migrations/0001_initial.py",
        "channels_classic/upgrade/__main__.py",
        f"{DIST_INFO}/licenses/LICENSE",
    } <= names
    assert metadata["Name"] == "channels-classic"
    assert metadata["Version"] == channels_classic.__version__
    assert metadata["License-Expression"] == "BSD-3-Clause"
    required = {
        re.split(r"[<>=;\[ ]", line)[0].lower() for line in metadata.get_all("Requires-Dist")
    }
    assert {"django", "daphne", "channels", "redis", "hiredis", "msgpack"} <= required
    assert set(metadata.get_all("Provides-Extra")) == {
        "encryption",
        "channels-redis",
        "embedded",
        "metrics",
    }


def test_the_sdist_holds_the_runtime_licence_and_changelog_only(dist: Path) -> None:
    """The source distribution has what builds the wheel, not the demo, tests or benchmarks."""
    (sdist,) = dist.glob("channels_classic-*.tar.gz")
    with tarfile.open(sdist) as archive:
        top = {name.split("/", 2)[1] for name in archive.getnames() if name.count("/") >= 1}
    assert {"channels_classic", "LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= top
    assert not top & {"djchan", "realtime", "bench", "tests", "routing.py", "manage.py"}


@pytest.fixture
def fresh_venv(dist: Path, tmp_path: Path) -> Path:
    """A new virtualenv with the wheel (and its dependencies from PyPI) installed."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", str(_wheel(dist))], cwd=tmp_path)
    return venv


def _ported_echo_project(venv: Path, dist: Path, parent: Path) -> Path:
    """The 1.x echo fixture project, ported by the installed command."""
    project = parent / "echo_site"
    shutil.copytree(UPGRADE_FIXTURES / "echo", project)
    ported = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "channels_classic.upgrade", "--write", "."],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ported.returncode == 0, ported.stderr
    asgi = project / "echo" / "asgi.py"
    assert "from channels_classic.asgi import get_channel_layer" in asgi.read_text()
    return project


async def _echo(port: int) -> str:
    async with connect(f"ws://127.0.0.1:{port}/", open_timeout=15) as socket:
        await socket.send("hello")
        return str(await asyncio.wait_for(socket.recv(), 15))


def test_a_1x_project_runs_on_the_installed_wheel(
    fresh_venv: Path,
    dist: Path,
    tmp_path: Path,
    private_redis: Callable[[], EmbeddedRedis],
) -> None:
    """A 1.x echo project, ported with the wheel's command, serves one echo through the
    fresh virtualenv's daphne and runworker, outside the checkout."""
    project = _ported_echo_project(fresh_venv, dist, tmp_path)
    env = {
        "PATH": f"{fresh_venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "REDIS_URL": private_redis().url,
        "DJANGO_SETTINGS_MODULE": "echo.settings",
        "PYTHONUNBUFFERED": "1",
    }
    python = str(fresh_venv / "bin" / "python")
    where = _run(
        [python, "-c", "import channels_classic; print(channels_classic.__file__)"],
        cwd=project,
        env=env,
    )
    assert Path(where.stdout.strip()).is_relative_to(fresh_venv)
    leaked = subprocess.run(
        [python, "-c", "import djchan"], cwd=project, env=env, capture_output=True, timeout=60
    )
    assert leaked.returncode != 0
    port = free_port()
    worker = ServerProcess("worker", [python, "manage.py", "runworker"], env, tmp_path, cwd=project)
    daphne = ServerProcess(
        "daphne",
        [str(fresh_venv / "bin" / "daphne"), "-b", "127.0.0.1", "-p", str(port)]
        + ["echo.asgi:channel_layer"],
        env,
        tmp_path,
        cwd=project,
    )
    try:
        worker.wait_for_log("worker: listening on channels")
        daphne.wait_for_port(port)
        assert asyncio.run(_echo(port)) == "echo: hello"
    finally:
        for process in (daphne, worker):
            process.stop()
            print(f"--- {process.name}\n{process.log()}")

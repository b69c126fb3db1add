"""The supervisors' files in deploy/ and the Dockerfile: they run the Procfile's commands,
each process type on its own, and they are valid (systemd-analyze verify where systemd is
installed; a docker build where a Docker engine answers)."""

from __future__ import annotations

import configparser
import fnmatch
import json
import re

import pytest

from djchan.launch import RELEASE, procfile_processes
from djchan.redis_urls import check_redis_url
from tests.support.processes import ROOT

DEPLOY = ROOT / "deploy"
#: Where the unit files expect the checkout (its virtualenv in .venv) and the settings.
INSTALL_ROOT = "/srv/djchan"
ENVIRONMENT_FILE = "/etc/djchan/env"
#: Each unit file and the Procfile process type it runs.
UNITS = {
    "djchan-release.service": RELEASE,
    "djchan-web.service": "web",
    "djchan-worker@.service": "worker",
    "djchan-delay.service": "delay",
}
#: What every process needs in the image.
RUNTIME_FILES = ["manage.py", "routing.py", "Procfile", "requirements.txt", "djchan/settings.py"]
RUNTIME_FILES += ["djchan/asgi.py", "channels_classic/worker/base.py", "realtime/static/realtime"]


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / name).read_text())
    return parser


def exec_starts(name: str) -> list[str]:
    """A unit's ExecStart lines, in order (configparser keeps only the last of repeated
    keys, so they are read from the text)."""
    lines = (DEPLOY / name).read_text().splitlines()
    return [line.partition("=")[2] for line in lines if line.startswith("ExecStart=")]


def as_procfile_command(exec_start: str) -> str:
    """An ExecStart as the Procfile writes it: programs from PATH, variables as $NAME."""
    return exec_start.replace(f"{INSTALL_ROOT}/.venv/bin/", "").replace("${PORT}", "$PORT")


@pytest.mark.parametrize(("name", "process_type"), UNITS.items())
def test_each_unit_runs_its_procfile_command(name, process_type):
    """Each unit runs what the Procfile says for its process type (the release step as its
    commands one after another), in the checkout, with the settings file, as the djchan
    user; long-running ones restart on their own."""
    commands = " && ".join(as_procfile_command(line) for line in exec_starts(name))
    assert commands == procfile_processes()[process_type]
    service = unit(name)["Service"]
    assert (service["WorkingDirectory"], service["EnvironmentFile"]) == (
        INSTALL_ROOT,
        ENVIRONMENT_FILE,
    )
    assert service["User"] == "djchan"
    if process_type == RELEASE:
        assert service["Type"] == "oneshot"
    else:
        assert service["Restart"] == "always"
        assert unit(name)["Install"]["WantedBy"] == "multi-user.target"
        assert "djchan-release.service" in unit(name)["Unit"]["After"]


def test_every_procfile_process_type_has_a_unit():
    assert sorted(UNITS.values()) == sorted(procfile_processes())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
            pending = ""
    return instructions


def ignored_by_docker(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` (relative to the checkout) out of the build."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = path.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            return True
    return False


def test_the_dockerfile_copies_what_exists_and_the_image_needs():
    """Every COPY source exists and is not ignored; the files each process needs reach the
    image, and what it must not carry (the local virtualenv, the database) does not."""
    copies = [
        arguments.split() for keyword, arguments in dockerfile_instructions() if keyword == "COPY"
    ]
    assert copies, "the Dockerfile copies nothing"
    for *sources, _destination in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert source == "." or not ignored_by_docker(source)
    for needed in RUNTIME_FILES:
        assert (ROOT / needed).exists() and not ignored_by_docker(needed), needed
    for kept_out in (".venv/bin/python", "db.sqlite3", "djchan/__pycache__/x.pyc", "tests/x.py"):
        assert ignored_by_docker(kept_out), kept_out


def test_the_image_runs_the_procfile_commands():
    """The image's default command is the Procfile's web line (through sh, for $PORT); the
    other process types are the Procfile's commands given to docker run, as the
    Dockerfile's own instructions show them; the release step's collectstatic is done as
    the image is built."""
    instructions = dict(dockerfile_instructions())  # the last of each kind
    shell, flag, command = json.loads(instructions["CMD"])
    assert (shell, flag) == ("sh", "-c")
    assert command == f"exec {procfile_processes()['web']}"
    assert "/app/.venv/bin" in instructions["ENV"] and instructions["WORKDIR"] == "/app"
    assert "python manage.py collectstatic --noinput" in instructions["RUN"]
    text = (ROOT / "Dockerfile").read_text()
    for process_type in ("worker", "delay"):
        assert f" djchan {procfile_processes()[process_type]}\n" in text
    assert " djchan python manage.py migrate --noinput\n" in text


def test_the_example_environment_file_holds_settings_the_demo_reads():
    """deploy/env.example is NAME=value lines (and comments) only, and each Redis URL in it,
    commented out or not, is one the settings accept."""
    lines = (DEPLOY / "env.example").read_text().splitlines()
    settings = [line.lstrip("#") for line in lines if re.match(r"#?[A-Z_]+=", line)]
    assert all(re.fullmatch(r"[A-Z_]+=\S+", line) for line in settings), settings
    for line in lines:
        assert not line or line.startswith("#") or line in settings
    urls = [line.partition("=") for line in settings if line.startswith("REDIS")]
    assert [name for name, _, _ in urls] == ["REDIS_URL", "REDIS_URL", "REDIS_CACHE_URL"]
    for name, _, url in urls:
        assert check_redis_url(name, url) == url

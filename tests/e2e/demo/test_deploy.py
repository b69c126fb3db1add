"""The supervisors' files in deploy/ and the Dockerfile: they run the Procfile's commands,
each process type on its own, and they are valid (systemd-analyze verify where systemd is
installed; a docker build where a Docker engine answers)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import uuid

import pytest

from tests.support.processes import ROOT
from tests.unit.demo.test_deploy import DEPLOY, ENVIRONMENT_FILE, INSTALL_ROOT, UNITS


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    """systemd-analyze verify finds nothing to say about any unit (it checks the keys and
    that each command is an executable), with the paths pointed at this checkout."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    environment = tmp_path / "env"
    environment.write_text("DJANGO_DEBUG=0\n")
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        text = text.replace(INSTALL_ROOT, str(ROOT)).replace(ENVIRONMENT_FILE, str(environment))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_verify_would_catch_a_bad_unit(tmp_path):
    """The verify test can fail: an unknown Restart value or a missing program is reported."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    bad = tmp_path / "djchan-bad.service"
    bad.write_text("[Service]\nExecStart=/no/such/program\nRestart=sometimes\n")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert "restart specifier" in result.stderr and "/no/such/program" in result.stderr


def test_the_image_builds_where_docker_runs():
    """With a Docker engine, the image builds and its settings pass Django's checks."""
    if shutil.which("docker") is None:
        pytest.skip("no docker command")
    if subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode != 0:
        pytest.skip("no Docker engine answers (docker info fails)")
    tag = f"djchan-test-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1800)
        check = subprocess.run(
            ["docker", "run", "--rm", "-e", f"DJANGO_SECRET_KEY={secrets.token_urlsafe(40)}", tag]
            + ["python", "manage.py", "check"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert check.returncode == 0, check.stderr
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)

"""The demo's start-up checks and deployed settings: every process refuses DEBUG off with the
published development key (or a variable it cannot read) with a message and no traceback;
``check --deploy`` on the Procfile settings leaves only what needs HTTPS, and DJANGO_HTTPS
turns that on."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.support.processes import ROOT

#: How long a refusing process may take (Django starts, then stops at its checks).
REFUSAL_TIMEOUT = 60
#: The interface server and the commands that serve.
SERVING = {
    "daphne": ["-m", "daphne", "-b", "127.0.0.1", "-p", "0", "djchan.asgi:channel_layer"],
    "runworker": ["manage.py", "runworker"],
    "rundelay": ["manage.py", "rundelay"],
    "runserver": ["manage.py", "runserver", "127.0.0.1:0"],
}
#: The warnings of `check --deploy` that only a site served over HTTPS can act on.
HTTPS_ONLY = {"security.W004", "security.W008", "security.W012", "security.W016"}


def environment(tmp_path, **variables: str) -> dict[str, str]:
    """The demo's own settings with ``variables``; no secret key unless given one."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in ("REDIS_URL", "REDIS_CACHE_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="djchan.settings",
        DJANGO_DATABASE=str(tmp_path / "db.sqlite3"),
        PYTHONPATH=str(ROOT),
        **variables,
    )
    return env


def run(arguments: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=REFUSAL_TIMEOUT,
    )


@pytest.mark.parametrize("name", sorted(SERVING))
def test_serving_processes_refuse_the_development_key_with_debug_off(name, tmp_path, redis_url):
    """DEBUG off (DJANGO_DEBUG unset) and no DJANGO_SECRET_KEY: the process exits 1 at once
    with one error saying what to set, and no traceback."""
    result = run(SERVING[name], environment(tmp_path, REDIS_URL=redis_url))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "djchan.E001" in output
    assert "DEBUG is off and SECRET_KEY is the development key" in output
    assert "Set DJANGO_SECRET_KEY to a long random value" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("name", ["daphne", "runworker"])
def test_a_flag_that_is_neither_1_nor_0_is_refused_by_name(name, tmp_path, redis_url):
    """DJANGO_DEBUG=true is an error naming the variable and the accepted values (not a
    silent "off"), as a check error, without a traceback."""
    env = environment(tmp_path, REDIS_URL=redis_url, DJANGO_DEBUG="true")
    result = run(SERVING[name], env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "djchan.E002" in output
    assert "DJANGO_DEBUG must be 1 (on) or 0 (off), got 'true'" in output
    assert "Traceback" not in output


def procfile_environment(tmp_path, **variables: str) -> dict[str, str]:
    """The environment the README's Deploying section asks for, after the release step (its
    collected static files stand for by a manifest)."""
    static_root = tmp_path / "static"
    static_root.mkdir(exist_ok=True)
    (static_root / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    return environment(
        tmp_path,
        DJANGO_STATIC_ROOT=str(static_root),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="chat.example.com",
        REDIS_URL="redis://redis.internal:6379/0",
        **variables,
    )


def deploy_check(env: dict[str, str]) -> set[str]:
    """The ids of what `manage.py check --deploy` reports (it must not fail)."""
    result = run(["manage.py", "check", "--deploy"], env)
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"\(([\w.]+\.[EW]\d+)\)", result.stdout + result.stderr))


def test_check_deploy_on_the_procfile_settings_leaves_only_https_items(tmp_path):
    """DEBUG off, a real secret key, allowed hosts: only the HTTPS-only warnings remain."""
    assert deploy_check(procfile_environment(tmp_path)) == HTTPS_ONLY


def test_django_https_turns_the_https_only_protections_on(tmp_path):
    """DJANGO_HTTPS=1 clears the HTTPS-only warnings but HSTS's two that reach beyond the site
    (subdomains, browsers' preload lists); their own variables clear those."""
    assert deploy_check(procfile_environment(tmp_path, DJANGO_HTTPS="1")) == {
        "security.W005",
        "security.W021",
    }
    everything = procfile_environment(
        tmp_path, DJANGO_HTTPS="1", DJANGO_HSTS_INCLUDE_SUBDOMAINS="1", DJANGO_HSTS_PRELOAD="1"
    )
    assert deploy_check(everything) == set()

"""Redis URLs from the environment (djchan/redis_urls.py): a malformed one stops the settings
with the variable's name, the value and the forms a URL may take, in one line."""

from __future__ import annotations

import os

import pytest

from tests.support.processes import run_manage


@pytest.mark.parametrize("variable", ["REDIS_URL", "REDIS_CACHE_URL"])
def test_manage_py_says_it_in_one_line(variable):
    """manage.py stops with the settings' refusal as one line (no traceback), exit status 1."""
    env = {**os.environ, variable: "127.0.0.1:6399", "DJANGO_SETTINGS_MODULE": "djchan.settings"}
    result = run_manage(env, "check")
    assert result.returncode == 1
    assert result.stderr == (
        f"manage.py: the settings refused the environment: {variable}='127.0.0.1:6399' is not "
        "a Redis URL (Redis URL must specify one of the following schemes (redis://, "
        f"rediss://, unix://)). Set {variable} to redis://host:port/db (e.g. "
        "redis://127.0.0.1:6379/0), rediss://host:port/db for TLS, or "
        "unix:///path/to/redis.sock?db=0.\n"
    )

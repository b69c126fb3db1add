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
        "redis://127.0.0.1:6379/0), rediss://host:port/db for TLS, "
        "unix:///path/to/redis.sock?db=0, or redis+cluster://host:port[,host2:port2] for a "
        "Redis Cluster (rediss+cluster:// with TLS).\n"
    )


def test_a_cluster_url_with_a_database_stops_manage_py_saying_what_to_do():
    env = {
        **os.environ,
        "REDIS_URL": "redis+cluster://127.0.0.1:7000/1",
        "DJANGO_SETTINGS_MODULE": "djchan.settings",
    }
    result = run_manage(env, "check")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "manage.py: the settings refused the environment: "
        "REDIS_URL='redis+cluster://127.0.0.1:7000/1' is not a Redis URL (a Redis Cluster has "
        "database 0 only, got database 1: leave the database out of the URL). Set REDIS_URL to"
    )

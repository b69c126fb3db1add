"""channels_redis 4.3's own tests of the layer API pass against the project's Redis layer, so
that it is a drop-in for channels_redis users (``close_pools()`` included).

Their tests are not copied here: the test downloads channels_redis 4.3's source distribution
(once; it is kept in pytest's cache folder), takes its ``tests`` folder and runs
``test_core.py`` (one Redis) and ``test_sentinel.py`` (the same through a Sentinel) in a
pytest of their own, with ``tests/support/channels_redis_upstream.py`` pointing their layer class at
ours and their servers at private ones. The tests that plugin lists as not applicable are
skipped with their reason; any other failure fails this test. Not run: their pub/sub layer's
tests (another layer class), and those of their serializer and utility modules (internals).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from tests.support.channels_redis_upstream import NOT_APPLICABLE
from tests.support.processes import ROOT, running_sentinel

SDIST = "channels-redis==4.3.*"
UPSTREAM_TESTS = ("test_core.py", "test_sentinel.py")
#: The Sentinel service and password their Sentinel tests expect.
SENTINEL_SERVICE, SENTINEL_PASSWORD = "sentinel", "channels_redis"
#: How long their tests may take (their expiry tests sleep several seconds each).
SUITE_TIMEOUT = 600
#: At least this many of their tests must pass (guards against a run that collected none).
MINIMUM_PASSED = 40


def upstream_tests(cache: Path, into: Path) -> Path:
    """The folder of channels_redis's sdist, with its setup.cfg and tests, extracted into
    ``into``; the sdist is downloaded into ``cache`` the first time (pip, from PyPI)."""
    cache.mkdir(parents=True, exist_ok=True)
    sdists = sorted(cache.glob("channels_redis-4.3.*.tar.gz"))
    if not sdists:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", SDIST, "--no-binary", ":all:"]
            + ["--no-deps", "--dest", str(cache)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        sdists = sorted(cache.glob("channels_redis-4.3.*.tar.gz"))
    with tarfile.open(sdists[-1]) as sdist:
        wanted = [
            member
            for member in sdist.getmembers()
            if Path(member.name).name in (*UPSTREAM_TESTS, "setup.cfg")
        ]
        sdist.extractall(into, members=wanted, filter="data")
    (setup_cfg,) = into.glob("*/setup.cfg")
    return setup_cfg.parent


def outcomes(report: Path) -> dict[str, str]:
    """ "file::test" → passed, failed, skipped (with the reason) or xfailed, from JUnit XML."""
    results = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rpartition('.')[2]}.py::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                kind = child.get("type", "")
                outcome = "xfailed" if "xfail" in kind else f"skipped: {child.get('message')}"
        results[name] = outcome
    return results


def test_channels_redis_own_tests_pass_against_this_layer(pytestconfig, private_redis, tmp_path):
    """Every upstream test of the public layer API passes; exactly the listed ones are
    skipped, each saying why."""
    cache = getattr(pytestconfig, "cache", None)  # None under -p no:cacheprovider
    downloads = cache.mkdir("channels_redis_sdist") if cache else tmp_path / "download"
    source = upstream_tests(downloads, tmp_path)
    redis = private_redis()
    report = tmp_path / "upstream.xml"
    with running_sentinel(redis.port, SENTINEL_SERVICE, SENTINEL_PASSWORD, tmp_path) as port:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "UPSTREAM_REDIS_PORT": str(redis.port),
            "UPSTREAM_SENTINEL_PORT": str(port),
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        run = subprocess.run(
            [sys.executable, "-m", "pytest", *(f"tests/{name}" for name in UPSTREAM_TESTS)]
            + ["-c", "setup.cfg", "--rootdir", ".", "-p", "tests.support.channels_redis_upstream"]
            + ["-p", "no:cacheprovider", "-q", "-rs", f"--junitxml={report}"],
            cwd=source,
            env=env,
            capture_output=True,
            text=True,
            timeout=SUITE_TIMEOUT,
        )
    shown = run.stdout[-6000:] + run.stderr[-2000:]
    results = outcomes(report)
    failed = sorted(name for name, outcome in results.items() if outcome == "failed")
    assert not failed and run.returncode == 0, shown
    skipped = {name for name, outcome in results.items() if outcome.startswith("skipped")}
    assert skipped == set(NOT_APPLICABLE), shown
    assert all("not applicable: " in results[name] for name in skipped)
    assert sum(outcome == "passed" for outcome in results.values()) >= MINIMUM_PASSED, shown

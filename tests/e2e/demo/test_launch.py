"""What bin/run runs (djchan/launch.py): it stops with a clear message when it cannot start
(a malformed REDIS_URL, a Redis that does not answer, a taken port), and otherwise runs the
Procfile's release step and says "Open ..." only once daphne listens."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis

from channels_classic.embedded_cluster import EmbeddedRedisCluster
from channels_classic.embedded_redis import free_port
from djchan.launch import INTERRUPTED, LaunchError, redis_answers
from tests.support.processes import ROOT, START_TIMEOUT

#: How long a refusal may take: the unreachable Redis has REDIS_ANSWER_TIMEOUT (5 s).
REFUSAL_TIMEOUT = 30


def launch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "djchan.launch", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=REFUSAL_TIMEOUT,
    )


def test_a_malformed_redis_url_stops_it_with_the_forms():
    result = launch("--port", str(free_port()), REDIS_URL="127.0.0.1:6399")
    assert result.returncode == 2
    assert result.stderr.startswith("bin/run: REDIS_URL='127.0.0.1:6399' is not a Redis URL")
    assert "Set REDIS_URL to redis://host:port/db" in result.stderr
    assert "Traceback" not in result.stderr and "Open http" not in result.stdout


def test_a_redis_that_does_not_answer_stops_it():
    """Nothing listens at REDIS_URL: bin/run says which Redis did not answer, and what to
    do, instead of saying "Open"."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = launch("--port", str(free_port()), REDIS_URL=url)
    assert result.returncode == 2
    assert result.stderr.startswith(f"bin/run: The Redis at REDIS_URL={url} did not answer")
    assert "Start it, or unset REDIS_URL and bin/run starts one of its own." in result.stderr
    assert "Open http" not in result.stdout


def test_a_taken_port_stops_it():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = launch("--port", str(port), REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 2
    assert f"bin/run: Port {port} is taken by another program" in result.stderr


def test_an_unknown_embedded_kind_stops_it():
    result = launch("--port", str(free_port()), DJCHAN_EMBEDDED="sentinel")
    assert result.returncode == 2
    assert result.stderr == (
        "bin/run: DJCHAN_EMBEDDED='sentinel' is not something bin/run starts: set it to redis "
        "or cluster, or unset it.\n"
    )


def test_an_embedded_cluster_beside_a_redis_url_stops_it():
    """Asked to start a cluster of its own while REDIS_URL names another Redis, bin/run says
    which to unset rather than picking one."""
    result = launch("--embedded", "cluster", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 2
    assert "REDIS_URL names a Redis of yours and 'cluster' asks bin/run" in result.stderr
    assert "unset REDIS_URL, or DJCHAN_EMBEDDED (--embedded)." in result.stderr


def test_redis_answers_on_a_cluster_once_its_slots_are_served():
    """A cluster's URL is pinged through redis-py's cluster client: it answers once the
    cluster serves every slot; one that is not there raises LaunchError."""
    with EmbeddedRedisCluster(replicas=0) as cluster:
        redis_answers(cluster.url, timeout=5)
    with pytest.raises(LaunchError, match=r"REDIS_URL=redis\+cluster://.* did not answer"):
        redis_answers(f"redis+cluster://127.0.0.1:{free_port()}", timeout=1)


def test_redis_answers_waits_for_a_redis_that_comes_up(private_redis):
    """A Redis that answers returns at once; one that never does raises LaunchError after
    the timeout."""
    server = private_redis()
    started = time.monotonic()
    redis_answers(server.url, timeout=5)
    assert time.monotonic() - started < 2
    with pytest.raises(LaunchError, match=r"did not answer within 1 s \(.*refused"):
        redis_answers(f"redis://127.0.0.1:{free_port()}/0", timeout=1)


def run_until_open(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, int]:
    """Runs bin/run's launcher until it says "Open", fetches the page, then sends SIGINT to
    its process group as a terminal's Ctrl-C does; returns its exit status, its log and
    its port."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "DJANGO_DATABASE": str(tmp_path / "db.sqlite3"),
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        **env,
    }
    log = tmp_path / "run.log"
    with open(log, "wb") as output:
        run = subprocess.Popen(
            [sys.executable, "-m", "djchan.launch", "--port", str(port), "--workers", "1", *args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, as a terminal's Ctrl-C reaches
        )
        try:
            deadline = time.monotonic() + 4 * START_TIMEOUT
            while "Open http" not in log.read_text():
                assert run.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
            assert f"Open http://127.0.0.1:{port}/ (development" in log.read_text()
            assert (tmp_path / "static" / "staticfiles.json").exists()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
                assert b"Pick a room" in page.read()
        finally:
            os.killpg(run.pid, signal.SIGINT)
            status = run.wait(timeout=60)
    print(log.read_text())
    return status, log.read_text(), port


def test_it_releases_then_says_open_once_daphne_listens(private_redis, tmp_path: Path):
    """With a Redis of its own: the release step collects the static files and migrates,
    "Open ..." comes once the port accepts, the page is served, and SIGINT stops it all."""
    server = private_redis()
    status, _, port = run_until_open(tmp_path, REDIS_URL=server.url)
    assert status == INTERRUPTED
    assert redis.Redis.from_url(server.url).ping()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_it_runs_the_site_on_an_embedded_cluster(tmp_path: Path):
    """DJCHAN_EMBEDDED=cluster: bin/run starts a Redis Cluster of its own, the site is served
    through the layer on it, and Ctrl-C stops the cluster's nodes too."""
    status, log, _ = run_until_open(tmp_path, REDIS_URL="", DJCHAN_EMBEDDED="cluster")
    assert status == INTERRUPTED
    started = re.search(
        r"Started an embedded Redis Cluster \(3 masters with a replica each\) "
        r"at redis\+cluster://127\.0\.0\.1:(\d+) ",
        log,
    )
    assert started, log
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(started[1])), timeout=5).close()

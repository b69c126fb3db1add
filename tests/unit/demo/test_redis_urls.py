"""Redis URLs from the environment (djchan/redis_urls.py): a malformed one stops the settings
with the variable's name, the value and the forms a URL may take, in one line."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from djchan.redis_urls import (
    check_redis_url,
    cluster_node_url,
    cluster_nodes,
    is_cluster_url,
    redis_url_setting,
)

FORMS = (
    r"Set REDIS_URL to redis://host:port/db \(e.g. redis://127.0.0.1:6379/0\), "
    r"rediss://host:port/db for TLS, unix:///path/to/redis.sock\?db=0, or "
    r"redis\+cluster://host:port\[,host2:port2\] for a Redis Cluster "
    r"\(rediss\+cluster:// with TLS\)."
)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://redis.internal",
        "rediss://:secret@redis.internal:6380/3",
        "redis://redis.internal/2?db=5",
        "unix:///run/redis.sock?db=1",
        "redis+cluster://10.0.0.7:7000",
        "redis+cluster://10.0.0.7:7000,10.0.0.8:7000,[fd00::9]:7000?shards=32",
        "rediss+cluster://user:secret@cluster.example.com:6379/0?ssl_cert_reqs=required",
    ],
)
def test_urls_redis_py_reads_pass(url):
    assert check_redis_url("REDIS_URL", url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("127.0.0.1:6399", "must specify one of the following schemes"),
        ("http://redis.internal:6379/0", "must specify one of the following schemes"),
        ("redis://redis.internal:63x9/0", "Port could not be cast to integer"),
        ("redis://redis.internal:6379/zero", "the path must be a database number, got 'zero'"),
        ("unix:///run/redis.sock?db=one", "Invalid value for 'db'"),
        ("redis+cluster://", "'' is not a cluster node: name each as host:port, redis+cluster"),
        ("redis+cluster://a:7000,b", "'b' is not a cluster node: name each as host:port"),
        ("redis+cluster://node:7000/2", "a Redis Cluster has database 0 only, got database 2"),
        ("rediss+cluster://node:7000?db=1", "has database 0 only, got database 1: leave the"),
        ("redis+cluster://node:70o0", "Port could not be cast to integer"),
        ("redis+sentinel://node:26379", "must specify one of the following schemes"),
    ],
)
def test_malformed_urls_name_the_variable_and_the_forms(url, why):
    with pytest.raises(ImproperlyConfigured) as refused:
        check_redis_url("REDIS_URL", url)
    message = str(refused.value)
    assert message.startswith(f"REDIS_URL={url!r} is not a Redis URL (")
    assert why in message
    with pytest.raises(ImproperlyConfigured, match=FORMS):
        check_redis_url("REDIS_URL", url)


def test_an_unset_or_empty_variable_is_no_url(monkeypatch):
    monkeypatch.delenv("REDIS_CACHE_URL", raising=False)
    assert redis_url_setting("REDIS_CACHE_URL") == ""
    monkeypatch.setenv("REDIS_CACHE_URL", "  ")
    assert redis_url_setting("REDIS_CACHE_URL") == ""
    monkeypatch.setenv("REDIS_CACHE_URL", "redis.internal:6379")
    with pytest.raises(ImproperlyConfigured, match="^REDIS_CACHE_URL='redis.internal:6379'"):
        redis_url_setting("REDIS_CACHE_URL")


def test_a_cluster_url_reads_as_the_url_of_its_node():
    """redis-py's cluster client takes the node's URL with the plain scheme, the rest kept."""
    assert is_cluster_url("rediss+cluster://node:7000") and not is_cluster_url("redis://x")
    assert cluster_node_url("redis+cluster://:pw@node:7000") == "redis://:pw@node:7000"
    assert cluster_node_url("rediss+cluster://u:pw@a:1,b:2/0?x=y") == "rediss://u:pw@a:1/0?x=y"
    assert cluster_nodes("redis+cluster://u:pw@a:1,[fd00::9]:2") == [("a", 1), ("fd00::9", 2)]

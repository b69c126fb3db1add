"""The Redis layer on a cluster whose nodes ask for a password (``requirepass``, and
``masterauth`` for the replicas): the password in the URL or the entry reaches every
connection the layer opens (the slot map's, the event loop's, the listeners', a thread's),
and a missing or wrong one is refused saying what to do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis

from channels_classic.embedded_cluster import EmbeddedRedisCluster
from channels_classic.exceptions import ChannelLayerUnavailable
from channels_classic.layers.redis import RedisChannelLayer

PASSWORD = "cluster-secret"


@pytest.fixture(scope="module")
def protected_cluster() -> Iterator[EmbeddedRedisCluster]:
    """A private 3-master cluster (a replica each) that asks for PASSWORD once assembled."""
    with EmbeddedRedisCluster() as cluster:
        for node in cluster.nodes:
            raw = redis.Redis(port=node.port)
            raw.config_set("masterauth", PASSWORD)
            raw.config_set("requirepass", PASSWORD)
        yield cluster


def seed(cluster: EmbeddedRedisCluster) -> str:
    return f"127.0.0.1:{cluster.masters[0].port}"


async def test_the_password_reaches_every_connection(protected_cluster, prefix):
    """Sends (async and blocking), receives on all 16 shards and a group spread over them
    work with the password in the URL, and with it in the dict form."""
    for hosts in (
        [f"redis+cluster://:{PASSWORD}@{seed(protected_cluster)}"],
        [{"cluster": [seed(protected_cluster)], "password": PASSWORD}],
    ):
        layer = RedisChannelLayer(hosts=hosts, prefix=prefix)
        await layer.send("test.auth", {"n": 1})
        await asyncio.to_thread(layer.send_sync, "test.auth", {"n": 2})
        received = []
        while len(received) < 2:
            received += await asyncio.wait_for(layer.receive_batch(["test.auth"], 10), 5)
        assert sorted(message["n"] for _, message in received) == [1, 2]
        members = [await layer.new_channel() for _ in range(8)]
        for member in members:
            await layer.group_add("auth-room", member)
        await layer.group_send("auth-room", {"to": "all"})
        got = []
        while len(got) < len(members):
            got += await asyncio.wait_for(layer.receive_batch(members, 10), 5)
        assert sorted(channel for channel, _ in got) == sorted(members)
        await layer.flush()
        await layer.close()


@pytest.mark.parametrize(
    ("credentials", "said", "advice"),
    [
        ("", "NOAUTH", "It asks for a password: give it in the host's URL"),
        (":wrong@", "WRONGPASS", "It refused the password (or username) given"),
    ],
)
async def test_a_missing_or_wrong_password_says_what_to_do(
    protected_cluster, prefix, credentials, said, advice
):
    """Async and blocking calls alike raise ChannelLayerUnavailable with what the node
    answered and what to change, once each (no advice repeated inside)."""
    layer = RedisChannelLayer(
        hosts=[f"redis+cluster://{credentials}{seed(protected_cluster)}"], prefix=prefix
    )
    with pytest.raises(ChannelLayerUnavailable) as sent:
        await layer.send("test.auth", {"n": 1})
    with pytest.raises(ChannelLayerUnavailable) as sent_sync:
        await asyncio.to_thread(layer.send_sync, "test.auth", {"n": 1})
    for error in (sent.value, sent_sync.value):
        assert said in str(error)
        assert str(error).count(advice) == 1, error
    await layer.close()

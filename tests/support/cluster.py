"""Looking into the Redis a layer test runs on, one host or a cluster alike.

On a cluster a channel's key has a name per shard (its hash tag), and a normal channel's
messages are spread over every shard: these helpers look at all of them.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis

from channels_classic.layers.redis import RedisChannelLayer


def raw_client(url: str) -> redis.Redis | redis.RedisCluster:
    """A redis-py client of the server or cluster ``url`` names."""
    parts = urlsplit(url)
    if parts.scheme.endswith("+cluster"):
        node = parts.netloc.split(",")[0]
        scheme = parts.scheme.removesuffix("+cluster")
        return redis.RedisCluster.from_url(urlunsplit((scheme, node, "", "", "")))
    return redis.Redis.from_url(url)


def shard_keys(layer: RedisChannelLayer, channel: str) -> list[bytes]:
    """The key of ``channel`` on each of the layer's shards."""
    return [layer.keys.key_on(channel, shard) for shard in range(len(layer.shards))]


def stored(raw: redis.Redis | redis.RedisCluster, layer: RedisChannelLayer, channel: str) -> list:
    """Every stored message waiting on ``channel``'s key, over the shards."""
    return [member for key in shard_keys(layer, channel) for member in raw.zrange(key, 0, -1)]


def key_holding(
    raw: redis.Redis | redis.RedisCluster, layer: RedisChannelLayer, channel: str
) -> bytes:
    """The key of ``channel`` on the shard that holds its messages (AssertionError if none)."""
    (key,) = [key for key in shard_keys(layer, channel) if raw.zcard(key)]
    return key

"""The Redis layer's wire part: connections to the servers, and the one adapter to redis-py.

``redis_py`` alone uses redis-py: it reads the ``hosts`` setting into plain
``ConnectionSettings`` and names redis-py's exceptions. ``pipe`` (asyncio, auto-pipelined)
and ``blocking`` (one socket per thread) are the connections; ``commands`` encodes what they
write. Nothing here knows about channels, keys or messages.
"""

"""How the demo's cache stores values in Redis: as JSON, never pickled.

Django's RedisCache pickles what it stores unless told otherwise, and unpickling runs code:
whoever can write to that Redis could then run code in every process that reads the cache.
The demo's cache holds sessions (dicts of strings and numbers), so JSON holds everything it
needs. Whole numbers are stored as their digits, as RedisCache stores them, so ``incr()``
and ``decr()`` still work on them. Tuples come back as lists.
"""

from __future__ import annotations

import json
from typing import Any


class JSONSerializer:
    """The ``serializer`` of a RedisCache (``OPTIONS: {"serializer": "<this path>"}``)."""

    def dumps(self, value: Any) -> bytes:
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"The cache stores values as JSON (no pickle), and this one cannot be: "
                f"{error}. Store str, int, float, bool, None, and lists and dicts of those."
            ) from error

    def loads(self, data: bytes) -> Any:
        return json.loads(data)

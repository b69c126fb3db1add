"""Settings read once per process, and read again when they change.

Nothing on a message's path should read settings: a function decorated with ``read_once``
computes its value from the named settings on its first call and keeps it. ``forget`` is
the receiver of Django's ``setting_changed`` (connected in AppConfig.ready), so a test that
overrides one of the settings gets the new value.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_forgetters: defaultdict[str, list[Callable[[], None]]] = defaultdict(list)


def read_once(*names: str) -> Callable[[Callable[[], T]], Callable[[], T]]:
    """Caches a function of no arguments that reads the settings ``names``, until one of
    them changes. Errors are not cached: a bad setting raises on every call."""

    def decorator(func: Callable[[], T]) -> Callable[[], T]:
        cached = functools.cache(func)
        for name in names:
            _forgetters[name].append(cached.cache_clear)
        return cached

    return decorator


def forget(*, setting: str, **kwargs: Any) -> None:
    """Drops the cached values that read ``setting`` (a ``setting_changed`` receiver)."""
    for forget_value in _forgetters.get(setting, ()):
        forget_value()

"""The ``asgi.delay`` message (``docs/messages.md``, "asgi.delay"): its shape, its rules, and
a helper for senders.

The rules are checked in one place, ``check_delay_request``: senders get them through
``delay_request``/``send_delayed`` as an exception at the call, the delay server applies them
to whatever arrives and logs what it skips.
"""

from __future__ import annotations

import math
import reprlib
from typing import Any

from ..channel import Channel
from ..exceptions import InvalidDelayRequest
from ..layers.registry import DEFAULT_CHANNEL_LAYER
from ..names import check_channel_name
from ..types import DelayRequest

#: The channel the delay server receives requests on.
DELAY_CHANNEL = "asgi.delay"

_KEYS = ("channel", "content", "delay")
_SHAPE = "{'channel': <destination name>, 'content': <message dict>, 'delay': <milliseconds>}"


def check_delay_request(message: object) -> DelayRequest:
    """Returns ``message`` as a DelayRequest; raises InvalidDelayRequest saying what is wrong."""
    if not isinstance(message, dict):
        raise InvalidDelayRequest(
            f"A message on {DELAY_CHANNEL} must be a dict {_SHAPE}, got "
            f"{type(message).__name__} {reprlib.repr(message)}"
        )
    missing = [key for key in _KEYS if key not in message]
    unknown = sorted(map(str, set(message) - set(_KEYS)))
    if missing or unknown:
        raise InvalidDelayRequest(
            f"A message on {DELAY_CHANNEL} has keys {sorted(map(str, message))} (missing "
            f"{missing}, unknown {unknown}); send {_SHAPE}"
        )
    channel, content, delay = message["channel"], message["content"], message["delay"]
    try:
        check_channel_name(channel)
    except TypeError as error:
        raise InvalidDelayRequest(
            f"Bad 'channel' in a message on {DELAY_CHANNEL}: {error}"
        ) from None
    if not isinstance(content, dict):
        raise InvalidDelayRequest(
            f"'content' of a message on {DELAY_CHANNEL} must be the dict to deliver to "
            f"{channel!r}, got {type(content).__name__} {reprlib.repr(content)}"
        )
    if (
        not isinstance(delay, (int, float))
        or isinstance(delay, bool)
        or not math.isfinite(delay)
        or delay < 0
    ):
        raise InvalidDelayRequest(
            f"'delay' of a message on {DELAY_CHANNEL} must be a number of milliseconds, 0 or "
            f"more, got {reprlib.repr(delay)}"
        )
    return DelayRequest(channel=channel, content=content, delay=delay)


def delay_request(channel: str, content: dict[str, Any], delay: int | float) -> DelayRequest:
    """The ``asgi.delay`` message delivering ``content`` to ``channel`` in ``delay`` ms;
    raises InvalidDelayRequest if one of them breaks the rules."""
    return check_delay_request({"channel": channel, "content": content, "delay": delay})


def send_delayed(
    channel: str,
    content: dict[str, Any],
    delay: int | float,
    *,
    alias: str = DEFAULT_CHANNEL_LAYER,
    immediately: bool = False,
) -> None:
    """Asks the delay server to send ``content`` to ``channel`` in ``delay`` ms.

    The request is sent to ``asgi.delay`` on the layer of ``alias`` like ``Channel.send``: at
    the end of the current consumer, or at once when ``immediately`` or outside consumers.
    """
    Channel(DELAY_CHANNEL, alias=alias).send(
        dict(delay_request(channel, content, delay)), immediately=immediately
    )

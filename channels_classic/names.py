"""Channel and group name rules (those of channels 4), checked in one place with errors that
show the bad name and say what a good one looks like.

1.x also had single-reader channels, ``name?suffix``, which channels 4 refuses. Names that
1.x code passes with a '?' are accepted wherever user code names a channel (``Channel``,
routes, the layer wrapper's methods) and become valid ones: each '?' is replaced by
SINGLE_READER_MARK, the same way in every process, so senders and receivers agree. Such a
channel is then an ordinary channel, which is what a single-reader one is to this layer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_NAME_LENGTH = 100
CHANNEL_NAME = re.compile(r"^[a-zA-Z\d\-_.]+(![\d\w\-_.]*)?$")
GROUP_NAME = re.compile(r"^[a-zA-Z\d\-_.]+$")

_ALLOWED = "ASCII letters, digits, hyphens, underscores and periods"
#: What a 1.x single-reader '?' becomes in a channel name ("a?b" is "a__q__b").
SINGLE_READER_MARK = "__q__"


def classic_channel_name(name: str) -> str:
    """``name`` with each 1.x single-reader '?' replaced by SINGLE_READER_MARK (other names,
    and anything that is not a str, as they are)."""
    if isinstance(name, str) and "?" in name:
        return name.replace("?", SINGLE_READER_MARK)
    return name


def check_channel_name(name: object) -> str:
    """Returns ``name`` if it is a valid channel name; raises TypeError saying why not."""
    if not isinstance(name, str):
        raise TypeError(f"Channel name must be a str, got {type(name).__name__} {name!r}")
    if len(name) >= MAX_NAME_LENGTH or not CHANNEL_NAME.match(name):
        raise TypeError(
            f"Channel name {name!r} is invalid: use fewer than {MAX_NAME_LENGTH} {_ALLOWED}, "
            "plus at most one '!' for process channels (as new_channel() makes them)"
        )
    return name


def check_group_name(name: object) -> str:
    """Returns ``name`` if it is a valid group name; raises TypeError saying why not."""
    if not isinstance(name, str):
        raise TypeError(f"Group name must be a str, got {type(name).__name__} {name!r}")
    if len(name) >= MAX_NAME_LENGTH or not GROUP_NAME.match(name):
        raise TypeError(
            f"Group name {name!r} is invalid: use fewer than {MAX_NAME_LENGTH} {_ALLOWED}"
        )
    return name


def check_group_names(names: object, where: str) -> list[str]:
    """``names`` as a list if it is a list (or other iterable) of valid group names; TypeError
    naming ``where`` (what returned them) otherwise. A bare string is refused: iterating it
    would join a group per character."""
    if isinstance(names, str | bytes) or not isinstance(names, Iterable):
        raise TypeError(
            f"{where} must return a list of group names, got {names!r}; for one group return "
            "a list of one name, e.g. ['lobby']"
        )
    listed = list(names)
    for name in listed:
        try:
            check_group_name(name)
        except TypeError as error:
            raise TypeError(f"{where} returned {listed!r}: {error}") from None
    return listed


def non_local_name(name: str) -> str:
    """The part of a process channel name up to and including its '!' (the whole of others)."""
    bang = name.find("!")
    return name if bang < 0 else name[: bang + 1]


def http_disconnect_channel(reply_channel: str) -> str:
    """The channel of one request's own ``http.disconnect`` notice, named after its reply
    channel: a worker streaming the response polls it to learn that the client left (the
    shared ``http.disconnect`` channel goes to whichever consumer is routed there). A digest
    keeps the name valid and short whatever the reply channel looks like."""
    digest = hashlib.blake2b(reply_channel.encode(), digest_size=16).hexdigest()
    return f"http.disconnect.{digest}"

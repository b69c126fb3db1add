"""What a cluster node's error reply asks of the connection that got it.

A node answers a command for a slot it does not serve with a redirect, and carries nothing
out: ``MOVED`` (the slot is served elsewhere now: update the slot map, resend there),
``ASK`` (the slot is being migrated and the keys are on the other node: send this command
there once, after ``ASKING``), ``TRYAGAIN`` (a multi-key command whose keys are split by
the migration: resend shortly), or ``UNBLOCKED`` (a blocked command woken because its node
became a replica: resend, the map says where). Since none of them ran the command, following
them takes nothing twice. ``CLUSTERDOWN`` (the cluster is failing over) is an outage: the
caller sees ChannelLayerUnavailable and retries as after any outage.

Both connections (``cluster_pipe`` for asyncio, ``blocking``) follow them through ``follow``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from .commands import Command, ScriptCall
from .redis_py import AskError, ClusterDownError, MovedError, ResponseError, TryAgainError

#: Redirects one command may follow before it fails (redis-py's cluster client allows 16).
MAX_REDIRECTS = 16
#: A TRYAGAIN waits this long before the first resend, doubling up to TRY_AGAIN_MAX: a
#: migration under way usually finishes within a few of them (about 6 s in all, at most).
TRY_AGAIN_FIRST, TRY_AGAIN_MAX = 0.02, 0.5


class Action(enum.Enum):
    MOVED = "moved"  # reconnect (to ``address``, or where the slot map says) and resend
    ASK = "ask"  # send once to ``address``
    TRY_AGAIN = "try again"  # resend after a pause
    DOWN = "down"  # an outage


@dataclass(frozen=True, slots=True)
class Redirect:
    action: Action
    address: tuple[str, int] | None = None


def follow(error: BaseException) -> Redirect | None:
    """What ``error`` (an error reply) asks for; None when it is the command's own error."""
    if isinstance(error, MovedError):
        return Redirect(Action.MOVED, (error.host, int(error.port)))
    if isinstance(error, AskError):
        return Redirect(Action.ASK, (error.host, int(error.port)))
    if isinstance(error, TryAgainError):
        return Redirect(Action.TRY_AGAIN)
    if isinstance(error, ClusterDownError):
        return Redirect(Action.DOWN)
    if isinstance(error, ResponseError) and str(error).startswith("UNBLOCKED"):
        return Redirect(Action.MOVED)
    return None


def try_again_delay(attempt: int) -> float:
    return min(TRY_AGAIN_FIRST * 2**attempt, TRY_AGAIN_MAX)


def asked(command: Command) -> list[tuple[Any, ...]]:
    """The commands that send ``command`` to the node an ASK named: ASKING first, and a
    script with its source (that node may not hold it; a NOSCRIPT there would lose the
    ASKING)."""
    if isinstance(command, ScriptCall):
        return [("ASKING",), command.command(load=True)]
    return [("ASKING",), command]

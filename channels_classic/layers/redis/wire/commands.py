"""Commands as the connections take them: plain tuples, or calls of Lua scripts by SHA1 that
fall back to sending the source when the server has forgotten the script."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .redis_py import NoScriptError


def pack_commands(commands: Iterable[tuple[Any, ...]]) -> bytes:
    """Encodes commands in the Redis protocol (str, bytes, int and float arguments)."""
    parts: list[bytes] = []
    for args in commands:
        parts.append(b"*%d\r\n" % len(args))
        for arg in args:
            if isinstance(arg, str):
                arg = arg.encode()
            elif not isinstance(arg, bytes):
                arg = repr(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class Script:
    """A Lua script, run by its SHA1; calling it with keys and arguments makes a ScriptCall."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> ScriptCall:
        return ScriptCall(self, keys, args)


@dataclass(frozen=True, slots=True)
class ScriptCall:
    """One run of a script: sent as EVALSHA, or as EVAL (which also caches the script) when
    the server has forgotten it."""

    script: Script
    keys: Sequence[Any]
    args: Sequence[Any]

    def command(self, *, load: bool = False) -> tuple[Any, ...]:
        head = ("EVAL", self.script.source) if load else ("EVALSHA", self.script.sha)
        return (*head, len(self.keys), *self.keys, *self.args)


#: What the connections accept: a plain command, or a script call.
Command = tuple[Any, ...] | ScriptCall


def wire_form(command: Command) -> tuple[Any, ...]:
    """The command as written to Redis."""
    return command.command() if isinstance(command, ScriptCall) else command


def retry_of(command: Command, reply: Any) -> tuple[Any, ...] | None:
    """The command to send instead when ``reply`` says Redis has forgotten ``command``'s
    script (after SCRIPT FLUSH or a restart); None when the reply stands.

    Every connection, async or blocking, asks this about each reply of a script call.
    """
    if isinstance(reply, NoScriptError) and isinstance(command, ScriptCall):
        return command.command(load=True)
    return None

"""The asyncio connection of a cluster shard: a ``CommandPipe`` that follows redirects.

A shard is one hash slot, so every command of its pipe goes to the node serving that slot.
When the slot has moved (``MOVED``), the pipe stops writing to the old connection, lets the
replies still owed on it arrive (each either answered or redirected in turn), reconnects
where the slot is now and resends. ``ASK`` sends the one command to the node importing the
slot, after ``ASKING``, on a connection kept for that node; ``TRYAGAIN`` resends after a
pause. None of these had run the command, so nothing is taken or sent twice
(``redirects`` says what each means). A redirected command is followed even when its caller
stopped waiting, like a script Redis had forgotten (``pipe``): a put-back must still happen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .commands import Command
from .connection_settings import ConnectionSettings
from .pipe import Callback, CommandPipe, Pending, Relay, _Wire, spawn
from .redirects import MAX_REDIRECTS, Action, Redirect, asked, follow, try_again_delay
from .redis_py import unavailable
from .sockets import locate, open_connection

#: How often a retired connection is checked for replies still owed on it.
RETIRE_POLL = 0.05


class _Redirected(Relay):
    """A cluster command's: follows the redirects its replies ask for, then passes the
    answer on."""

    __slots__ = ("_pipe", "_command", "_redirects")

    def __init__(self, pipe: ClusterPipe, command: Command, pending: Pending) -> None:
        super().__init__(pending)
        self._pipe = pipe
        self._command = command
        self._redirects = 0

    def set_exception(self, error: BaseException) -> None:
        redirect = follow(error)
        if redirect is not None and redirect.action is not Action.DOWN:
            if self._redirects < MAX_REDIRECTS:
                self._redirects += 1
                self._pipe.redirect(redirect, self._command, self, self._redirects)
                return
            error = ConnectionError(f"still redirected after {MAX_REDIRECTS} tries ({error})")
        if redirect is not None:
            error = unavailable(self._pipe.server.label, error)
        super().set_exception(error)


class ClusterPipe(CommandPipe):
    """The pipe of one cluster shard (see the module)."""

    def __init__(self, server: ConnectionSettings, *, socket_timeout: float | None = None) -> None:
        super().__init__(server, socket_timeout=socket_timeout)
        self._asking: dict[tuple[str, int], CommandPipe] = {}

    def send(self, command: Command, pending: Pending, *, more: bool = False) -> None:
        if not isinstance(pending, _Redirected):
            pending = _Redirected(self, command, pending)
        super().send(command, pending, more=more)

    def call_back(
        self, callback: Callback, *commands: Command, packed: bytes | None = None
    ) -> None:
        # Not pre-packed: every command goes through send(), to be followed.
        super().call_back(callback, *commands)

    def redirect(self, redirect: Redirect, command: Command, pending: Pending, tries: int) -> None:
        """Carries out what a redirect asks for ``command`` (see ``redirects``)."""
        if redirect.action is Action.ASK:
            assert redirect.address is not None
            self._ask(redirect.address, command, pending)
        elif redirect.action is Action.TRY_AGAIN:
            self._loop.call_later(try_again_delay(tries - 1), self.send, command, pending)
        else:
            self._moved(redirect.address)
            self.send(command, pending)

    def _moved(self, address: tuple[str, int] | None) -> None:
        """The slot is served at ``address`` now (None: where the slot map says): the
        connection to another node is retired, and the next command reconnects."""
        if address is not None and self.server.moved_to is not None:
            self.server.moved_to(address)
        wire = self._wire
        if wire is not None and (address is None or wire.address != address):
            self._wire = None
            spawn(self._retire(wire))

    async def _retire(self, wire: _Wire) -> None:
        """Closes ``wire`` once every reply owed on it has come (or its timeout passed)."""
        deadline = self._loop.time() + (self._timeout or 0)
        while wire.owed and wire.lost is None and self._loop.time() < deadline:
            await asyncio.sleep(RETIRE_POLL)
        wire.close()

    def _ask(self, address: tuple[str, int], command: Command, pending: Pending) -> None:
        pipe = self._asking.get(address)
        if pipe is None:
            pipe = self._asking[address] = CommandPipe(
                self.server.at(address), socket_timeout=self._timeout
            )
        asking, once = asked(command)
        pipe.call_and_forget(*asking)
        pipe.send(once, pending)

    async def _open(self, make_wire: Callable[[], _Wire]) -> _Wire:
        address = await locate(self.server)
        wire = await open_connection(self.server.at(address), make_wire)
        wire.address = address
        return wire

    def abort(self) -> None:
        super().abort()
        for pipe in self._asking.values():
            pipe.abort()
        self._asking.clear()

    async def close(self) -> None:
        await super().close()
        asking, self._asking = list(self._asking.values()), {}
        await asyncio.gather(*(pipe.close() for pipe in asking))


def pipe_to(server: ConnectionSettings, *, socket_timeout: float | None = None) -> CommandPipe:
    """The asyncio connection to ``server``: one that follows redirects for a cluster shard."""
    if server.moved_to is not None:
        return ClusterPipe(server, socket_timeout=socket_timeout)
    return CommandPipe(server, socket_timeout=socket_timeout)

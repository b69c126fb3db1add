"""The layer's asyncio connections: one protocol per server, auto-pipelined.

Every command of one event loop to one server goes through one connection. Commands issued
during the same turn of the loop are written in one batch, and replies resolve their futures
straight from ``data_received``, so a round trip costs the network and little else, and
concurrent sends share round trips. A caller that is cancelled after its command was queued
does not desynchronise anything, nor call the command off: its reply is read and dropped (a
script Redis had forgotten is still sent again with its source).

redis-py's asyncio client takes a pooled connection per concurrent command instead, which
costs this layer two to three times the time per command: ``docs/redis-layer.md`` has the
measurements. What redis-py does well (options, TLS, Sentinel, the parser, the exceptions)
comes through ``redis_py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .commands import Command, ScriptCall, pack_commands, retry_of
from .connection_settings import ConnectionSettings
from .redis_py import CONNECTION_ERRORS, ProtocolError, ResponseError, new_parser, unavailable
from .sockets import open_connection

logger = logging.getLogger(__name__)

_background: set[asyncio.Future[Any]] = set()


def spawn(awaitable: Any) -> asyncio.Future[Any]:
    """Runs ``awaitable`` in the background, keeping a reference until it is done."""
    task = asyncio.ensure_future(awaitable)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


class Pending(Protocol):
    """Where a command's reply goes: a future, or what stands where one would."""

    def done(self) -> bool: ...

    def set_result(self, result: Any, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


#: ``callback(position, reply, error)``: the reply to the command at ``position`` of a
#: ``call_back``, or the error it got.
Callback = Callable[[int, Any, BaseException | None], None]


class ReplyCallback:
    """Stands where a future would, for a caller that wants its reply handled inside
    ``data_received`` itself (no task switch): calls ``callback(position, reply, error)``
    once. (On a cluster, a redirected command's reply may come after those of commands
    written after it: the position says whose it is.)"""

    __slots__ = ("_callback", "_position", "_called")

    def __init__(self, callback: Callback, position: int) -> None:
        self._callback = callback
        self._position = position
        self._called = False

    def done(self) -> bool:
        return self._called

    def set_result(self, reply: Any) -> None:
        self._called = True
        self._callback(self._position, reply, None)

    def set_exception(self, error: BaseException) -> None:
        self._called = True
        self._callback(self._position, None, error)


class Relay:
    """Stands where a command's future (or callback) would, for a command that may be sent
    again before it is answered: done only once Redis has answered it, then passes the
    answer on, if its caller still waits. Subclasses say, in ``set_exception``, which
    errors send it again."""

    __slots__ = ("_pending", "_answered")

    def __init__(self, pending: Pending) -> None:
        self._pending = pending
        self._answered = False

    def done(self) -> bool:
        return self._answered

    def set_result(self, reply: Any) -> None:
        self._answered = True
        if not self._pending.done():
            self._pending.set_result(reply)

    def set_exception(self, error: BaseException) -> None:
        self._answered = True
        _fail(self._pending, error)


class _ScriptReply(Relay):
    """A script call's: when the reply says Redis has forgotten the script, sends the call
    again with its source, and passes that reply on instead. It does so even when its
    caller has stopped waiting (a cancelled put-back must still put back)."""

    __slots__ = ("_pipe", "_call")

    def __init__(self, pipe: CommandPipe, call: ScriptCall, pending: Pending) -> None:
        super().__init__(pending)
        self._pipe = pipe
        self._call = call

    def set_exception(self, error: BaseException) -> None:
        retry = retry_of(self._call, error)
        if retry is None:
            super().set_exception(error)
        else:
            self._pipe.send(retry, self._pending)


class _Wire(asyncio.Protocol):
    """One TCP (or Unix, or TLS) connection: writes commands, resolves replies in order.

    When replies are owed and none has come for ``timeout`` seconds, the server is taken to
    be gone: the connection is dropped and every waiting command fails.
    """

    def __init__(
        self, timeout: float | None, translate: Callable[[BaseException], BaseException]
    ) -> None:
        self._timeout = timeout
        self._translate = translate
        self._parser = new_parser()
        self._waiting: deque[Pending] = deque()
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._last_progress = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self.lost: BaseException | None = None
        #: The node it is connected to, where a cluster pipe keeps track (see cluster_pipe).
        self.address: tuple[str, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    @property
    def idle(self) -> bool:
        """Connected, healthy, and owed no replies."""
        return not self._waiting and self.lost is None and self._transport is not None

    @property
    def owed(self) -> int:
        """How many replies are still to come."""
        return len(self._waiting)

    def write(self, data: bytes, futures: Iterable[Pending]) -> None:
        if self.lost is not None or self._transport is None:
            error = self.lost or self._translate(ConnectionError("not connected"))
            for future in futures:
                _fail(future, error)
            return
        if not self._waiting:
            self._last_progress = self._loop.time()
        self._waiting.extend(futures)
        self._transport.write(data)
        if self._timer is None and self._timeout is not None:
            self._timer = self._loop.call_later(self._timeout, self._check_progress)

    def data_received(self, data: bytes) -> None:
        self._parser.feed(data)
        self._last_progress = self._loop.time()
        while True:
            try:
                reply = self._parser.gets()
            except ProtocolError as error:
                self.abort(ConnectionError(f"protocol error: {error}"))
                return
            if reply is False:
                return
            future = self._waiting.popleft()
            if future.done():
                continue
            if isinstance(reply, ResponseError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def _check_progress(self) -> None:
        self._timer = None
        if not self._waiting or self._timeout is None:
            return
        idle = self._loop.time() - self._last_progress
        if idle >= self._timeout:
            self.abort(TimeoutError(f"Timeout: no reply within {idle:.1f} s"))
        else:
            self._timer = self._loop.call_later(self._timeout - idle, self._check_progress)

    def abort(self, error: BaseException) -> None:
        self._lose(error)
        if self._transport is not None:
            self._transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose(exc or ConnectionError("Connection closed by server."))

    def _lose(self, error: BaseException) -> None:
        if self.lost is None:
            self.lost = self._translate(error)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting:
            _fail(self._waiting.popleft(), self.lost)

    async def drained(self) -> None:
        """Waits until every command written so far has its reply (or failed)."""
        futures = [item for item in self._waiting if isinstance(item, asyncio.Future)]
        if futures:
            await asyncio.wait(futures)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class CommandPipe:
    """Sends commands to one server over one connection, pipelining whatever is concurrent.

    ``socket_timeout`` bounds how long replies may be owed with none arriving (blocking
    commands need more than the default 5 s); None uses the server's setting.
    """

    def __init__(self, server: ConnectionSettings, *, socket_timeout: float | None = None) -> None:
        self.server = server
        # Made in, and used from, one event loop (asking asyncio for it costs a syscall on
        # Python 3.11, and commands are the hot path).
        self._loop = asyncio.get_running_loop()
        self._timeout = socket_timeout if socket_timeout is not None else server.socket_timeout
        self._wire: _Wire | None = None
        self._queued: list[tuple[tuple[Any, ...], Pending]] = []
        self._flush_scheduled = False
        self._connecting: asyncio.Future[Any] | None = None

    def call(self, *args: Any) -> asyncio.Future[Any]:
        """Queues one command; the future gets its reply, or the error it caused."""
        return self.run(args)

    def run(self, command: Command) -> asyncio.Future[Any]:
        """Queues a command or a script call; the future gets its reply, or the error."""
        future = self._loop.create_future()
        self.send(command, future)
        return future

    def call_back(
        self, callback: Callback, *commands: Command, packed: bytes | None = None
    ) -> None:
        """Queues ``commands`` to be written together; ``callback(position, reply, error)``
        runs for each reply as soon as it is read. ``packed``, if given, is
        ``pack_commands(commands)`` made earlier (plain commands only): written as it is
        when the connection is free, for a caller that sends the same commands again and
        again."""
        wire = self._wire
        if packed is not None and wire is not None and wire.idle and not self._queued:
            wire.write(packed, [ReplyCallback(callback, n) for n in range(len(commands))])
            return
        last = len(commands) - 1
        for position, command in enumerate(commands):
            self.send(command, ReplyCallback(callback, position), more=position < last)

    def send(self, command: Command, pending: Pending, *, more: bool = False) -> None:
        """Queues ``command``, whose reply goes to ``pending``; with ``more``, waits for the
        commands that follow in this turn of the loop before writing."""
        if isinstance(command, ScriptCall):
            pending = _ScriptReply(self, command, pending)
            args = command.command()
        else:
            args = command
        wire = self._wire
        if wire is not None and wire.idle and not self._queued and not more:
            # Nothing in flight: write at once (latency). Otherwise batch until the loop turns.
            wire.write(pack_commands((args,)), (pending,))
            return
        self._queued.append((args, pending))
        if not more and wire is not None and wire.idle:
            self._flush()
            return
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def call_and_forget(self, *args: Any) -> None:
        """Queues a command whose reply nobody needs; a failure is only logged."""
        self.call(*args).add_done_callback(_log_failure)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._queued:
            return
        wire = self._wire
        if wire is None or wire.lost is not None:
            # (A connection attempt cancelled before it ran, by a loop shutting down, never
            # cleared itself: it is done, and another one starts.)
            if self._connecting is None or self._connecting.done():
                self._connecting = spawn(self._connect())
            return
        batch, self._queued = self._queued, []
        wire.write(pack_commands(args for args, _ in batch), (future for _, future in batch))

    async def _connect(self) -> None:
        def make_wire() -> _Wire:
            return _Wire(self._timeout, lambda error: unavailable(self.server.label, error))

        wire: _Wire | None = None
        try:
            wire = await self._open(make_wire)
            handshake = self.server.handshake()
            if handshake:
                replies = [asyncio.get_running_loop().create_future() for _ in handshake]
                wire.write(pack_commands(handshake), replies)
                await asyncio.gather(*replies)
        except Exception as error:
            if wire is not None:
                wire.close()
            if isinstance(error, (*CONNECTION_ERRORS, ResponseError)):
                failure: Exception = unavailable(self.server.label, error)
            else:
                logger.exception("redis layer: connecting to %s failed", self.server.label)
                failure = error
            batch, self._queued = self._queued, []
            for _, future in batch:
                _fail(future, failure)
        else:
            self._wire = wire
        finally:
            self._connecting = None
        self._flush()

    async def _open(self, make_wire: Callable[[], _Wire]) -> _Wire:
        """A new connection to the server."""
        return await open_connection(self.server, make_wire)

    def abort(self) -> None:
        """Drops the connection now; commands waiting for replies fail."""
        wire, self._wire = self._wire, None
        if wire is not None:
            wire.abort(ConnectionError("connection closed by the layer"))

    async def close(self) -> None:
        """Waits for the replies of commands already issued, then closes the connection."""
        self._flush()
        while self._connecting is not None and not self._connecting.done():
            # Connecting writes what is queued. An attempt cancelled meanwhile (a loop that
            # shuts down cancels its tasks first) is made again by the flush.
            await asyncio.wait([self._connecting])
            self._flush()
        wire, self._wire = self._wire, None
        if wire is not None:
            await wire.drained()
            wire.close()


def _fail(future: Pending, error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.debug("redis layer: background command failed: %s", future.exception())

"""An auto-pipelining command connection: every non-blocking command of one event loop to one
shard goes through a single redis-py connection.

Commands issued during the same turn of the event loop are written in one batch and their
replies are read, in order, by one reader task. Concurrent sends from one process therefore
share round trips instead of each taking a pooled connection, and a caller that is cancelled
after its command was written does not desynchronise the connection: its reply is read and
dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

import redis.exceptions
from redis.asyncio.connection import AbstractConnection

from ...exceptions import ChannelLayerUnavailable
from .hosts import Shard

logger = logging.getLogger(__name__)

#: What redis-py raises when the server is unreachable, went away or stopped answering.
CONNECTION_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


_background: set[asyncio.Future[Any]] = set()


def spawn(awaitable: Any) -> asyncio.Future[Any]:
    """Runs ``awaitable`` in the background, keeping a reference until it is done."""
    task = asyncio.ensure_future(awaitable)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


def unavailable(shard: Shard, error: BaseException) -> ChannelLayerUnavailable:
    """The exception a layer user sees when ``shard`` cannot be used."""
    if isinstance(error, ChannelLayerUnavailable):
        return error
    return ChannelLayerUnavailable(
        f"Redis at {shard.label} is unavailable ({error}). Check that it is running and "
        "reachable; the layer reconnects on its next call."
    )


class CommandPipe:
    """Sends commands to one shard over one connection, pipelining whatever is concurrent."""

    def __init__(self, shard: Shard, *, socket_timeout: float | None = None) -> None:
        self.shard = shard
        self._socket_timeout = socket_timeout
        self._connection: AbstractConnection | None = None
        self._queued: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._in_flight: deque[asyncio.Future[Any]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._reading: AbstractConnection | None = None

    def call(self, *args: Any) -> asyncio.Future[Any]:
        """Queues one command; the future gets its raw reply, or the error it caused."""
        future = asyncio.get_running_loop().create_future()
        self._queued.append((args, future))
        if self._writer is None:
            self._writer = asyncio.ensure_future(self._write())
        return future

    def call_and_forget(self, *args: Any) -> None:
        """Queues a command whose reply nobody needs; a failure is only logged."""
        self.call(*args).add_done_callback(_log_failure)

    async def _write(self) -> None:
        try:
            while self._queued:
                try:
                    connection = await self._connected()
                except CONNECTION_ERRORS as error:
                    batch, self._queued = self._queued, []
                    for _, future in batch:
                        _fail(future, unavailable(self.shard, error))
                    continue
                batch, self._queued = self._queued, []
                self._in_flight.extend(future for _, future in batch)
                try:
                    await connection.send_packed_command(
                        connection.pack_commands([args for args, _ in batch]), check_health=False
                    )
                except CONNECTION_ERRORS as error:
                    self._break(connection, error)
                    continue
                if self._reading is not connection:
                    self._reading = connection
                    spawn(self._read(connection))
        finally:
            self._writer = None

    async def _read(self, connection: AbstractConnection) -> None:
        try:
            while self._in_flight and connection is self._connection:
                try:
                    reply: Any = await connection.read_response(disable_decoding=True)
                except redis.exceptions.ResponseError as error:
                    reply = error
                except CONNECTION_ERRORS as error:
                    self._break(connection, error)
                    return
                future = self._in_flight.popleft()
                if future.done():
                    continue
                if isinstance(reply, redis.exceptions.ResponseError):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        finally:
            if self._reading is connection:
                self._reading = None

    async def _connected(self) -> AbstractConnection:
        if self._connection is not None and not self._in_flight:
            # Nothing is owed to us, so anything readable is an EOF or junk: the server
            # restarted or dropped us while we were idle. Reconnect rather than fail a command.
            try:
                stale = await self._connection.can_read()
            except CONNECTION_ERRORS:
                stale = True
            if stale:
                stale_connection, self._connection = self._connection, None
                await stale_connection.disconnect(nowait=True)
        if self._connection is None:
            connection = self.shard.connect(socket_timeout=self._socket_timeout)
            await connection.connect()
            self._connection = connection
        return self._connection

    def _break(self, connection: AbstractConnection, error: BaseException) -> None:
        """Fails every command written on ``connection`` and drops it."""
        if connection is not self._connection:
            return
        self._connection = None
        failure = unavailable(self.shard, error)
        while self._in_flight:
            _fail(self._in_flight.popleft(), failure)
        logger.warning("redis layer: connection to %s lost: %s", self.shard.label, error)
        spawn(connection.disconnect(nowait=True))

    async def close(self) -> None:
        """Waits for commands already issued, then closes the connection."""
        pending = [future for _, future in self._queued] + list(self._in_flight)
        if pending:
            await asyncio.wait(pending)
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.disconnect()


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.debug("redis layer: background command failed: %s", future.exception())

"""Blocking connections, one per thread and server, for the layer's synchronous API.

Consumers run in worker threads and Django views in whatever thread serves them; their sends
go straight to Redis from that thread (one write, one read), instead of hopping to an event
loop and back. Each thread has its own connection, so nothing is shared or locked.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

from .commands import Command, pack_commands, retry_of, wire_form
from .connection_settings import ConnectionSettings
from .redirects import MAX_REDIRECTS, Action, asked, follow, try_again_delay
from .redis_py import CONNECTION_ERRORS, ProtocolError, new_parser, unavailable
from .sockets import open_blocking

#: Bytes asked of the socket per read (a batch of replies usually fits in one).
READ_SIZE = 65536
#: A connection unused for this long is checked for a close from the server before use (a
#: Redis restart while it was idle), so that no command is written into a dead socket.
STALE_AFTER = 1.0


class BlockingConnection:
    """One socket to one server; ``call_many`` writes commands together, reads every reply."""

    def __init__(self, server: ConnectionSettings) -> None:
        self.server = server
        self._socket: socket.socket | None = None
        self._parser = new_parser()
        self._last_used = 0.0

    def call_many(self, commands: Sequence[Command]) -> list[Any]:
        """The replies of ``commands`` (error replies as exceptions in the list); raises
        ChannelLayerUnavailable if the server cannot be reached or stops answering."""
        try:
            sock = self._connected()
            sock.sendall(pack_commands(wire_form(command) for command in commands))
            replies = [self._read(sock) for _ in commands]
            retries = {
                index: retry
                for index, (command, reply) in enumerate(zip(commands, replies, strict=True))
                if (retry := retry_of(command, reply)) is not None
            }
            if retries:
                sock.sendall(pack_commands(retries.values()))
                for index in retries:
                    replies[index] = self._read(sock)
        except (*CONNECTION_ERRORS, ProtocolError) as error:
            self.close()
            raise unavailable(self.server.label, error) from error
        self._last_used = time.monotonic()
        return replies

    def _read(self, sock: socket.socket) -> Any:
        while True:
            reply = self._parser.gets()
            if reply is not False:
                return reply
            data = sock.recv(READ_SIZE)
            if not data:
                raise ConnectionError("Connection closed by server.")
            self._parser.feed(data)

    def _connected(self) -> socket.socket:
        if self._socket is not None and time.monotonic() - self._last_used > STALE_AFTER:
            readable, _, _ = select.select([self._socket], [], [], 0)
            if readable:  # nothing is owed to us: an EOF, or junk
                self.close()
        if self._socket is None:
            self._socket = open_blocking(self.server)
            self._parser = new_parser()
            handshake = self.server.handshake()
            if handshake:
                self._socket.sendall(pack_commands(handshake))
                for _ in handshake:
                    reply = self._read(self._socket)
                    if isinstance(reply, Exception):
                        self.close()
                        raise ConnectionError(str(reply))
        return self._socket

    def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()


class ClusterBlockingConnection(BlockingConnection):
    """A blocking connection to a cluster shard: follows the cluster's redirects (see
    ``redirects``); a CLUSTERDOWN reply becomes ChannelLayerUnavailable."""

    def call_many(self, commands: Sequence[Command]) -> list[Any]:
        replies = super().call_many(commands)
        for attempt in range(MAX_REDIRECTS + 1):
            redirects = {
                index: redirect
                for index, reply in enumerate(replies)
                if isinstance(reply, Exception) and (redirect := follow(reply)) is not None
            }
            if not redirects:
                break
            if attempt == MAX_REDIRECTS:
                for index in redirects:
                    replies[index] = self._lost_track(replies[index])
                break
            resend: list[int] = []
            for index, redirect in redirects.items():
                if redirect.action is Action.DOWN:
                    replies[index] = unavailable(self.server.label, replies[index])
                elif redirect.action is Action.ASK:
                    assert redirect.address is not None
                    replies[index] = self._ask(redirect.address, commands[index])
                else:
                    resend.append(index)
                    if redirect.action is Action.MOVED:
                        self._moved(redirect.address)
            if any(redirect.action is Action.TRY_AGAIN for redirect in redirects.values()):
                time.sleep(try_again_delay(attempt))
            if resend:
                answers = super().call_many([commands[index] for index in resend])
                for index, answer in zip(resend, answers, strict=True):
                    replies[index] = answer
        return replies

    def _moved(self, address: tuple[str, int] | None) -> None:
        """Reconnects where the slot is now: at ``address``, or where the map says."""
        if address is not None and self.server.moved_to is not None:
            self.server.moved_to(address)
        self.close()

    def _ask(self, address: tuple[str, int], command: Command) -> Any:
        once = BlockingConnection(self.server.at(address))
        try:
            return once.call_many(asked(command))[1]
        finally:
            once.close()

    def _lost_track(self, reply: Exception) -> Exception:
        return unavailable(
            self.server.label,
            ConnectionError(f"still redirected after {MAX_REDIRECTS} tries ({reply})"),
        )


def connection_to(server: ConnectionSettings) -> BlockingConnection:
    """A blocking connection to ``server``: one that follows redirects for a cluster shard."""
    if server.moved_to is not None:
        return ClusterBlockingConnection(server)
    return BlockingConnection(server)


class BlockingConnections(threading.local):
    """This thread's blocking connections, by shard index (made on first use)."""

    def __init__(self, shards: Sequence[ConnectionSettings]) -> None:
        self._shards = shards
        self._pid = os.getpid()
        self._connections: dict[int, BlockingConnection] = {}

    def __getitem__(self, index: int) -> BlockingConnection:
        if self._pid != os.getpid():  # a forked child must not share its parent's sockets
            self._pid, self._connections = os.getpid(), {}
        connection = self._connections.get(index)
        if connection is None:
            connection = self._connections[index] = connection_to(self._shards[index])
        return connection

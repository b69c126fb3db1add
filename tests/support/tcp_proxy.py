"""A TCP proxy on 127.0.0.1 in front of a real server, that can lose one answer on demand.

It stands for the network failing at the worst moment for a sender: the command has reached
Redis, which carries it out, and the connection breaks before the reply is back. Armed with
``lose_next_reply()``, the proxy drops the next bytes the server sends on any connection (or
the ones after ``after`` more replies) and cuts that connection both ways; every other byte
passes unchanged. It runs in threads of
its own, so blocking and asyncio clients in the test's thread can use it alike.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

from channels_classic.layers.redis import RedisChannelLayer

#: Bytes relayed per read.
CHUNK = 65536


class ReplyLosingProxy:
    """Relays 127.0.0.1:``port`` to ``target``; ``url`` is the Redis URL of the proxy."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}"
        self._lose = threading.Event()
        self._pass_first = 0
        #: How many replies were lost so far.
        self.lost = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def lose_next_reply(self, after: int = 0) -> None:
        """The next reply the server sends, once ``after`` more have passed (a command per
        round trip: one read each), is dropped and its connection cut."""
        self._pass_first = after
        self._lose.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self._target)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._relay, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._relay, args=(server, client, True), daemon=True).start()

    def _relay(self, source: socket.socket, sink: socket.socket, replies: bool) -> None:
        try:
            while data := source.recv(CHUNK):
                if replies and self._lose.is_set():
                    if self._pass_first == 0:
                        self._lose.clear()
                        self.lost += 1
                        break
                    self._pass_first -= 1
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for end in self._sockets:
                end.close()

    def __enter__(self) -> ReplyLosingProxy:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


async def warm_up(layer: RedisChannelLayer) -> None:
    """Opens ``layer``'s connections and loads its send scripts, so that the reply a proxy
    loses is that of the send under test (not a NOSCRIPT, after which the script would be
    sent again). Sends to normal channels start on the first shard again afterwards."""
    for _ in layer.shards:
        await layer.send("test.warm", {})
        layer.send_sync("test.warm", {})
    await layer.group_send("test.warm", {})  # no members: only their script

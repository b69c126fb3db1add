"""Opening connections to a server, for the event loop and for blocking code alike, so that
both get the same address, TLS and socket options from one ``ConnectionSettings``."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .connection_settings import ConnectionSettings

P = TypeVar("P", bound=asyncio.Protocol)

#: Where the event loop asks Sentinel or a cluster's slot map for an address (blocking
#: network calls). Not the loop's default executor: asyncio.run() shuts that down before
#: the layer closes with the loop, and what the layer hands back then must still connect.
_LOOKUPS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="redis-layer-lookup")


async def locate(settings: ConnectionSettings) -> tuple[str, int]:
    """The server's address, asked of Sentinel or the slot map off the event loop."""
    if settings.locate is None:
        return settings.host, settings.port
    return await asyncio.get_running_loop().run_in_executor(_LOOKUPS, settings.address)


def tune(sock: socket.socket, settings: ConnectionSettings) -> None:
    """Applies the TCP options: no Nagle delay (commands are batched already), and the
    configured keepalive."""
    if sock.family == socket.AF_UNIX:
        return
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if settings.keepalive is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in settings.keepalive:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)


async def open_connection(settings: ConnectionSettings, protocol_factory: Callable[[], P]) -> P:
    """Connects a new ``protocol_factory()`` protocol to the server and returns it."""
    loop = asyncio.get_running_loop()
    if settings.unix_path:
        connecting = loop.create_unix_connection(protocol_factory, settings.unix_path)
    else:
        host, port = await locate(settings)
        tls = settings.tls
        connecting = loop.create_connection(
            protocol_factory, host, port, ssl=tls, server_hostname=host if tls else None
        )
    transport, protocol = await asyncio.wait_for(connecting, settings.connect_timeout)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        tune(sock, settings)
    return protocol


def open_blocking(settings: ConnectionSettings) -> socket.socket:
    """A connected blocking socket to the server, with the configured read timeout."""
    timeout = settings.connect_timeout
    sock: socket.socket
    if settings.unix_path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(settings.unix_path)
    else:
        host, port = settings.address()
        sock = socket.create_connection((host, port), timeout=timeout)
        tune(sock, settings)
        if settings.tls is not None:
            sock = settings.tls.wrap_socket(sock, server_hostname=host)
    sock.settimeout(settings.socket_timeout)
    return sock

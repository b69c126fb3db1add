"""daphne_compat's immediate write of a reply, on a real Twisted TCP transport and socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from twisted.internet import tcp
from twisted.internet.protocol import Protocol
from twisted.internet.selectreactor import SelectReactor

from channels_classic.interface.daphne_compat import _write_now


@pytest.fixture
def transport_and_peer() -> Iterator[tuple[tcp.Connection, socket.socket]]:
    """A Twisted TCP transport on one end of a socket pair, with a reactor that never runs:
    whatever reaches the peer was written by the code under test, not by a reactor turn."""
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    peer.settimeout(0)
    transport = tcp.Connection(ours, Protocol(), SelectReactor())
    transport.connected = True  # as tcp.Server marks an accepted connection
    yield transport, peer
    ours.close()
    peer.close()


def test_buffered_bytes_reach_the_socket_at_once(transport_and_peer):
    transport, peer = transport_and_peer
    transport.write(b"frame")
    with pytest.raises(BlockingIOError):
        peer.recv(100)  # Twisted only buffers: its reactor would write on its next turn
    _write_now(transport)
    assert peer.recv(100) == b"frame"
    assert not transport.dataBuffer and not transport._tempDataBuffer


def test_a_closing_transport_is_left_to_the_reactor(transport_and_peer):
    """Writing here would skip the reactor's close once the buffer is empty."""
    transport, peer = transport_and_peer
    transport.write(b"frame")
    transport.loseConnection()
    _write_now(transport)
    with pytest.raises(BlockingIOError):
        peer.recv(100)


def test_transports_without_a_socket_of_their_own_are_left_alone():
    class Wrapped:
        disconnecting = False

    _write_now(Wrapped())  # TLS and other wrappers: no doWrite, nothing to do

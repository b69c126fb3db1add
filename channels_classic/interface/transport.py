"""Flow control of one WebSocket's TCP connection, which ASGI does not give an application.

daphne reads up to 64 KiB from a socket at a time, parses every frame in it before it
returns to the event loop, and queues them all for the application, unbounded; it writes
every reply into an unbounded buffer. 64 KiB of tiny frames is thousands of frames and
tens of milliseconds of parsing, during which no other socket is served. So for each daphne
WebSocket (``daphne_compat`` hands it to the interface in the scope's extensions, as
``FLOW_CONTROL``) this object stands between the socket and the frame parser:

- what is read is parsed a slice at a time (``SLICE`` bytes, then the event loop's other
  work has its turn), and only while the application keeps up: the frames parsed and not
  yet taken stay under ``QUEUED_FRAMES``; the bytes read and not yet parsed stay under
  ``READ_AHEAD``, beyond which the socket is not read at all (its client's writes block:
  TCP's own backpressure);
- the application can stop the parsing and the reads altogether (``pause_reading``), while
  the layer cannot take the socket's frames;
- it is the connection's producer, so Twisted tells it when the write buffer passes its
  size (the client does not read) and when it has drained (``write_blocked``, ``drained``).

Under another ASGI server the extension is absent and the interface does without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

#: The scope extension that carries a connection's ``TransportFlow``.
FLOW_CONTROL = "channels_classic.flow_control"
#: Bytes parsed in one go before the event loop's other work has its turn.
SLICE = 4096
#: Frames parsed ahead of the application; more are parsed once it has taken some.
QUEUED_FRAMES = 16
#: Bytes read and not yet parsed, beyond which the socket is not read until they are.
READ_AHEAD = 64 * 1024


@implementer(IPushProducer)
class TransportFlow:
    """Between one Twisted transport and its frame parser: paced parsing, pausable reads,
    and whether writes back up."""

    __slots__ = (
        "_transport",
        "_parse",
        "_queued",
        "_unparsed",
        "_paused",
        "_reading",
        "_feeding",
        "write_blocked",
        "_drained",
    )

    def __init__(self, transport: Any, parse: Callable[[bytes], None]) -> None:
        self._transport = transport
        self._parse = parse
        self._queued: Callable[[], int] = lambda: 0
        self._unparsed = bytearray()
        self._paused = False
        self._reading = True
        self._feeding = False
        #: True while the transport holds more unwritten bytes than its buffer size.
        self.write_blocked = False
        self._drained: asyncio.Future[None] | None = None
        # daphne's HTTP channel registered itself before the upgrade to WebSocket, and a
        # transport has one producer: this connection's is now this object.
        if transport.producer is not None:
            transport.unregisterProducer()
        transport.registerProducer(self, True)

    def feeds(self, queue: asyncio.Queue[Any]) -> None:
        """``queue`` is where parsed frames wait for the application (daphne's own)."""
        self._queued = queue.qsize

    # Reading

    def data_received(self, data: bytes) -> None:
        """What the transport read: parsed now if the application keeps up, else later."""
        self._unparsed += data
        self._feed()

    def frame_taken(self) -> None:
        """The application took a frame: parse more, if some wait."""
        if self._unparsed and not self._feeding:
            self._feed()

    def flush(self) -> None:
        """Parses everything read so far at once (the connection is gone)."""
        piece, self._unparsed = bytes(self._unparsed), bytearray()
        if piece:
            self._parse(piece)

    def pause_reading(self) -> None:
        """No more frames for now: parsing stops and the socket is not read."""
        self._paused = True
        self._set_reading(False)

    def resume_reading(self) -> None:
        if self._paused:
            self._paused = False
            self._feed()

    def _feed(self) -> None:
        """Parses one slice if the application keeps up; the rest on the loop's next turn."""
        self._feeding = False
        if self._unparsed and not self._paused and self._queued() < QUEUED_FRAMES:
            piece = bytes(self._unparsed[:SLICE])
            del self._unparsed[:SLICE]
            self._parse(piece)
            if self._unparsed:
                self._feeding = True
                asyncio.get_running_loop().call_soon(self._feed)
        self._set_reading(not self._paused and len(self._unparsed) < READ_AHEAD)

    def _set_reading(self, reading: bool) -> None:
        if reading != self._reading:
            self._reading = reading
            if reading:
                self._transport.resumeProducing()
            else:
                self._transport.pauseProducing()

    # Writing

    async def drained(self) -> None:
        """Returns once the write buffer is below its size again (at once if it is)."""
        while self.write_blocked:
            if self._drained is None:
                self._drained = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._drained)

    # IPushProducer: Twisted calls these as the write buffer fills and drains.

    def pauseProducing(self) -> None:
        self.write_blocked = True

    def resumeProducing(self) -> None:
        self.write_blocked = False
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def stopProducing(self) -> None:
        """The connection is gone: nothing waits for its buffer any more."""
        self.resumeProducing()

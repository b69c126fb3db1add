"""Flow control of one WebSocket's TCP connection, which ASGI does not give an application.

daphne reads every frame a client sends into an unbounded queue, and writes every reply
into an unbounded buffer. To keep one client from growing the server without bound, the
interface server needs two things of the connection underneath, which ``daphne_compat``
hands it in the scope's extensions (``FLOW_CONTROL``) for each daphne WebSocket:

- reads that can be paused: while paused, the client's frames stay in its own TCP buffers
  and its writes block (TCP backpressure), instead of piling up in the server;
- word of when the connection's write buffer is full and when it has drained: Twisted
  tells a registered producer, and this is that producer.

Under another ASGI server the extension is absent and the interface does without it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

#: The scope extension that carries a connection's ``TransportFlow``.
FLOW_CONTROL = "channels_classic.flow_control"


@implementer(IPushProducer)
class TransportFlow:
    """Pauses and resumes a Twisted transport's reads; knows whether its writes back up."""

    __slots__ = ("_transport", "reading", "write_blocked", "_drained")

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self.reading = True
        #: True while the transport holds more unwritten bytes than its buffer size.
        self.write_blocked = False
        self._drained: asyncio.Future[None] | None = None
        # daphne's HTTP channel registered itself before the upgrade to WebSocket, and a
        # transport has one producer: this connection's is now this object.
        if transport.producer is not None:
            transport.unregisterProducer()
        transport.registerProducer(self, True)

    def pause_reading(self) -> None:
        if self.reading:
            self.reading = False
            self._transport.pauseProducing()

    def resume_reading(self) -> None:
        if not self.reading:
            self.reading = True
            self._transport.resumeProducing()

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

"""What a layer backend can do: the channels 4 layer API the project relies on, and what a
backend may offer beyond it, declared in one place and found once.

Every backend has the channels 4 API (``ChannelLayer``). The project's own layers offer
more, each ability a Protocol here: channels_redis and channels 4's in-memory layer have
none of them, and the project does without (``docs/production.md`` says what each buys).
``Capabilities.of(backend)`` looks once, when the backend is wrapped (``ClassicLayer``):
workers, the interface server and the delay server read the answer there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import channels.layers

#: Messages as receives return them: (full channel name, message) pairs.
Received = list[tuple[str, dict[str, Any]]]
#: Takes each message of a process's channels, as (full channel name, message).
Deliver = Callable[[str, dict[str, Any]], None]
#: Where a sent message waits, as the backend that returned it understands it.
Ticket = Any


class ChannelLayer(Protocol):
    """The channels 4 layer API, as far as the project uses it: every backend has it."""

    async def send(self, channel: str, message: dict[str, Any]) -> None: ...

    async def receive(self, channel: str) -> dict[str, Any]: ...

    async def new_channel(self, prefix: str = "specific") -> str: ...

    async def group_add(self, group: str, channel: str) -> None: ...

    async def group_discard(self, group: str, channel: str) -> None: ...

    async def group_send(self, group: str, message: dict[str, Any]) -> None: ...

    async def flush(self) -> None: ...


@runtime_checkable
class ReceivesBatches(Protocol):
    """Waits on several channels in one call (a worker's routed channels, an interface's
    process channel) and takes up to ``limit`` messages at once."""

    async def receive_batch(self, channels: Sequence[str], limit: int = 1) -> Received:
        """1 to ``limit`` (channel, message) pairs; a name ending in '!' stands for every
        process channel under it."""


@runtime_checkable
class ReceivesReady(Protocol):
    """Can say what is waiting without waiting: a 1.x non-blocking receive, the delay
    server's round."""

    async def receive_ready(self, channels: Sequence[str], limit: int = 1) -> Received:
        """0 to ``limit`` messages already there."""


@runtime_checkable
class DeliversAll(Protocol):
    """Hands every message of a process's channels to a function as it is read (the
    interface server's replies take no receive loop and no task switch)."""

    async def deliver_all(self, process: str, deliver: Deliver) -> None:
        """Calls ``deliver`` for each message until cancelled; raises what stopped it."""


@runtime_checkable
class Releases(Protocol):
    """Gives back what its receiving took for channels a process stops receiving on (a
    stopping worker keeps nothing)."""

    async def release(self, channels: Sequence[str]) -> int:
        """Hands those messages back in their places; returns how many."""


@runtime_checkable
class SendsBlocking(Protocol):
    """Sends from synchronous code on the calling thread (consumer threads, views), with no
    event loop in between."""

    def send_sync(self, channel: str, message: dict[str, Any]) -> None: ...

    def group_add_sync(self, group: str, channel: str) -> None: ...

    def group_discard_sync(self, group: str, channel: str) -> None: ...

    def group_send_sync(self, group: str, message: dict[str, Any]) -> None: ...


@runtime_checkable
class TracksProgress(Protocol):
    """Sends whose messages can be told taken: the interface server bounds how many frames
    of one socket wait on a channel at once (fairness between sockets)."""

    async def send_tracked(
        self, channel: str, message: dict[str, Any], *, once: Any = None
    ) -> Ticket:
        """``send``, returning a ticket for ``progress`` (``once`` as for ``SendsOnce``)."""

    async def progress(self, channel: str) -> Callable[[Ticket], bool]:
        """A test, true as of this call, of whether a ticket's message has left ``channel``."""


@runtime_checkable
class SendsOnce(Protocol):
    """Sends that can be tried again after an outage without delivering a message twice: the
    tries of one message share what ``once()`` gives, passed to each as ``once=``. (A try
    whose connection broke after it was written may have been carried out.)"""

    def once(self) -> AbstractContextManager[Any]:
        """What one message's tries share, until the block ends."""

    async def send(self, channel: str, message: dict[str, Any], *, once: Any = None) -> None: ...

    async def group_send(
        self, group: str, message: dict[str, Any], *, once: Any = None
    ) -> None: ...

    def send_sync(self, channel: str, message: dict[str, Any], *, once: Any = None) -> None: ...

    def group_send_sync(self, group: str, message: dict[str, Any], *, once: Any = None) -> None: ...


def once_for(backend: SendsOnce | None) -> AbstractContextManager[Any]:
    """``backend.once()``, or a block that gives None for a backend without them (whose
    retries are plain sends again)."""
    return backend.once() if backend is not None else nullcontext()


@runtime_checkable
class ReportsHealth(Protocol):
    """A backend that can be asked whether its servers answer, and whether they came back
    with their data after an outage (a marker written before it is still there)."""

    async def ping(self) -> None:
        """Returns once the backend's servers answer; raises ConnectionError otherwise."""

    async def mark(self, name: str, ttl: float) -> None:
        """Writes the marker ``name`` for ``ttl`` seconds."""

    async def is_marked(self, name: str) -> bool:
        """True while the marker ``name`` is still there."""


@runtime_checkable
class CountsWaiting(Protocol):
    """Can say how many messages wait on channels (queue lengths, for metrics)."""

    async def count_waiting(self, channels: Sequence[str]) -> dict[str, int]:
        """The number of unexpired messages waiting on each of ``channels``."""


@runtime_checkable
class ProcessLocal(Protocol):
    """Says whether it is process-local: ``local_only`` true means no other process sees its
    messages (runworker refuses such a layer; runserver runs a worker beside it)."""

    local_only: bool


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one backend can do: each ability is the backend itself when it has it, else
    None. Made once per backend, by ``of``."""

    layer: ChannelLayer
    batches: ReceivesBatches | None
    ready: ReceivesReady | None
    delivery: DeliversAll | None
    release: Releases | None
    blocking: SendsBlocking | None
    progress: TracksProgress | None
    once: SendsOnce | None
    health: ReportsHealth | None
    waiting: CountsWaiting | None
    local_only: bool

    @classmethod
    def of(cls, backend: ChannelLayer) -> Capabilities:
        """Looks at ``backend`` once. channels 4's own in-memory layer, which cannot say so
        itself, is process-local too."""
        return cls(
            layer=backend,
            batches=backend if isinstance(backend, ReceivesBatches) else None,
            ready=backend if isinstance(backend, ReceivesReady) else None,
            delivery=backend if isinstance(backend, DeliversAll) else None,
            release=backend if isinstance(backend, Releases) else None,
            blocking=backend if isinstance(backend, SendsBlocking) else None,
            progress=backend if isinstance(backend, TracksProgress) else None,
            once=backend if isinstance(backend, SendsOnce) else None,
            health=backend if isinstance(backend, ReportsHealth) else None,
            waiting=backend if isinstance(backend, CountsWaiting) else None,
            local_only=(isinstance(backend, ProcessLocal) and backend.local_only is True)
            or isinstance(backend, channels.layers.InMemoryChannelLayer),
        )


#: The names of the channels 4 layer API (``ChannelLayer``'s methods).
CHANNEL_LAYER_API = tuple(
    name for name, value in vars(ChannelLayer).items() if callable(value) and name[0] != "_"
)


def missing_api(backend: object) -> list[str]:
    """The methods of the channels 4 layer API that ``backend`` lacks ([] for a layer)."""
    return [name for name in CHANNEL_LAYER_API if not callable(getattr(backend, name, None))]

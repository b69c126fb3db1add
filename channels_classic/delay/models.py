"""Stored delayed messages, with their content kept byte for byte.

The content is msgpack in a binary column, as the Redis layer stores messages: bytes stay
bytes and str stays str, so anything a layer carries can be delayed (1.x stored JSON text and
could not delay bytes, e.g. HTTP responses).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgpack
from django.db import models
from django.db.models import Min

from .protocol import DelayRequest, InvalidDelayRequest


def pack_content(content: dict[str, Any]) -> bytes:
    """The stored form of a message; InvalidDelayRequest if it holds a type msgpack lacks."""
    try:
        packed: bytes = msgpack.packb(content, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as error:
        raise InvalidDelayRequest(
            f"'content' cannot be stored ({error}): a message may hold only str, bytes, int, "
            "float, bool, None, and lists and dicts of those"
        ) from error
    return packed


def unpack_content(stored: bytes | memoryview) -> dict[str, Any]:
    """The message stored as ``stored`` (the column is bytes or memoryview by database)."""
    content = msgpack.unpackb(stored, raw=False, strict_map_key=False)
    if not isinstance(content, dict):
        raise ValueError(f"a stored delayed message must be a dict, got {type(content).__name__}")
    return content


class DelayedMessageQuerySet(models.QuerySet):
    def due(self, now: datetime) -> DelayedMessageQuerySet:
        """The messages due at ``now``, earliest first (equal due dates in arrival order)."""
        return self.filter(due_date__lte=now).order_by("due_date", "pk")

    async def anext_due_date(self) -> datetime | None:
        """When the earliest stored message is due; None when none is stored."""
        earliest: datetime | None = (await self.aaggregate(earliest=Min("due_date")))["earliest"]
        return earliest


class DelayedMessage(models.Model):
    """A message waiting to be sent to ``channel_name`` at ``due_date``."""

    due_date = models.DateTimeField(db_index=True)
    channel_name = models.CharField(max_length=512)
    content = models.BinaryField()

    objects = DelayedMessageQuerySet.as_manager()

    def __str__(self) -> str:
        return f"message for {self.channel_name} due {self.due_date.isoformat()}"

    @classmethod
    def from_request(cls, request: DelayRequest, now: datetime) -> DelayedMessage:
        """The (unsaved) row for a checked request received at ``now``; InvalidDelayRequest
        if its content cannot be stored or its delay ends past the year 9999."""
        try:
            due_date = now + timedelta(milliseconds=request["delay"])
        except OverflowError:
            raise InvalidDelayRequest(
                f"'delay' of {request['delay']!r} ms ends past the year 9999; send a shorter one"
            ) from None
        return cls(
            due_date=due_date,
            channel_name=request["channel"],
            content=pack_content(request["content"]),
        )

    def message(self) -> dict[str, Any]:
        """The message to send; ValueError if the stored content is not one."""
        return unpack_content(self.content)

from datetime import timedelta

from django.db import models
from django.utils import timezone


class PresenceQuerySet(models.QuerySet):
    def current(self, max_age: float) -> "PresenceQuerySet":
        """The rows at most ``max_age`` seconds old; older ones are deleted first.

        A socket joins its room's group when its row is made, and the layer forgets a group
        member ``group_expiry`` seconds after adding it: with that as ``max_age``, older rows
        are sockets no longer in the room, among them those whose disconnect never ran
        (daphne and the workers stopped together)."""
        cutoff = timezone.now() - timedelta(seconds=max_age)
        self.filter(joined_at__lt=cutoff).delete()
        return self.filter(joined_at__gte=cutoff)


class Presence(models.Model):
    """One open chat socket: who is in which room (a Group has no member list)."""

    room = models.CharField(max_length=50, db_index=True)
    reply_channel = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=30)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects = PresenceQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} in {self.room}"


class RoomTopic(models.Model):
    """A room's topic, once someone has set it. Every save reaches the room's live sockets
    (``realtime.live.RoomTopicBinding``)."""

    room = models.CharField(max_length=50, primary_key=True)
    topic = models.CharField(max_length=200, blank=True)
    set_by = models.CharField(max_length=150, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.room}: {self.topic}"


class ChatMessage(models.Model):
    """A message posted in a room. The room's last messages (``realtime.rooms.history``) are
    sent to each socket that joins, so a page opened late still shows the conversation."""

    room = models.CharField(max_length=50)
    author = models.CharField(max_length=150)
    text = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["room", "-sent_at"], name="room_latest_first")]

    def __str__(self) -> str:
        return f"{self.author} in {self.room}: {self.text[:40]}"

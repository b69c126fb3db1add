from django.db import models


class Presence(models.Model):
    """One open chat socket: who is in which room (Group has no member list, SPEC C6)."""

    room = models.CharField(max_length=50, db_index=True)
    reply_channel = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=30)
    joined_at = models.DateTimeField(auto_now_add=True)

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

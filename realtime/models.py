from django.db import models


class Presence(models.Model):
    """One open chat socket: who is in which room (Group has no member list, SPEC C6)."""

    room = models.CharField(max_length=50, db_index=True)
    reply_channel = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=30)
    joined_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} in {self.room}"

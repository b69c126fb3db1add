from django.db import models


class Room(models.Model):
    """A room; its 'channels' are the sockets in its group."""

    name = models.SlugField(unique=True)
    topic = models.CharField(max_length=200, blank=True)

    def group_name(self):
        return "room-%s" % self.name

"""The test project's one model: rows that a data binding sends out (bindings.py)."""

from django.db import models


class Note(models.Model):
    text = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.text

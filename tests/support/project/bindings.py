"""A data binding of the test project, listening in every process (apps.py imports it)."""

from __future__ import annotations

from channels_classic.binding import WebsocketBinding

from .models import Note

#: Where every change of a Note goes.
NOTES_GROUP = "notes"


class NoteBinding(WebsocketBinding):
    """Sends each change of a Note to NOTES_GROUP."""

    model = Note
    stream = "notes"
    fields = ["text"]

    @classmethod
    def group_names(cls, instance: Note) -> list[str]:
        return [NOTES_GROUP]

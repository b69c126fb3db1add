# -*- coding: latin-1 -*-
# Anciennes notifications, écrites sous Windows (CRLF, Latin-1).
from channels import Channel


def notifier(nom):
    """Prévient le salon."""
    Channel("chat.reminder").send({"room": nom, "texte": "à bientôt"})

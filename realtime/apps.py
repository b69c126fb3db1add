from django.apps import AppConfig
from django.core import checks


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "djchan demo: echo and chat"

    def ready(self) -> None:
        from djchan.staticfiles import check_manifest

        # Topic changes reach live sockets whoever saves them (a view, the shell, a worker):
        # the binding must listen in every process, not only where routing.py is loaded.
        from . import live  # noqa: F401

        checks.register(check_manifest, "djchan")

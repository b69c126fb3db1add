from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "djchan demo: echo and chat"

    def ready(self) -> None:
        # Topic changes reach live sockets whoever saves them (a view, the shell, a worker):
        # the binding must listen in every process, not only where routing.py is loaded.
        from . import live  # noqa: F401

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "tests.support.project"
    label = "project"
    verbose_name = "channels_classic's test project"

    def ready(self) -> None:
        # Saves reach the binding's group whoever makes them, as in a real project.
        from . import bindings  # noqa: F401

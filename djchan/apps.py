from django.apps import AppConfig


class DjchanConfig(AppConfig):
    """The demo project's own checks (it has no models or views of its own)."""

    name = "djchan"
    verbose_name = "djchan demo project"

    def ready(self) -> None:
        from django.core import checks

        from .checks import check_environment, check_secret_key

        checks.register(check_environment)
        checks.register(check_secret_key, checks.Tags.security)

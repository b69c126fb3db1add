"""Django app config of the delay server."""

from __future__ import annotations

from django.apps import AppConfig


class DelayConfig(AppConfig):
    name = "channels_classic.delay"
    # 1.x's label "channels.delay" is no identifier, which Django 5 refuses.
    label = "channels_delay"
    verbose_name = "Channels (classic) delay server"
    # Fixed here so the migration never depends on the project's DEFAULT_AUTO_FIELD.
    default_auto_field = "django.db.models.BigAutoField"

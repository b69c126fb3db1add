"""Django app config: connects the library's signal receivers once Django is ready, shares
its layers with Channels 4 (``mixed``), checks the versions of the packages it works with,
makes ``runserver`` its own (``hacks``) and connects the binding classes to their models."""

import sys

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db import close_old_connections

from . import settings_cache
from .hacks import monkeypatch_django
from .layers.registry import channel_layers
from .mixed import share_layers
from .package_checks import check_all
from .signals import DB_CLOSING


class ChannelsConfig(AppConfig):
    name = "channels_classic"
    label = "channels_classic"
    verbose_name = "Channels (classic)"

    def ready(self) -> None:
        # A changed setting (tests) must not leave old layers or old values cached.
        setting_changed.connect(channel_layers.reset, dispatch_uid="channels_classic.layers")
        setting_changed.connect(settings_cache.forget, dispatch_uid="channels_classic.settings")
        # Consumers are requests of a kind: stale DB connections are closed around them.
        for signal, uid in DB_CLOSING:
            signal.connect(close_old_connections, dispatch_uid=uid)
        # Under daphne's command, daphne is patched before it serves: its WebSocket protocol,
        # and the start-up heap freeze right before it runs (interface.daphne_compat).
        if "daphne.server" in sys.modules:
            from . import metrics
            from .defaults import InterfaceOptions
            from .interface import daphne_compat

            options = InterfaceOptions.from_settings()
            daphne_compat.apply(options.websocket_max_message_size)
            if options.metrics_port is not None:
                metrics.enable(options.metrics_port, options.metrics_address)
        # Channels 4 consumers (mixed mode) get this library's layers: Channels 4 must never
        # read CHANNEL_LAYERS itself, whose ROUTING keys it refuses.
        share_layers()
        setting_changed.connect(share_layers, dispatch_uid="channels_classic.mixed")
        check_all()
        monkeypatch_django()
        from .binding.base import BindingMetaclass  # imports auth models: once apps are loaded

        BindingMetaclass.register_all()

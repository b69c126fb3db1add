"""The layers of ``CHANNEL_LAYERS``, built on first use and kept by alias.

Settings are read lazily, so importing this module needs no configured settings; the cache
is dropped when ``CHANNEL_LAYERS`` changes (the app config connects that in ``ready()``).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from ..exceptions import InvalidChannelLayerError
from .config import make_backend
from .facade import ClassicLayer

DEFAULT_CHANNEL_LAYER = "default"


class ChannelLayerManager:
    """Builds one ClassicLayer per alias on first access (``channel_layers[alias]``)."""

    def __init__(self) -> None:
        self.layers: dict[str, ClassicLayer] = {}
        self._lock = threading.Lock()

    @property
    def configs(self) -> dict[str, Any]:
        return getattr(settings, "CHANNEL_LAYERS", None) or {}

    def _config(self, alias: str) -> dict[str, Any]:
        try:
            config = self.configs[alias]
        except KeyError:
            configured = ", ".join(map(repr, self.configs)) or "none"
            raise InvalidChannelLayerError(
                f"No channel layer {alias!r} in settings.CHANNEL_LAYERS (configured: "
                f"{configured}); add it with a BACKEND and a ROUTING"
            ) from None
        if not isinstance(config, dict):
            raise InvalidChannelLayerError(
                f"CHANNEL_LAYERS[{alias!r}] must be a dict with BACKEND, CONFIG and ROUTING"
            )
        for key in ("BACKEND", "ROUTING"):
            if key not in config:
                raise InvalidChannelLayerError(
                    f"No {key} specified for {alias}: CHANNEL_LAYERS[{alias!r}] has none; "
                    + (
                        "name the layer class, e.g. "
                        "'channels_classic.layers.redis.RedisChannelLayer'"
                        if key == "BACKEND"
                        else "point it at your channel_routing, e.g. 'routing.channel_routing'"
                    )
                )
        unknown = set(config) - {"BACKEND", "CONFIG", "ROUTING", "TEST_CONFIG"}
        if unknown:
            raise InvalidChannelLayerError(
                f"CHANNEL_LAYERS[{alias!r}] has unknown keys {sorted(unknown)}; the keys are "
                "BACKEND, CONFIG, ROUTING and TEST_CONFIG"
            )
        return config

    def make_layer(self, alias: str, *, test: bool = False) -> ClassicLayer:
        """Builds a new ClassicLayer for ``alias`` (from TEST_CONFIG when ``test``)."""
        config = self._config(alias)
        if test and "TEST_CONFIG" not in config:
            raise InvalidChannelLayerError(
                f"No TEST_CONFIG specified for {alias}: CHANNEL_LAYERS[{alias!r}] has none; give "
                "it the layer options tests share with their server processes"
            )
        options = config.get("TEST_CONFIG" if test else "CONFIG")
        backend = make_backend(alias, config["BACKEND"], options)
        return ClassicLayer(backend, alias=alias, routing=config["ROUTING"])

    def make_test_backend(self, alias: str) -> ClassicLayer:
        return self.make_layer(alias, test=True)

    def __getitem__(self, alias: str) -> ClassicLayer:
        layer = self.layers.get(alias)
        if layer is None:
            with self._lock:
                layer = self.layers.get(alias)
                if layer is None:
                    layer = self.layers[alias] = self.make_layer(alias)
        return layer

    def __contains__(self, alias: object) -> bool:
        return alias in self.configs

    def set(self, alias: str, layer: ClassicLayer) -> ClassicLayer | None:
        """Puts ``layer`` in place of the alias's layer (tests); returns the one replaced."""
        old = self.layers.get(alias)
        self.layers[alias] = layer
        return old

    def reset(self, **kwargs: Any) -> None:
        """Forgets every built layer (connected to ``setting_changed`` for CHANNEL_LAYERS)."""
        if kwargs.get("setting", "CHANNEL_LAYERS") == "CHANNEL_LAYERS":
            self.layers.clear()


channel_layers = ChannelLayerManager()


def get_channel_layer(alias: str = DEFAULT_CHANNEL_LAYER) -> ClassicLayer:
    """The layer of ``alias``: the synchronous 1.x facade and the ASGI app daphne serves.

    Sets Django up first when needed, so ``asgi.py`` can call it at import time.
    """
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup(set_prefix=False)
    return channel_layers[alias]

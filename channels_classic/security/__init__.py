"""Origin checks for WebSocket connects; they live in ``security.websockets``, their 1.x
import path, and are importable from here too."""

from .websockets import AllowedHostsOnlyOriginValidator, BaseOriginValidator, allowed_hosts_only

__all__ = ["AllowedHostsOnlyOriginValidator", "BaseOriginValidator", "allowed_hosts_only"]

"""The project's Redis channel layer (see ``layer``)."""

from .layer import RedisChannelLayer

__all__ = ["RedisChannelLayer"]

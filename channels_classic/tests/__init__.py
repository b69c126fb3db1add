"""Deprecated: the 1.x package name of ``channels_classic.test``, whose tools it
gives. Importing it warns DeprecationWarning."""

from __future__ import annotations

from warnings import warn

from .. import test
from ..test import *  # noqa: F403  (the names of __all__)

warn(
    "channels_classic.tests is deprecated: import from channels_classic.test, which it is "
    "another name for",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = test.__all__

"""Deprecated: the 1.x package name of ``channels_classic.test`` (SPEC T9), which it re-exports.
Importing it warns DeprecationWarning."""

from __future__ import annotations

from warnings import warn

from ..test import (
    ChannelLiveServerTestCase,
    ChannelTestCase,
    ChannelTestCaseMixin,
    Client,
    HttpClient,
    TransactionChannelTestCase,
    WSClient,
    apply_routes,
)

warn(
    "channels_classic.tests is deprecated: import from channels_classic.test, which it is "
    "another name for",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "ChannelLiveServerTestCase",
    "ChannelTestCase",
    "ChannelTestCaseMixin",
    "Client",
    "HttpClient",
    "TransactionChannelTestCase",
    "WSClient",
    "apply_routes",
]

"""Tools for testing consumers, as ``channels.test`` offered them in 1.x (``docs/testing.md``).

- ``ChannelTestCase`` / ``TransactionChannelTestCase``: every test gets fresh in-memory
  channel layers, routed like the configured ones.
- ``Client`` / ``WSClient``: send messages as a client and run their consumers in the
  test, as a worker runs them (buffered sends included); ``WSClient`` speaks for a WebSocket,
  with cookies, headers and logins. ``HttpClient`` is its deprecated 1.x name.
- ``apply_routes``: other routes for a block, a test or a test class.
- ``ChannelLiveServerTestCase``: a real daphne and worker for browser or socket tests.
"""

from .base import ChannelTestCase, ChannelTestCaseMixin, TransactionChannelTestCase, apply_routes
from .client import Client
from .http import HttpClient
from .liveserver import ChannelLiveServerTestCase
from .websocket import WSClient

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

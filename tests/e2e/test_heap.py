"""Who freezes the start-up heap (``channels_classic.heap``): each serving process's entry
point, right before it serves, and never an import."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys

from tests.support.paths import ROOT
from tests.support.processes import DEVELOPMENT_ENV

#: Django, the routing and daphne's Twisted: a serving process freezes far more than this.
STARTUP_OBJECTS = 10_000


def test_daphne_freezes_the_heap_of_an_asgi_module_that_does_not_ask(stack):
    """``daphne project.asgi:...`` serves with its start-up heap frozen though the module
    (tests/support/e2e/heap_probe_asgi.py, written as a user writes one) makes no call for it."""
    stack.start_daphne(app="tests.support.e2e.heap_probe_asgi:application")
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        connection.request("GET", "/heap/")
        response = connection.getresponse()
        frozen = int(response.read())
    finally:
        connection.close()
    assert response.status == 200
    assert frozen > STARTUP_OBJECTS


def test_importing_the_asgi_module_freezes_nothing():
    """A script that imports ``djchan.asgi`` to send messages keeps a heap that collects as
    usual: the import sets Django and the layer up, and freezes nothing."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(DEVELOPMENT_ENV)
    probe = "import gc, djchan.asgi; print(djchan.asgi.channel_layer, gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    layer, frozen = result.stdout.rsplit(" ", 1)
    assert "default" in layer
    assert int(frozen) == 0

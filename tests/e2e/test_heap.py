"""Freezing a serving process's start-up objects (``channels_classic.heap``)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import ROOT
from tests.support.processes import DEVELOPMENT_ENV


def test_the_interface_entry_point_freezes_its_heap():
    """``daphne djchan.asgi:channel_layer`` starts serving with Django and the layer frozen."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(DEVELOPMENT_ENV)
    probe = "import gc, djchan.asgi; print(gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert int(result.stdout) > 10_000

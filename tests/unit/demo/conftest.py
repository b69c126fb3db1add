"""The demo's own in-process tests, on the demo's settings (djchan.settings)."""

import pytest

from tests.support.static import PLAIN_STATIC_STORAGE


@pytest.fixture(autouse=True)
def static_files_without_a_manifest(settings) -> None:
    """In-process tests render pages with DEBUG off (pytest-django's rule) and no
    collectstatic: they name static files plainly, and WhiteNoise looks for no STATIC_ROOT
    (it would warn that there is none). The deployed storage is tested in
    tests/unit/demo/test_staticfiles.py and tests/e2e/demo/test_staticfiles.py."""
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC_STORAGE}}
    settings.STATIC_ROOT = None

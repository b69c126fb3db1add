"""The demo's settings with INSTALLED_APPS in the order TEST_APP_ORDER names: "1x" puts
channels_classic after django.contrib.staticfiles, as 1.x projects list channels; "daphne"
also lists daphne first, as Channels 4 projects do."""

import os

from djchan.settings import *  # noqa: F403

_OURS = ["channels_classic", "channels_classic.delay"]
_OTHERS = [app for app in INSTALLED_APPS if app not in _OURS]  # noqa: F405
_ORDER = os.environ["TEST_APP_ORDER"]
INSTALLED_APPS = (["daphne"] if _ORDER == "daphne" else []) + _OTHERS + _OURS

"""The demo project's settings with the end-to-end test routes added."""

import os

from djchan.settings import *  # noqa: F403

CHANNEL_LAYERS["default"]["ROUTING"] = "tests.e2e_routing.channel_routing"  # noqa: F405

CHANNELS_WEBSOCKET_ACCEPT_TIMEOUT = float(os.environ.get("TEST_ACCEPT_TIMEOUT", "5"))  # noqa: F405

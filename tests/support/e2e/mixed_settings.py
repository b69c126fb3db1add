"""The demo's settings, routed to the classic consumers of the mixed-mode tests."""

from djchan.settings import *  # noqa: F403

CHANNEL_LAYERS["default"]["ROUTING"] = "tests.support.mixed_consumers.channel_routing"  # noqa: F405

"""The end-to-end settings with the worker tests' routes, subprotocols, and the layer class
chosen by TEST_LAYER_BACKEND (the project's Redis layer unless told otherwise)."""

import os

from tests.support.e2e.settings import *  # noqa: F403

CHANNEL_LAYERS["default"]["ROUTING"] = "tests.support.e2e.worker_routing.channel_routing"  # noqa: F405
if "TEST_LAYER_BACKEND" in os.environ:
    CHANNEL_LAYERS["default"]["BACKEND"] = os.environ["TEST_LAYER_BACKEND"]  # noqa: F405

CHANNELS_WS_PROTOCOLS = ["chat.v2", "chat.v1"]

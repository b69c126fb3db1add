"""The demo project's settings with the end-to-end test routes added."""

import os

from djchan.settings import *  # noqa: F403
from tests.support.static import PLAIN_STATIC_STORAGE

CHANNEL_LAYERS["default"]["ROUTING"] = "tests.support.e2e.routing.channel_routing"  # noqa: F405

# Static files straight from the apps' folders, DEBUG on or off, with no collectstatic: the
# deployed storage and its release step have an end-to-end test of their own.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC_STORAGE}}  # noqa: F405
WHITENOISE_USE_FINDERS = True

CHANNELS_WEBSOCKET_ACCEPT_TIMEOUT = float(os.environ.get("TEST_ACCEPT_TIMEOUT", "5"))  # noqa: F405

ROOT_URLCONF = "tests.support.e2e.urls"
CHANNELS_HTTP_TIMEOUT = float(os.environ.get("TEST_HTTP_TIMEOUT", "30"))
CHANNELS_MAX_REQUEST_BODY_SIZE = int(os.environ.get("TEST_MAX_BODY", str(10 * 1024 * 1024)))

# The interface's production limits, lowered by the tests that reach them.
if "TEST_HOLD_TIMEOUT" in os.environ:
    CHANNELS_WEBSOCKET_HOLD_TIMEOUT = float(os.environ["TEST_HOLD_TIMEOUT"])
if "TEST_MAX_OUTSTANDING" in os.environ:
    CHANNELS_WEBSOCKET_MAX_OUTSTANDING = int(os.environ["TEST_MAX_OUTSTANDING"])
if "TEST_MAX_OUTPUT" in os.environ:
    CHANNELS_WEBSOCKET_MAX_OUTPUT = int(os.environ["TEST_MAX_OUTPUT"])
if "TEST_MAX_MESSAGE_SIZE" in os.environ:
    CHANNELS_WEBSOCKET_MAX_MESSAGE_SIZE = int(os.environ["TEST_MAX_MESSAGE_SIZE"])
if "TEST_METRICS_PORT" in os.environ:
    CHANNELS_METRICS_PORT = int(os.environ["TEST_METRICS_PORT"])
if "TEST_SHUTDOWN_TIMEOUT" in os.environ:
    CHANNELS_SHUTDOWN_TIMEOUT = float(os.environ["TEST_SHUTDOWN_TIMEOUT"])

if "TEST_INGRESS_CAPACITY" in os.environ:
    CHANNEL_LAYERS["default"]["CONFIG"]["channel_capacity"] = {  # noqa: F405
        "http.request": int(os.environ["TEST_INGRESS_CAPACITY"]),
        "websocket.*": int(os.environ["TEST_INGRESS_CAPACITY"]),
    }

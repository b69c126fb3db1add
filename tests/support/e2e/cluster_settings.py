"""The end-to-end test settings with the channel layer on the Redis Cluster that
TEST_CLUSTER_URL names (REDIS_URL still serves the cache and the sessions), and the
broadcast room of tests/support/e2e/cluster_routing.py."""

import os

from tests.support.e2e.settings import *  # noqa: F403

CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [os.environ["TEST_CLUSTER_URL"]]  # noqa: F405
CHANNEL_LAYERS["default"]["ROUTING"] = "tests.support.e2e.cluster_routing.channel_routing"  # noqa: F405

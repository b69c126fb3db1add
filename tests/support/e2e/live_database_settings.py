"""The demo's settings for a ChannelLiveServerTestCase with a database, run in a process of its
own (see tests/support/e2e/live_database_suite.py): a Redis layer whose TEST_CONFIG the test and the
server processes share, sessions in that Redis, and a test database in a file, which the
server processes can open (the rest of the suite's is SQLite in memory)."""

import os

from djchan.settings import *  # noqa: F403
from tests.support.static import PLAIN_STATIC_STORAGE

CHANNEL_LAYERS["default"]["TEST_CONFIG"] = {  # noqa: F405
    "hosts": [os.environ["REDIS_URL"]],
    "prefix": "livedb",
}
DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_FILE"]}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Django's test runner turns DEBUG off, and no collectstatic runs: name static files plainly.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC_STORAGE}}  # noqa: F405

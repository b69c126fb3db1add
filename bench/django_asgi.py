"""The same Django project served by daphne straight through Django's ASGI handler (no layer,
no worker): the comparison for http_bench.py."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()

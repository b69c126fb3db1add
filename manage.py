#!/usr/bin/env python
"""Django's command-line utility for the djchan project."""

import importlib
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djchan.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # The settings read the environment: a value they refuse (REDIS_URL without its
        # scheme, say) is said in one line, not under a traceback.
        importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    except ImproperlyConfigured as error:
        sys.exit(f"manage.py: the settings refused the environment: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

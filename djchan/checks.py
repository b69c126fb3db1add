"""The demo project refuses to start misconfigured: environment variables it cannot read, or
DEBUG off with the published development secret key.

The key signs sessions, password-reset links and CSRF tokens: with the development key,
which anyone can read in this repository, anyone could forge them. ``manage.py`` commands
(runworker, rundelay, runserver, migrate...) run these as Django system checks and stop with
their messages; daphne runs no checks, so ``djchan/asgi.py`` calls ``exit_on_errors``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

SECRET_KEY_HINT = (
    "Set DJANGO_SECRET_KEY to a long random value of your own, the same for every process of "
    'the site (for example the output of: python -c "import secrets; '
    'print(secrets.token_urlsafe(50))"), or set DJANGO_DEBUG=1 for local development.'
)


def check_environment(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """djchan.E002 for each environment variable the settings could not read."""
    from .settings import ENVIRONMENT_ERRORS

    return [
        checks.Error(error, hint="Fix or unset it (see the README's settings).", id="djchan.E002")
        for error in ENVIRONMENT_ERRORS
    ]


def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """djchan.E001 when DEBUG is off and SECRET_KEY is the development key. DEBUG as the
    environment set it counts too: Django's test runner turns DEBUG off for its tests, and
    a test run in development is no deployment."""
    from .settings import DEBUG as CONFIGURED_DEBUG
    from .settings import DEVELOPMENT_SECRET_KEY

    if settings.DEBUG or CONFIGURED_DEBUG or settings.SECRET_KEY != DEVELOPMENT_SECRET_KEY:
        return []
    return [
        checks.Error(
            "DEBUG is off and SECRET_KEY is the development key, which is published with "
            "the project: anyone could forge this site's sessions and signed values.",
            hint=SECRET_KEY_HINT,
            id="djchan.E001",
        )
    ]


def exit_on_errors() -> None:
    """Ends the process with the checks' messages and status 1 if either check finds a
    problem (for processes that serve without running the system checks)."""
    errors = check_environment() + check_secret_key()
    if errors:
        raise SystemExit(
            "\n".join(f"{error.id}: {error.msg}\nHINT: {error.hint}" for error in errors)
        )

"""``manage.py demo_users``: known accounts for the demo, in development only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from realtime.management.commands.demo_users import DEMO_USERS
from tests.support.sessions import FAST_HASHERS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def demo_logins_work() -> bool:
    return all(
        User.objects.get(username=name).check_password(password)
        for name, password in DEMO_USERS.items()
    )


def test_with_debug_on_it_creates_or_resets_the_demo_users(settings, capsys):
    """With DEBUG on, ann and bob exist afterwards with their published passwords (an
    existing ann gets hers back), and the passwords are printed."""
    settings.DEBUG = True
    User.objects.create_user("ann", password="changed-by-ann")
    call_command("demo_users")
    assert demo_logins_work()
    assert capsys.readouterr().out.splitlines() == [
        f"{name} / {password}" for name, password in DEMO_USERS.items()
    ]


def test_with_debug_off_it_refuses_unless_forced(settings):
    """With DEBUG off it creates nobody and says why and what to do; --force overrides."""
    settings.DEBUG = False
    with pytest.raises(
        CommandError,
        match=r"DEBUG is off, and demo_users would create accounts whose passwords are "
        r"published \(ann, bob\).*\(DJANGO_DEBUG=1\), or add --force",
    ):
        call_command("demo_users")
    assert not User.objects.filter(username__in=DEMO_USERS).exists()
    call_command("demo_users", "--force")
    assert demo_logins_work()

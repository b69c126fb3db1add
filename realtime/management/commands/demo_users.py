"""``manage.py demo_users``: demo accounts to chat with, no createsuperuser needed.

Their passwords are published (here and in the README), so anyone could log in to them: the
command runs only with DEBUG on, or with ``--force`` on a server nobody else reaches.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERS = {"ann": "ann-demo-password", "bob": "bob-demo-password"}


class Command(BaseCommand):
    help = "Creates (or resets) the demo users ann and bob and prints their passwords."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="create them even with DEBUG off (only where nobody else can log in)",
        )

    def handle(self, *args, force=False, **options):
        if not (settings.DEBUG or force):
            raise CommandError(
                f"DEBUG is off, and demo_users would create accounts whose passwords are "
                f"published ({', '.join(DEMO_USERS)}): anyone could log in as them. Run it "
                "in development (DJANGO_DEBUG=1), or add --force on a server nobody else "
                "reaches; elsewhere, sign up or use createsuperuser"
            )
        User = get_user_model()
        for username, password in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(password)
            user.save()
            self.stdout.write(f"{username} / {password}")

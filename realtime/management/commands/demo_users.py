"""``manage.py demo_users``: demo accounts to chat with, no createsuperuser needed."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERS = {"ann": "ann-demo-password", "bob": "bob-demo-password"}


class Command(BaseCommand):
    help = "Creates (or resets) the demo users ann and bob and prints their passwords."

    def handle(self, *args, **options):
        User = get_user_model()
        for username, password in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(password)
            user.save()
            self.stdout.write(f"{username} / {password}")

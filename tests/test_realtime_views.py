"""The demo's pages through Django's test client: sign-up, login and the chat page."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User

from tests.session_support import FAST_HASHERS

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "tea-with-the-mad-hatter"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def sign_up(client, username: str, password: str, repeated: str | None = None):
    return client.post(
        "/accounts/signup/",
        {"username": username, "password1": password, "password2": repeated or password},
    )


def logged_in_user_id(client) -> str | None:
    return client.session.get(SESSION_KEY)


def test_the_sign_up_page_shows_its_form(client):
    """GET shows an empty sign-up form posting back to itself."""
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    assert b'<form method="post" action="/accounts/signup/" id="signup">' in page.content
    assert b'name="password2"' in page.content


def test_signing_up_creates_the_user_and_logs_them_in(client):
    """A valid form creates the account with that password, logs it in and goes to the chat."""
    response = sign_up(client, "alice", GOOD_PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/")
    alice = User.objects.get(username="alice")
    assert alice.check_password(GOOD_PASSWORD)
    assert logged_in_user_id(client) == str(alice.pk)


def test_a_taken_username_is_refused(client):
    """Signing up as an existing user shows the form again with the error; nobody is logged
    in and the existing account keeps its password."""
    User.objects.create_user("bob", password="bobs-own-password")
    response = sign_up(client, "bob", GOOD_PASSWORD)
    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.filter(username="bob").count() == 1
    assert User.objects.get(username="bob").check_password("bobs-own-password")
    assert logged_in_user_id(client) is None


@pytest.mark.parametrize(
    ("password", "repeated", "error"),
    [
        ("12345678", None, "This password is too common."),
        ("x7!q", None, "This password is too short. It must contain at least 8 characters."),
        ("carol-password-1", "carol-password-2", "The two password fields didn’t match."),
    ],
)
def test_a_bad_password_is_refused(client, password, repeated, error):
    """Passwords are checked by the project's validators and must be typed twice alike; the
    form comes back with the reason and no account is made."""
    response = sign_up(client, "carol", password, repeated)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not User.objects.filter(username="carol").exists()
    assert logged_in_user_id(client) is None


def test_the_login_page_logs_in_and_mentions_demo_users(client):
    """The login page tells how to get a demo account; correct credentials log in."""
    page = client.get("/accounts/login/")
    assert b"python manage.py demo_users" in page.content
    dave = User.objects.create_user("dave", password=GOOD_PASSWORD)
    response = client.post("/accounts/login/", {"username": "dave", "password": GOOD_PASSWORD})
    assert (response.status_code, response["Location"]) == (302, django_settings.LOGIN_REDIRECT_URL)
    assert logged_in_user_id(client) == str(dave.pk)


def test_the_chat_page_opens_the_asked_room(client):
    """The chat page renders for the room in ?room=, the lobby by default."""
    assert client.get("/").context["room"] == "lobby"
    assert client.get("/?room=kitchen").context["room"] == "kitchen"

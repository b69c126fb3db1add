"""The demo's pages through Django's test client: sign-up, login, the front page, a room's
page and the icon."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User

from realtime.models import ChatMessage
from realtime.rooms import ROOM_NAME_PATTERN
from tests.support.sessions import FAST_HASHERS

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
    assert b'<form method="post" action="/accounts/signup/" id="signup"' in page.content
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


def test_the_front_page_offers_a_room_form_and_the_active_rooms(client):
    """The front page's form checks names with the room pattern; the rooms people posted in
    are listed, the most recently active first, linking to their pages."""
    ChatMessage.objects.create(room="kitchen", author="ann", text="tea?")
    ChatMessage.objects.create(room="garden", author="bob", text="sun")
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'pattern="{ROOM_NAME_PATTERN}"' in html and 'name="room"' in html
    assert html.index('href="/rooms/garden/"') < html.index('href="/rooms/kitchen/"')
    assert "1 message," in html


def test_the_form_goes_to_the_room_page(client):
    """?room=name (the form's target) goes to the room's page, which joins it."""
    response = client.get("/?room=kitchen")
    assert (response.status_code, response["Location"]) == (302, "/rooms/kitchen/")
    page = client.get("/rooms/kitchen/")
    assert page.status_code == 200
    assert b'data-room="kitchen"' in page.content and b"realtime/chat.js" in page.content


@pytest.mark.parametrize("path", ["/?room=my+room!", "/rooms/my%20room!/"])
def test_a_bad_room_name_is_a_page_saying_so(client, path):
    """A name that is not a room's, asked for by the form or in the address, is a 400 page
    that says what is wrong and what a name may be, with the name back in the form."""
    page = client.get(path)
    assert page.status_code == 400
    html = page.content.decode()
    assert "&quot;my room!&quot; is not a room name: use 1 to 50 letters, digits, - or _" in html
    assert 'value="my room!"' in html and "data-room" not in html


def test_the_header_says_who_is_logged_in(client):
    """Guests see log-in (back to this page) and sign-up links; a user sees their name and
    a log-out button."""
    html = client.get("/rooms/lobby/").content.decode()
    assert (
        'href="/accounts/login/?next=/rooms/lobby/"' in html and 'href="/accounts/signup/"' in html
    )
    client.force_login(User.objects.create_user("erin"))
    html = client.get("/rooms/lobby/").content.decode()
    assert '<strong id="username">erin</strong>' in html and 'action="/accounts/logout/"' in html
    assert 'data-user="erin"' in html


def test_the_icon_is_linked_and_served_at_favicon_ico(client):
    """Pages link the SVG icon from the static files; /favicon.ico serves the same file,
    cacheable for a day."""
    assert b'<link rel="icon" href="/static/realtime/favicon.svg"' in client.get("/").content
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Content-Type"]) == (200, "image/svg+xml")
    assert b"".join(response.streaming_content).startswith(b"<svg")
    assert response["Cache-Control"] == "public, max-age=86400"

"""The chat pages in a real browser: two logged-in users and a guest in one room, a room's
history on joining, room names checked by the page and by the server; and the rule for a
missing Chromium."""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from realtime.management.commands.demo_users import DEMO_USERS
from realtime.rooms import BAD_ROOM_CLOSE_CODE
from tests.support import browser as browsers
from tests.support.browser import chromium, require_chromium

MISSING = r"Chromium is not installed at .*no-chromium: install Debian's package"
#: How a message's time reads on the page (the browser's locale: 24 h or with AM/PM).
CLOCK = re.compile(r"^\d{1,2}:\d{2}( [AP]M)?$")
BAD_NAME_ERROR = '"my room!" is not a room name: use 1 to 50 letters, digits, - or _'


@pytest.fixture
def browser():
    with chromium() as running:
        yield running


@pytest.fixture
def site(browser, demo_site):
    """The demo site, started only once a browser runs, so that a missing Chromium skips the
    test before any server starts."""
    return demo_site


@contextmanager
def pages(browser, tmp_path, *names: str):
    """A page per name, each in a browser context of its own (its own cookies); screenshots
    land in the test's temp dir if anything fails."""
    contexts = {name: browser.new_context() for name in names}
    opened = {name: context.new_page() for name, context in contexts.items()}
    try:
        yield opened, contexts
    except Exception:
        for name, page in opened.items():
            if not page.is_closed():
                page.screenshot(path=str(tmp_path / f"failure-{name}.png"), full_page=True)
        print(f"screenshots in {tmp_path}")
        raise
    finally:
        for context in contexts.values():
            context.close()


def log_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.fill("#login input[name=username]", username)
    page.fill("#login input[name=password]", DEMO_USERS[username])
    page.click("#login button")
    page.wait_for_selector(f"#username:has-text('{username}')")


def enter(page, base_url: str, room: str) -> None:
    """Opens the room's page and waits until its socket is open."""
    page.goto(f"{base_url}/rooms/{room}/")
    page.wait_for_selector("#status[data-state=open]")


def say(page, text: str) -> None:
    page.fill("#send input[name=text]", text)
    page.click("#send button")


def messages(page) -> list[tuple[str, str, str]]:
    """The page's chat messages as (author, text, time as shown); each one's time element
    must hold an ISO time of the last few minutes."""
    shown = []
    for item in page.locator("#messages li.message").all():
        stamp = item.locator("time").get_attribute("datetime")
        assert abs(datetime.fromisoformat(stamp) - datetime.now(UTC)) < timedelta(minutes=5)
        shown.append(
            (
                item.locator(".author").inner_text(),
                item.locator(".text").inner_text(),
                item.locator("time").inner_text(),
            )
        )
    return shown


def test_two_people_chat_in_a_room(site, browser, tmp_path):
    """Ann (through the front page's form) and Bob (by the room's address) log in and join
    one room; each sees the other arrive, and each sees the other's messages with author and
    time. A guest may read but not post; the room's topic, set on one page, shows on the
    others; Ann sees Bob leave."""
    base = site.url("", scheme="http")
    with pages(browser, tmp_path, "ann", "bob", "guest") as (opened, contexts):
        ann, bob, guest = opened["ann"], opened["bob"], opened["guest"]
        log_in(ann, base, "ann")
        log_in(bob, base, "bob")
        ann.fill("#join input[name=room]", "lobby")
        ann.click("#join button")
        ann.wait_for_url(f"{base}/rooms/lobby/")
        ann.wait_for_selector("#status[data-state=open]")
        enter(bob, base, "lobby")
        ann.wait_for_selector("#messages li.notice:has-text('bob joined')")
        ann.wait_for_function("document.querySelectorAll('#users li').length === 2")
        assert ann.locator("#users li").all_inner_texts() == ["ann", "bob"]

        say(ann, "hello from ann")
        bob.wait_for_selector("#messages li.message:has-text('hello from ann')")
        say(bob, "hi ann")
        ann.wait_for_selector("#messages li.message:has-text('hi ann')")
        for page in (ann, bob):
            page.wait_for_function("document.querySelectorAll('#messages li.message').length === 2")
            shown = messages(page)
            assert [(author, text) for author, text, _ in shown] == [
                ("ann", "hello from ann"),
                ("bob", "hi ann"),
            ]
            assert all(CLOCK.match(clock) for _, _, clock in shown), shown
        assert ann.locator("#messages li.mine .text").all_inner_texts() == ["hello from ann"]

        ann.fill("#topic-form input[name=topic]", "Release day")
        ann.click("#topic-form button")
        bob.wait_for_selector("#topic:has-text('Release day')")
        bob.wait_for_selector("#topic-by:has-text('set by ann')")

        enter(guest, base, "lobby")
        guest.wait_for_selector("#guests:has-text('1 guest')")
        guest.wait_for_selector("#topic:has-text('Release day')")
        guest.fill("#topic-form input[name=topic]", "Guests rule")
        guest.click("#topic-form button")
        guest.wait_for_selector("#topic-error:has-text('log in to change the topic')")
        say(guest, "may I?")
        guest.wait_for_selector("#messages li.error:has-text('log in to post')")
        say(bob, "bye")
        guest.wait_for_selector("#messages li.message:has-text('bye')")

        contexts["bob"].close()
        ann.wait_for_selector("#messages li.notice:has-text('bob left')")
        ann.wait_for_function("document.querySelectorAll('#users li').length === 1")
        assert ann.locator("#users li").all_inner_texts() == ["ann"]


def test_joining_shows_the_room_s_history(site, browser, tmp_path):
    """Messages posted before a page opens the room are shown on joining, oldest first, with
    authors and times; another room's are not; a room without messages says so."""
    base = site.url("", scheme="http")
    with pages(browser, tmp_path, "ann", "late") as (opened, _):
        ann, late = opened["ann"], opened["late"]
        log_in(ann, base, "ann")
        enter(ann, base, "kitchen")
        ann.wait_for_selector("#no-messages:has-text('No messages yet')")
        for text in ("first", "second", "third"):
            say(ann, text)
            ann.wait_for_selector(f"#messages li.message:has-text('{text}')")
        ann.wait_for_selector("#no-messages", state="detached")
        enter(ann, base, "garden")
        say(ann, "elsewhere")
        ann.wait_for_selector("#messages li.message:has-text('elsewhere')")

        enter(late, base, "kitchen")
        late.wait_for_function("document.querySelectorAll('#messages li.message').length === 3")
        shown = messages(late)
        assert [(author, text) for author, text, _ in shown] == [
            ("ann", "first"),
            ("ann", "second"),
            ("ann", "third"),
        ]
        assert all(CLOCK.match(clock) for _, _, clock in shown), shown
        late.goto(base + "/")
        assert late.locator("#rooms a").all_inner_texts() == ["garden", "kitchen"]


def test_a_bad_room_name_is_refused_by_the_page_and_the_server(site, browser, tmp_path):
    """The form will not send "my room!" (its pattern is valid to Chromium, and rejects it);
    the address /rooms/my room!/ is a page saying what is wrong; a socket opened on that
    path anyway gets the error and is closed with BAD_ROOM_CLOSE_CODE."""
    base = site.url("", scheme="http")
    with pages(browser, tmp_path, "guest") as (opened, _):
        guest = opened["guest"]
        sockets = []
        guest.on("websocket", lambda socket: sockets.append(socket.url))
        guest.goto(base + "/")
        room = guest.locator("#join input[name=room]")
        room.fill("my room!")
        guest.click("#join button")
        assert room.evaluate("input => [input.validity.valid, input.validity.patternMismatch]") == [
            False,
            True,
        ]
        assert guest.url == base + "/"
        room.fill("my-room_2")
        assert room.evaluate("input => input.validity.valid")
        guest.click("#join button")
        guest.wait_for_url(f"{base}/rooms/my-room_2/")
        guest.wait_for_selector("#status[data-state=open]")

        response = guest.goto(base + "/rooms/my%20room!/")
        assert response.status == 400
        assert guest.locator("#room-error").inner_text() == BAD_NAME_ERROR
        assert guest.locator("#join input[name=room]").input_value() == "my room!"
        assert [url for url in sockets if "my%20room" in url] == []

        closed = guest.evaluate(
            """() => new Promise((resolve) => {
                const socket = new WebSocket(`ws://${location.host}/rooms/my%20room!/`);
                const frames = [];
                socket.onmessage = (event) => frames.push(JSON.parse(event.data));
                socket.onclose = (event) => resolve({ code: event.code, frames });
            })"""
        )
        assert closed == {
            "code": BAD_ROOM_CLOSE_CODE,
            "frames": [{"type": "error", "error": BAD_NAME_ERROR}],
        }


@pytest.fixture
def no_chromium(monkeypatch, tmp_path):
    """Chromium looked for where it is not; Playwright unimportable (so importing it first
    would raise ImportError, not skip)."""
    monkeypatch.setattr(browsers, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)


def test_a_missing_chromium_skips_locally(no_chromium, monkeypatch):
    """Without CI=true a missing Chromium skips, saying how to install it, before Playwright
    is imported."""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=MISSING):
        require_chromium()
    with pytest.raises(pytest.skip.Exception, match=MISSING), chromium():
        pass


def test_a_missing_chromium_fails_under_ci(no_chromium, monkeypatch):
    """Under CI=true a missing Chromium fails the test with the same message."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=MISSING):
        require_chromium()
    with pytest.raises(pytest.fail.Exception, match=MISSING), chromium():
        pass

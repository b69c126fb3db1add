"""The chat page in a real browser: two logged-in users in one room, and a guest; and the
rule for a missing Chromium."""

from __future__ import annotations

import sys

import pytest

from realtime.management.commands.demo_users import DEMO_USERS
from tests import browser as browsers
from tests.browser import chromium, require_chromium

MISSING = r"Chromium is not installed at .*no-chromium: install Debian's package"


@pytest.fixture
def browser():
    with chromium() as running:
        yield running


@pytest.fixture
def site(browser, demo_site):
    """The demo site, started only once a browser runs, so that a missing Chromium skips the
    test before any server starts."""
    return demo_site


def log_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.fill("#login input[name=username]", username)
    page.fill("#login input[name=password]", DEMO_USERS[username])
    page.click("#login button")
    page.wait_for_selector(f"#username:has-text('{username}')")


def join(page, room: str) -> None:
    page.fill("#join input[name=room]", room)
    page.click("#join button")
    page.wait_for_selector(f"#status[data-state=open]:has-text('In room {room}')")


def set_topic(page, topic: str) -> None:
    page.fill("#topic-form input[name=topic]", topic)
    page.click("#topic-form button")


@pytest.mark.browser
def test_two_people_chat_in_a_room(site, browser, tmp_path):
    """Ann and Bob log in and join one room; each sees the other arrive under their user
    name, their messages carry their names, a guest may read but not post, and Ann sees Bob
    leave. The room's topic, set on one page, shows on the others (the guest's page finds it
    on joining); the guest may not set it. Screenshots land in the test's temp dir if
    anything fails."""
    base = site.url("", scheme="http")
    contexts = [browser.new_context() for _ in range(3)]
    ann, bob, guest = (context.new_page() for context in contexts)
    try:
        log_in(ann, base, "ann")
        log_in(bob, base, "bob")
        join(ann, "lobby")
        join(bob, "lobby")
        ann.wait_for_selector("#messages li.notice:has-text('bob joined')")
        ann.wait_for_function("document.querySelectorAll('#users li').length === 2")
        assert ann.locator("#users li").all_inner_texts() == ["ann", "bob"]

        ann.fill("#send input[name=text]", "hello from ann")
        ann.click("#send button")
        bob.wait_for_selector("#messages li.message:has-text('ann: hello from ann')")

        set_topic(ann, "Release day")
        bob.wait_for_selector("#topic:has-text('Release day')")
        bob.wait_for_selector("#topic-by:has-text('set by ann')")

        guest.goto(base + "/")
        join(guest, "lobby")
        guest.wait_for_selector("#guests:has-text('1 guest')")
        guest.wait_for_selector("#topic:has-text('Release day')")
        set_topic(guest, "Guests rule")
        guest.wait_for_selector("#topic-error:has-text('log in to change the topic')")
        set_topic(bob, "Release done")
        for page in (ann, guest):
            page.wait_for_selector("#topic:has-text('Release done')")
            page.wait_for_selector("#topic-by:has-text('set by bob')")
        guest.fill("#send input[name=text]", "may I?")
        guest.click("#send button")
        guest.wait_for_selector("#messages li.error:has-text('log in to post')")
        bob.fill("#send input[name=text]", "hi ann")
        bob.click("#send button")
        guest.wait_for_selector("#messages li.message:has-text('bob: hi ann')")

        contexts[1].close()
        ann.wait_for_selector("#messages li.notice:has-text('bob left')")
        ann.wait_for_function("document.querySelectorAll('#users li').length === 1")
        assert ann.locator("#users li").all_inner_texts() == ["ann"]
    except Exception:
        for name, page in (("ann", ann), ("bob", bob), ("guest", guest)):
            if not page.is_closed():
                page.screenshot(path=str(tmp_path / f"failure-{name}.png"), full_page=True)
        print(f"screenshots in {tmp_path}")
        raise
    finally:
        for context in contexts:
            context.close()


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

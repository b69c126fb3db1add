"""The chat page in a real browser: two pages, one room, messages and join/leave notices."""

from __future__ import annotations

import pytest

from tests.browser import chromium
from tests.processes import Stack

pytestmark = pytest.mark.browser


@pytest.fixture
def site(private_redis, tmp_path):
    """The demo behind daphne with two workers, on a Redis of its own."""
    stack = Stack(private_redis().url, tmp_path)
    stack.manage("migrate", "--noinput")
    stack.start_worker()
    stack.start_worker()
    stack.start_daphne()
    yield stack
    stack.stop()
    print(stack.logs())


@pytest.fixture
def browser():
    with chromium() as running:
        yield running


def join(page, base_url: str, room: str, name: str) -> None:
    page.goto(base_url + "/")
    page.fill("#join input[name=room]", room)
    page.fill("#join input[name=name]", name)
    page.click("#join button")
    page.wait_for_selector(f"#status[data-state=open]:has-text('In room {room}')")


def test_two_people_chat_in_a_room(site, browser, tmp_path):
    """Ann and Bob join one room, see each other arrive, exchange a message, and Ann sees
    Bob leave. Screenshots land in the test's temp dir if anything fails."""
    base = site.url("", scheme="http")
    ann, bob = browser.new_page(), browser.new_page()
    try:
        join(ann, base, "lobby", "ann")
        join(bob, base, "lobby", "bob")
        ann.wait_for_selector("#messages li.notice:has-text('bob joined')")
        ann.wait_for_selector("#users li:has-text('bob')")
        assert sorted(ann.locator("#users li").all_inner_texts()) == ["ann", "bob"]

        ann.fill("#send input[name=text]", "hello from ann")
        ann.click("#send button")
        bob.wait_for_selector("#messages li.message:has-text('ann: hello from ann')")
        ann.wait_for_selector("#messages li.message:has-text('ann: hello from ann')")

        bob.fill("#send input[name=text]", "x" * 5000)
        bob.evaluate("document.querySelector('#send input').removeAttribute('maxlength')")
        bob.fill("#send input[name=text]", "x" * 5000)
        bob.click("#send button")
        bob.wait_for_selector("#messages li.error:has-text('longer than 4096')")

        bob.close()
        ann.wait_for_selector("#messages li.notice:has-text('bob left')")
        ann.wait_for_function("document.querySelectorAll('#users li').length === 1")
        assert ann.locator("#users li").all_inner_texts() == ["ann"]
    except Exception:
        for name, page in (("ann", ann), ("bob", bob)):
            if not page.is_closed():
                page.screenshot(path=str(tmp_path / f"failure-{name}.png"), full_page=True)
        print(f"screenshots in {tmp_path}")
        raise

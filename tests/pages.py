"""Driving the pages in real Chromium: shared by the browser, cluster and nginx tests."""

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from typing import Protocol

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support import unique

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LIVE = 2_000  # ms: a message must reach every open view within this

# The message list is a column-reverse scroller (chat_ui/room/message_list.py): its scroll origin
# is the bottom, and scrollTop grows negative upwards. These scroll it as a reader would.
SCROLL_TO_TOP = "el => { el.scrollTop = -el.scrollHeight; }"
SCROLL_TO_BOTTOM = "el => { el.scrollTop = 0; }"
AT_BOTTOM = "() => document.querySelector('[data-testid=message-list]').scrollTop >= -2"


def chromium_path() -> str | None:
    """CHAT_TEST_CHROMIUM, else Debian's chromium, else Playwright's own download (None)."""
    return os.environ.get("CHAT_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class PageOpener(Protocol):
    def __call__(
        self, path: str = "/", *, width: int = 1280, height: int = 800, context: BrowserContext | None = None
    ) -> Page: ...


@contextlib.contextmanager
def page_opener(browser: Browser, base_url: str) -> Iterator[PageOpener]:
    """Opens pages, each in a browser context of its own (a different visitor), closed afterwards."""
    contexts: list[BrowserContext] = []

    def open_page(
        path: str = "/", *, width: int = 1280, height: int = 800, context: BrowserContext | None = None
    ) -> Page:
        if context is None:
            context = browser.new_context(viewport={"width": width, "height": height}, base_url=base_url)
            contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(path)
        return page

    try:
        yield open_page
    finally:
        for context in contexts:
            context.close()


class Api:
    """A script acting through the REST API as one guest."""

    def __init__(self, url: str, name: str = "Api Bot") -> None:
        self.client = httpx.Client(base_url=url, timeout=10)
        token = self.client.post("/api/v1/guests", json={"display_name": name}).json()["token"]
        self.auth = {"Authorization": f"Bearer {token}"}

    def room(self, name: str | None = None) -> str:
        response = self.client.post("/api/v1/rooms", json={"name": name or unique("Room")}, headers=self.auth)
        assert response.status_code == 201, response.text
        return response.json()["slug"]

    def say(self, slug: str, text: str, *, reply_to: int | None = None) -> int:
        body: dict[str, object] = {"text": text} if reply_to is None else {"text": text, "reply_to": reply_to}
        response = self.client.post(f"/api/v1/rooms/{slug}/messages", json=body, headers=self.auth)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def wait_until_nobody_has_open(self, slug: str, timeout: float = 15.0) -> None:
        """Until no page has the room open: the server has seen every closed page go, and so a
        page closed just now marks nothing read that arrives after this returns."""
        deadline = time.monotonic() + timeout
        while self.client.get(f"/api/v1/rooms/{slug}/presence", headers=self.auth).json()["online"]:
            assert time.monotonic() < deadline, f"a page still has {slug} open after {timeout} s"
            time.sleep(0.1)

    def close(self) -> None:
        self.client.close()


@contextlib.contextmanager
def api_as(app_url: str, name: str = "Api Bot") -> Iterator[Api]:
    """A guest of the app at `app_url` acting through the REST API, closed afterwards."""
    api = Api(app_url, name=name)
    try:
        yield api
    finally:
        api.close()


def open_room(new_page: PageOpener, slug: str, **size: int) -> Page:
    page = new_page(f"/rooms/{slug}", **size)
    expect(page.get_by_test_id("room-title")).to_be_visible()
    expect(page.get_by_test_id("message-input")).to_be_editable()
    return page


def send(page: Page, text: str) -> None:
    page.get_by_test_id("message-input").fill(text)
    page.get_by_test_id("send-button").click()


def message_texts(page: Page) -> list[str]:
    return page.get_by_test_id("message-text").all_inner_texts()


def scroll_up_by(page: Page, fraction: float) -> None:
    """Scroll the list up from the bottom by this fraction of what it can scroll."""
    page.get_by_test_id("message-list").evaluate(
        "(el, f) => { el.scrollTop = -f * (el.scrollHeight - el.clientHeight); }", fraction
    )


def top_of(page: Page, message_id: int) -> float:
    """Where a message is, in pixels from the top of the list's visible part."""
    return page.evaluate(
        """id => document.querySelector(`[data-message-id="${id}"]`).getBoundingClientRect().top
                 - document.querySelector('[data-testid=message-list]').getBoundingClientRect().top""",
        str(message_id),
    )

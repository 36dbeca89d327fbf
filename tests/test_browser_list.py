"""The message list's behaviour as a reader notices it (issue #15), in real Chromium.

A sent message is always wholly in view, however long it is and however far up the reader was;
the "new messages" button says how many messages wait below; the list is a `log` for screen
readers, and a polite live region announces what others say. Screenshots of the button in light
and dark go to test-artifacts/list-*.png.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from chat_ui.room.message_list import MAX_RENDERED
from tests.pages import (
    AT_BOTTOM,
    LIVE,
    SCROLL_TO_BOTTOM,
    SCROLL_TO_TOP,
    Api,
    PageOpener,
    api_as,
    open_room,
    scroll_up_by,
    send,
)
from tests.support import ROOT, AppProcess, module_app, unique

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "list-app") as app:
        yield app


@pytest.fixture
def api(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url, "Ada") as api:
        yield api


def delete(api: Api, slug: str, message_id: int) -> None:
    response = api.client.delete(f"/api/v1/rooms/{slug}/messages/{message_id}", headers=api.auth)
    assert response.status_code == 204, response.text


def type_lines(page: Page, lines: list[str]) -> None:
    """Write as a person does, line by line: Shift+Enter between lines, so the composer's field
    grows as it fills. Each line goes in as one input event (insert_text), not a key press per
    character: per-character typing is not what these tests are about, and each key was a round
    trip to the server (30 lines of it took 15 s)."""
    field = page.get_by_test_id("message-input")
    field.click()
    for n, line in enumerate(lines):
        if n:
            field.press("Shift+Enter")
        page.keyboard.insert_text(line)


def placement(page: Page, message_id: int) -> dict[str, float]:
    """Where the message's box and the list's visible box are, in pixels from the window's top."""
    return page.evaluate(
        """id => {
            const row = document.querySelector(`[data-testid=message][data-message-id="${id}"]`);
            const list = document.querySelector('[data-testid=message-list]');
            const r = row ? row.getBoundingClientRect() : {top: 0, bottom: 0, height: 0};
            const l = list.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, height: r.height, list_top: l.top, list_bottom: l.bottom,
                    scroll_top: list.scrollTop};
        }""",
        str(message_id),
    )


def wholly_in_list(box: dict[str, float]) -> bool:
    """The message's box lies inside the list's visible box (a pixel of rounding allowed)."""
    return box["height"] > 0 and box["top"] >= box["list_top"] - 1 and box["bottom"] <= box["list_bottom"] + 1


def last_message_id(page: Page) -> int:
    return int(page.get_by_test_id("message").last.get_attribute("data-message-id") or 0)


def fill_room(api: Api, count: int) -> str:
    slug = api.room()
    for n in range(count):
        api.say(slug, f"earlier message {n}")
    return slug


def opened_at_the_bottom(page: Page, count: int) -> None:
    """The room of `count` messages shows its newest at the bottom. (How many rows are rendered
    depends on the screen: a page of older ones may load at once when the first is near the top.)"""
    expect(page.get_by_test_id("message-text").last).to_have_text(f"earlier message {count - 1}")
    page.wait_for_function(AT_BOTTOM)


def send_long_message(page: Page, lines: int = 30) -> int:
    """Type a long message line by line and send it with Enter; returns its id once it shows."""
    texts = [f"line {n} of a long message" for n in range(lines)]
    type_lines(page, texts)
    page.get_by_test_id("message-input").press("Enter")
    last_text = page.get_by_test_id("message-text").last
    expect(last_text).to_contain_text(f"line {lines - 1} of a long message", timeout=LIVE)
    expect(page.get_by_test_id("message-input")).to_have_value("")
    return last_message_id(page)


def expect_wholly_in_view(page: Page, message_id: int) -> None:
    """Wholly in the list's box and the list at its bottom, and still so once everything settled
    (the composer shrinks back after the send)."""
    page.wait_for_function(AT_BOTTOM, timeout=LIVE)
    page.wait_for_timeout(500)  # the composer's field has shrunk back by now; nothing may move after
    page.wait_for_function(AT_BOTTOM, timeout=LIVE)
    box = placement(page, message_id)
    assert wholly_in_list(box), f"the sent message is not wholly in view: {box}"
    expect(page.get_by_test_id("new-messages-button")).to_be_hidden()


# A sent message is always in view


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_a_long_sent_message_is_wholly_in_view(new_page: PageOpener, api: Api, width: int, height: int) -> None:
    slug = fill_room(api, 30)
    page = open_room(new_page, slug, width=width, height=height)
    opened_at_the_bottom(page, 30)
    message_id = send_long_message(page, lines=30)
    expect_wholly_in_view(page, message_id)


def test_a_reader_far_up_who_sends_is_taken_to_their_message(new_page: PageOpener, api: Api) -> None:
    slug = fill_room(api, 60)
    page = open_room(new_page, slug)
    opened_at_the_bottom(page, 60)
    scroll_up_by(page, 0.8)
    expect(page.get_by_test_id("message-text").last).not_to_be_in_viewport()
    message_id = send_long_message(page, lines=12)
    expect_wholly_in_view(page, message_id)


def test_an_image_sent_while_reading_up_is_wholly_in_view(new_page: PageOpener, api: Api, tmp_path: Path) -> None:
    slug = fill_room(api, 60)
    page = open_room(new_page, slug, width=390, height=844)
    opened_at_the_bottom(page, 60)
    scroll_up_by(page, 0.5)
    expect(page.get_by_test_id("message-text").last).not_to_be_in_viewport()
    photo = tmp_path / "tall.png"
    Image.new("RGB", (600, 900), "teal").save(photo)
    page.locator("[data-testid=image-upload] input[type=file]").set_input_files(photo)
    image = page.get_by_test_id("message-image").last
    expect(image).to_be_visible(timeout=LIVE + 3_000)
    expect(image).to_have_js_property("complete", True)
    expect_wholly_in_view(page, last_message_id(page))


def test_a_reader_far_back_in_history_who_sends_is_taken_to_their_message(new_page: PageOpener, api: Api) -> None:
    """So far back that the window let the newest messages go: sending brings the newest back."""
    slug = fill_room(api, MAX_RENDERED + 60)
    page = open_room(new_page, slug)
    opened_at_the_bottom(page, MAX_RENDERED + 60)
    newest = last_message_id(page)
    listing = page.get_by_test_id("message-list")
    for _ in range(20):  # scroll to the top until the window unloads the newest messages
        if last_message_id(page) < newest:
            break
        first = page.get_by_test_id("message").first.get_attribute("data-message-id")
        listing.evaluate(SCROLL_TO_TOP)
        page.wait_for_function("f => document.querySelector('[data-testid=message]').dataset.messageId != f", arg=first)
    assert last_message_id(page) < newest, "the window never left the newest messages"
    expect(page.get_by_test_id("new-messages-button")).to_contain_text("Jump to latest")
    message_id = send_long_message(page, lines=8)
    assert message_id > newest
    expect_wholly_in_view(page, message_id)
    expect(page.get_by_test_id("message-text").nth(-2)).to_have_text(f"earlier message {MAX_RENDERED + 59}")


# The "new messages" button


def scroll_away(page: Page, fraction: float) -> None:
    """Scroll up, and wait until the page heard it: the list stops following (its class says so)."""
    scroll_up_by(page, fraction)
    expect(page.get_by_test_id("message-list")).not_to_have_class(re.compile(r"\bchat-follow\b"), timeout=LIVE)


def open_scrolled_up(new_page: PageOpener, api: Api, **size: int) -> tuple[Page, str]:
    """A room of 60 messages, opened and scrolled half way up: the newest are out of view."""
    slug = fill_room(api, 60)
    page = open_room(new_page, slug, **size)
    opened_at_the_bottom(page, 60)
    scroll_away(page, 0.5)
    expect(page.get_by_test_id("message").last).not_to_be_in_viewport()
    return page, slug


def test_the_button_counts_what_arrived_while_reading_up(new_page: PageOpener, api: Api) -> None:
    page, slug = open_scrolled_up(new_page, api)
    button = page.get_by_test_id("new-messages-button")
    expect(button).to_be_hidden()
    api.say(slug, "first while you read")
    expect(button).to_contain_text("1 new message", timeout=LIVE)
    expect(button).not_to_contain_text("messages")
    ids = [api.say(slug, f"more while you read {n}") for n in range(2)]
    expect(button).to_contain_text("3 new messages", timeout=LIVE)
    assert "3 new messages" in (button.get_attribute("aria-label") or "")
    delete(api, slug, ids[-1])  # deleted meanwhile: no longer waiting
    expect(button).to_contain_text("2 new messages", timeout=LIVE)
    api.say(slug, "the last one")
    expect(button).to_contain_text("3 new messages", timeout=LIVE)
    button.click()
    expect(button).to_be_hidden()
    expect(page.get_by_test_id("message-text").last).to_have_text("the last one")
    expect(page.get_by_test_id("message-text").last).to_be_in_viewport()
    page.wait_for_function(AT_BOTTOM)
    expect(page.get_by_test_id("message-text").nth(-2)).to_have_text("more while you read 0")
    expect(page.get_by_test_id("message-text").nth(-2)).to_be_in_viewport()


def test_the_count_starts_again_when_the_reader_scrolls_down(new_page: PageOpener, api: Api) -> None:
    page, slug = open_scrolled_up(new_page, api)
    button = page.get_by_test_id("new-messages-button")
    for n in range(2):
        api.say(slug, f"while you read {n}")
    expect(button).to_contain_text("2 new messages", timeout=LIVE)
    page.get_by_test_id("message-list").evaluate(SCROLL_TO_BOTTOM)
    expect(button).to_be_hidden(timeout=LIVE)
    api.say(slug, "read at the bottom")  # followed: nothing waits
    expect(page.get_by_test_id("message-text").last).to_have_text("read at the bottom", timeout=LIVE)
    expect(button).to_be_hidden()
    scroll_away(page, 0.5)
    expect(page.get_by_test_id("message").last).not_to_be_in_viewport()
    api.say(slug, "after scrolling up again")
    expect(button).to_contain_text("1 new message", timeout=LIVE)


def test_a_reader_who_scrolls_up_at_once_is_not_dragged_down(new_page: PageOpener, api: Api) -> None:
    """The reader scrolls away before the browser first looked at the list's strips: the page still
    knows they left the bottom, keeps their place and offers the button."""
    slug = fill_room(api, 60)
    page = new_page(f"/rooms/{slug}")
    expect(page.get_by_test_id("message-text").last).to_have_text("earlier message 59")
    scroll_away(page, 0.5)  # at once, in the same breath as the rows arrived; the page hears of it
    reading_id = page.get_by_test_id("message").nth(-25).get_attribute("data-message-id")
    reading = page.locator(f'[data-testid=message][data-message-id="{reading_id}"]')  # older pages may load above
    place = reading.bounding_box()
    api.say(slug, "arrived\n\n\n\nwhile you read")
    expect(page.get_by_test_id("new-messages-button")).to_contain_text("1 new message", timeout=LIVE)
    assert place is not None and reading.bounding_box() == place, "the reader's place moved"


# Screen readers


def test_the_list_is_a_log_and_others_messages_are_announced(new_page: PageOpener, api: Api) -> None:
    room = unique("Announced")
    slug = api.room(room)
    page = open_room(new_page, slug)
    listing = page.get_by_test_id("message-list")
    expect(listing).to_have_attribute("role", "log")
    expect(listing).to_have_attribute("aria-label", f"Messages in {room}")
    announcer = page.get_by_test_id("message-announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_be_attached()
    assert announcer.bounding_box() is None or announcer.bounding_box()["width"] <= 1  # type: ignore[index]
    api.say(slug, "Hello **there**, `you`")
    expect(announcer).to_have_text("Ada: Hello there, you", timeout=LIVE)
    send(page, "my own words")  # the reader's own message is not read back to them
    expect(page.get_by_test_id("message-text").last).to_have_text("my own words", timeout=LIVE)
    expect(announcer).to_have_text("Ada: Hello there, you")
    api.say(slug, "x" * 500)
    expect(announcer).to_have_text("Ada: " + "x" * 139 + "…", timeout=LIVE)


# Screenshots


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_screenshots_of_the_new_messages_button(
    browser: Browser, chat: AppProcess, api: Api, scheme: str, width: int, height: int
) -> None:
    slug = fill_room(api, 60)
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=chat.url,
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    try:
        page = context.new_page()
        page.goto(f"/rooms/{slug}")
        opened_at_the_bottom(page, 60)
        scroll_away(page, 0.4)
        for n in range(3):
            api.say(slug, f"news {n}")
        button = page.get_by_test_id("new-messages-button")
        expect(button).to_contain_text("3 new messages", timeout=LIVE)
        page.wait_for_timeout(300)  # its entrance has ended
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"list-new-messages-{width}x{height}-{scheme}.png"))
        box = button.bounding_box()
        assert box is not None and box["height"] >= 32 and box["x"] >= 0 and box["x"] + box["width"] <= width
    finally:
        context.close()

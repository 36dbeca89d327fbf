"""What a person sees: real Chromium (Playwright) against the app started as a real process.

Markers are the data-testid values of CONTRACT section 4. Screenshots of the room page at
desktop and phone sizes are written to test-artifacts/ (not committed).
"""

import io
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from chat_ui.room.message_list import CHUNK_SIZE, MAX_RENDERED
from tests.pages import (
    AT_BOTTOM,
    LIVE,
    SCROLL_TO_BOTTOM,
    SCROLL_TO_TOP,
    Api,
    PageOpener,
    message_texts,
    open_room,
    scroll_up_by,
    send,
    top_of,
)
from tests.support import ROOT, AppProcess, running_app, unique

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    data_dir = tmp_path_factory.mktemp("browser-app")
    with running_app(data_dir / "logs", CHAT_DATA_DIR=str(data_dir), CHAT_MAX_UPLOAD_MB="1") as app:
        yield app


@pytest.fixture
def api(chat: AppProcess) -> Iterator[Api]:
    api = Api(chat.url)
    yield api
    api.close()


def rendered_ids(page: Page) -> list[int]:
    return [
        int(i) for i in page.eval_on_selector_all("[data-testid=message]", "els => els.map(e => e.dataset.messageId)")
    ]


# Live messages


def test_two_browsers_see_each_others_messages_and_api_posts(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    alice, bob = open_room(new_page, slug), open_room(new_page, slug)
    expect(alice.get_by_text("Say hello!")).to_be_visible()
    send(alice, "Hello Bob")
    expect(bob.get_by_test_id("message-text").last).to_have_text("Hello Bob", timeout=LIVE)
    expect(bob.get_by_text("This is the beginning of")).to_be_visible()  # no more "say hello"
    expect(bob.get_by_text("Say hello!")).to_have_count(0)
    expect(alice.get_by_test_id("message-text").last).to_have_text("Hello Bob", timeout=LIVE)
    send(bob, "Hi Alice")
    expect(alice.get_by_test_id("message-text").last).to_have_text("Hi Alice", timeout=LIVE)
    api.say(slug, "Posted by a script")
    for page in (alice, bob):
        expect(page.get_by_test_id("message-text").last).to_have_text("Posted by a script", timeout=LIVE)
        expect(page.get_by_test_id("message-author").last).to_have_text("Api Bot")
        assert message_texts(page) == ["Hello Bob", "Hi Alice", "Posted by a script"]


def test_an_uploaded_image_shows_in_both_browsers(new_page: PageOpener, api: Api, tmp_path: Path) -> None:
    slug = api.room()
    alice, bob = open_room(new_page, slug), open_room(new_page, slug)
    photo = tmp_path / "photo.png"
    Image.new("RGB", (900, 600), "tomato").save(photo)
    alice.locator("[data-testid=image-upload] input[type=file]").set_input_files(photo)
    for page in (alice, bob):
        image = page.get_by_test_id("message-image").last
        expect(image).to_be_visible(timeout=LIVE + 3_000)
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") == 400  # the thumbnail, not the original
    # The thumbnail opens the full-size image; Escape closes it (the browser's popover, no script).
    bob.get_by_test_id("message-image").last.click()
    viewer = bob.get_by_test_id("image-viewer").last
    expect(viewer).to_be_visible()
    expect(viewer.locator("img")).to_have_js_property("complete", True)
    assert viewer.locator("img").evaluate("img => img.naturalWidth") == 900  # the original, not the thumbnail
    bob.keyboard.press("Escape")
    expect(viewer).to_be_hidden()


def test_a_file_that_is_not_an_image_gets_a_clear_notice(new_page: PageOpener, api: Api, tmp_path: Path) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    fake = tmp_path / "cat.png"
    fake.write_text("I am text, not a cat")
    page.locator("[data-testid=image-upload] input[type=file]").set_input_files(fake)
    expect(page.locator(".q-notification").filter(has_text="not a readable")).to_be_visible(timeout=5_000)
    expect(page.get_by_test_id("upload-staging")).to_be_hidden()  # refused on arrival: nothing waits to be sent
    assert page.get_by_test_id("message").count() == 0


def test_markup_in_a_message_is_shown_literally(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    markup = "<img src=x onerror=\"document.title='pwned'\"><b>bold?</b> & <script>alert(1)</script>"
    send(page, markup)
    text = page.get_by_test_id("message-text").last
    expect(text).to_have_text(markup, timeout=LIVE)
    assert text.locator("b, img, script").count() == 0
    assert page.title() != "pwned"


def test_enter_sends_and_shift_enter_adds_a_line(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    field = page.get_by_test_id("message-input")
    field.click()
    field.type("first line")
    field.press("Shift+Enter")
    field.type("second line")
    assert page.get_by_test_id("message").count() == 0
    field.press("Enter")
    expect(page.get_by_test_id("message-text").last).to_have_text("first line\nsecond line", timeout=LIVE)
    expect(field).to_have_value("")


# History


def open_long_room(new_page: PageOpener, api: Api, count: int = 300) -> tuple[Page, list[int]]:
    """A room with `count` messages, opened at the bottom showing the newest 50 (and, on a screen
    where 50 short rows do not reach NEAR_EDGE_PX above the view, the page before them at once)."""
    slug = api.room()
    ids = [api.say(slug, f"history {n}") for n in range(count)]
    page = open_room(new_page, slug)
    expect(page.get_by_test_id("message").last).to_have_attribute("data-message-id", str(ids[-1]))
    page.wait_for_function("() => document.querySelectorAll('[data-testid=message]').length >= 50")
    page.wait_for_function(AT_BOTTOM)
    return page, ids


def scroll_up_to_the_first(page: Page, first_id: int) -> Iterator[list[int]]:
    """Scroll the list to its top until the room's first message shows; yields the rendered ids
    after each page that loaded. The reader's place is kept: the message that was first stays
    where the reader saw it while the older page goes in above it."""
    listing = page.get_by_test_id("message-list")
    for _ in range(20):
        first = rendered_ids(page)[0]
        if first == first_id:
            return
        listing.evaluate(SCROLL_TO_TOP)
        seen_at = top_of(page, first)
        page.wait_for_function(
            "f => document.querySelector('[data-testid=message]').dataset.messageId != f", arg=str(first)
        )
        assert abs(top_of(page, first) - seen_at) < 2, "the older page pushed the reader's place away"
        yield rendered_ids(page)
    raise AssertionError("the first message never showed")


def test_300_messages_are_reached_by_scrolling_up_in_order_without_duplicates(new_page: PageOpener, api: Api) -> None:
    page, ids = open_long_room(new_page, api)
    seen = set(rendered_ids(page))
    for current in scroll_up_to_the_first(page, ids[0]):
        assert current == sorted(set(current)), "rendered in order, never twice"
        assert len(current) < MAX_RENDERED + CHUNK_SIZE, "a view holds a bounded number of messages"
        seen.update(current)
    assert rendered_ids(page)[0] == ids[0]
    assert sorted(seen) == ids
    expect(page.get_by_text("This is the beginning of")).to_be_visible()


def test_scrolled_up_readers_stay_put_and_get_a_new_messages_button(new_page: PageOpener, api: Api) -> None:
    page, _ = open_long_room(new_page, api, count=80)
    slug = page.url.rsplit("/", 1)[1]
    scroll_up_by(page, 0.5)
    reading = next(i for i in rendered_ids(page) if 0 < top_of(page, i) < 300)  # a message in view
    place = top_of(page, reading)
    for n in range(3):  # more than one message, taller than the follow margin
        api.say(slug, f"while you were reading {n}" + "\n" * 6)
    button = page.get_by_test_id("new-messages-button")
    expect(button).to_be_visible(timeout=LIVE)
    expect(page.get_by_test_id("message-text").last).to_contain_text("while you were reading 2")
    assert abs(top_of(page, reading) - place) < 2, "what the reader was reading stayed where it was"
    button.click()
    expect(page.get_by_test_id("message-text").last).to_be_in_viewport()
    expect(button).to_be_hidden()
    page.wait_for_function(AT_BOTTOM)
    api.say(slug, "followed at the bottom")
    expect(page.get_by_test_id("message-text").last).to_have_text("followed at the bottom", timeout=LIVE)
    expect(page.get_by_test_id("message-text").last).to_be_in_viewport()
    page.wait_for_function(AT_BOTTOM)


@pytest.mark.parametrize("shown", [0, 60], ids=["empty room", "full room"])
def test_a_reader_at_the_bottom_follows_a_burst_of_messages(new_page: PageOpener, api: Api, shown: int) -> None:
    """The browser follows new messages by itself (a column-reverse list, no script): through a
    burst that fills more than one chunk, with a tall message among them; from an empty room too,
    where the list starts with nothing to scroll."""
    slug = api.room()
    for n in range(shown):
        api.say(slug, f"history {n}")
    page = open_room(new_page, slug, height=600)
    expect(page.get_by_test_id("message")).to_have_count(min(shown, 50))
    page.wait_for_function(AT_BOTTOM)
    for n in range(3 * CHUNK_SIZE):
        api.say(slug, f"burst {n}" + ("\n" * 12 + "a tall one" if n == CHUNK_SIZE else ""))
    expect(page.get_by_test_id("message-text").last).to_have_text(f"burst {3 * CHUNK_SIZE - 1}", timeout=LIVE)
    page.wait_for_function(AT_BOTTOM, timeout=LIVE)
    expect(page.get_by_test_id("message-text").last).to_be_in_viewport()


def test_a_reload_shows_every_message_once(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    for n in range(5):
        send(page, f"before reload {n}")
        expect(page.get_by_test_id("message-text").last).to_have_text(f"before reload {n}", timeout=LIVE)
    api.say(slug, "while reloading")
    page.reload()
    expect(page.get_by_test_id("message-text").last).to_have_text("while reloading")
    assert message_texts(page) == [f"before reload {n}" for n in range(5)] + ["while reloading"]


# Guests and rooms


def test_a_rename_survives_a_reload_and_a_browser_restart(
    browser: Browser, chat: AppProcess, new_page: PageOpener
) -> None:
    page = new_page("/")
    expect(page.get_by_test_id("current-user-name")).to_have_text(re.compile(r"^Guest \d{4}$"))
    page.get_by_test_id("profile-button").click()
    field = page.get_by_test_id("display-name-input")
    field.fill("x" * 33)
    expect(page.get_by_text("at most 32 characters")).to_be_visible()
    field.fill("Ada Lovelace")
    page.get_by_test_id("display-name-save").click()
    expect(page.get_by_test_id("current-user-name")).to_have_text("Ada Lovelace")
    page.reload()
    expect(page.get_by_test_id("current-user-name")).to_have_text("Ada Lovelace")
    # A browser restart keeps its cookies: a new context from the saved state is the same guest.
    state = page.context.storage_state()
    restarted = browser.new_context(storage_state=state, base_url=chat.url)
    try:
        again = restarted.new_page()
        again.goto("/")
        expect(again.get_by_test_id("current-user-name")).to_have_text("Ada Lovelace")
    finally:
        restarted.close()


def test_creating_a_room_lands_in_it_and_others_see_it_listed(new_page: PageOpener) -> None:
    watcher = new_page("/")
    expect(watcher.get_by_test_id("room-list")).to_be_attached()
    page = new_page("/")
    name = unique("Gardening")
    page.get_by_test_id("create-room-button").click()
    page.get_by_test_id("room-name-input").fill(name)
    page.get_by_test_id("room-description-input").fill("Plants & soil")
    page.get_by_test_id("create-room-submit").click()
    expect(page.get_by_test_id("room-title")).to_have_text(name)
    assert page.url.endswith("/rooms/" + name.lower())
    expect(watcher.get_by_test_id("room-item").filter(has_text=name)).to_be_visible(timeout=LIVE)
    watcher.get_by_test_id("room-item").filter(has_text=name).click()
    expect(watcher.get_by_test_id("room-title")).to_have_text(name)


def test_a_room_name_that_is_taken_or_empty_is_refused_inline(new_page: PageOpener, api: Api) -> None:
    taken = unique("Taken")
    api.room(taken)
    page = new_page("/")
    page.get_by_test_id("create-room-button").click()
    page.get_by_test_id("room-name-input").fill(taken.upper())
    page.get_by_test_id("create-room-submit").click()
    expect(page.get_by_text("exists already")).to_be_visible()
    page.get_by_test_id("room-name-input").fill("   ")
    page.get_by_test_id("create-room-submit").click()
    expect(page.get_by_text("must not be empty")).to_be_visible()
    assert "/rooms/" not in page.url


def test_leaving_a_room_goes_back_to_the_list(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    page.get_by_test_id("leave-room-button").click()
    expect(page.get_by_test_id("room-list")).to_be_attached()
    assert page.url.rstrip("/") == page.url.split("/rooms/")[0].rstrip("/")


def test_an_unknown_room_has_a_friendly_page(new_page: PageOpener) -> None:
    page = new_page("/rooms/no-such-room-here")
    expect(page.get_by_text("This room does not exist")).to_be_visible()
    page.get_by_role("button", name="Back to all rooms").click()
    expect(page.get_by_test_id("room-list")).to_be_attached()


# How it looks


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_screenshots_of_the_room_page(new_page: PageOpener, api: Api, width: int, height: int, tmp_path: Path) -> None:
    slug = api.room(unique("Python Café"))
    for n in range(12):
        api.say(slug, f"Message {n}: " + "a few words to wrap the line nicely " * (n % 3))
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), "teal").save(buffer, "JPEG")
    api.client.post(f"/api/v1/rooms/{slug}/images", files={"file": ("p.jpg", buffer.getvalue())}, headers=api.auth)
    api.say(slug, "<b>Markup</b> stays text,\nand newlines stay too.")
    page = open_room(new_page, slug, width=width, height=height)
    expect(page.get_by_test_id("message-image")).to_have_js_property("complete", True)
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"room-{width}x{height}.png"))
    list_page = new_page("/", width=width, height=height)
    expect(list_page.get_by_test_id("room-item").first).to_be_visible()
    list_page.screenshot(path=str(ARTIFACTS / f"rooms-{width}x{height}.png"))
    # Nothing spills sideways at phone width.
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_lost_connection_catches_up_without_gaps_or_repeats(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    api.say(slug, "before the drop")
    expect(page.get_by_test_id("message-text").last).to_have_text("before the drop", timeout=LIVE)
    # Drop the connection the way a flaky network does; socket.io reconnects by itself once it can.
    page.context.set_offline(True)
    page.evaluate("window.socket.io.engine.close()")
    api.say(slug, "while offline 1")
    api.say(slug, "while offline 2")
    page.wait_for_timeout(1_000)
    assert message_texts(page) == ["before the drop"]
    page.context.set_offline(False)
    expect(page.get_by_test_id("message-text").last).to_have_text("while offline 2", timeout=8_000)
    api.say(slug, "after the drop")
    expect(page.get_by_test_id("message-text").last).to_have_text("after the drop", timeout=LIVE)
    assert message_texts(page) == ["before the drop", "while offline 1", "while offline 2", "after the drop"]


def test_an_image_over_the_limit_gets_a_clear_notice(new_page: PageOpener, api: Api, tmp_path: Path) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(1024 * 1024 + 100))  # the app allows 1 MB here
    page.locator("[data-testid=image-upload] input[type=file]").set_input_files(big)
    expect(page.locator(".q-notification").filter(has_text="at most 1 MB")).to_be_visible(timeout=5_000)
    assert page.get_by_test_id("message").count() == 0


def test_scrolling_back_down_reloads_what_was_unloaded_and_goes_live_again(new_page: PageOpener, api: Api) -> None:
    page, ids = open_long_room(new_page, api)
    slug = page.url.rsplit("/", 1)[1]
    listing = page.get_by_test_id("message-list")
    for _ in scroll_up_to_the_first(page, ids[0]):
        pass  # on the way up, the window unloads the newest messages
    assert rendered_ids(page)[-1] < ids[-1], "far back, the newest messages are unloaded"
    api.say(slug, "arrived while reading old history")
    expect(page.get_by_test_id("new-messages-button")).to_be_visible(timeout=LIVE)
    for _ in range(20):  # and back down to the newest
        last = rendered_ids(page)[-1]
        if last > ids[-1]:
            break
        listing.evaluate(SCROLL_TO_BOTTOM)
        page.wait_for_function(
            "l => [...document.querySelectorAll('[data-testid=message]')].pop().dataset.messageId != l",
            arg=str(last),
        )
        current = rendered_ids(page)
        assert current == sorted(set(current)) and len(current) < MAX_RENDERED + CHUNK_SIZE
    expect(page.get_by_test_id("message-text").last).to_have_text("arrived while reading old history")
    api.say(slug, "live again")
    expect(page.get_by_test_id("message-text").last).to_have_text("live again", timeout=LIVE)


def test_your_own_message_scrolls_into_view_even_when_scrolled_up(new_page: PageOpener, api: Api) -> None:
    page, _ = open_long_room(new_page, api, count=60)
    scroll_up_by(page, 0.5)
    expect(page.get_by_test_id("message-text").last).not_to_be_in_viewport()
    send(page, "my own words")
    expect(page.get_by_test_id("message-text").last).to_have_text("my own words", timeout=LIVE)
    expect(page.get_by_test_id("message-text").last).to_be_in_viewport()
    page.wait_for_function(AT_BOTTOM)


def test_the_room_list_shows_activity_live(new_page: PageOpener, api: Api) -> None:
    name = unique("Quiet room")
    slug = api.room(name)
    page = new_page("/")
    card = page.get_by_test_id("room-item").filter(has_text=name)
    expect(card).to_contain_text("no messages yet")
    api.say(slug, "wake up")
    expect(card).to_contain_text("active just now", timeout=LIVE)
    expect(page.get_by_test_id("room-item").first).to_contain_text(name)


def test_dark_mode_can_be_switched_and_is_remembered(new_page: PageOpener) -> None:
    page = new_page("/")
    expect(page.locator("body")).not_to_have_class(re.compile("body--dark"))
    page.get_by_role("button", name="Theme: system").click()  # a menu: light, dark, system (#15)
    page.get_by_test_id("theme-dark").click()
    expect(page.locator("body")).to_have_class(re.compile("body--dark"))
    page.reload()
    expect(page.locator("body")).to_have_class(re.compile("body--dark"))


def test_times_are_shown_in_the_readers_own_time_zone(browser: Browser, chat: AppProcess, api: Api) -> None:
    slug = api.room()
    api.say(slug, "what time is it?")
    created = api.client.get(f"/api/v1/rooms/{slug}/messages").json()["messages"][-1]["created_at"]
    tokyo = datetime.fromisoformat(created).astimezone(ZoneInfo("Asia/Tokyo"))
    context = browser.new_context(base_url=chat.url, timezone_id="Asia/Tokyo")
    try:
        page = context.new_page()
        page.goto(f"/rooms/{slug}")
        stamp = page.get_by_test_id("message").last.locator("time")
        expect(stamp).to_have_attribute("title", re.compile(r"JST$"))
        assert tokyo.strftime("%H:%M") in stamp.inner_text()
    finally:
        context.close()

"""A message in its context (CONTRACT §7), in real Chromium: `/rooms/{slug}?message=ID`, where a
search result leads, opens the room at that message, in view and marked, with older messages
loading above and newer ones below, and "Jump to latest" back to the live end. A link to a
message that is gone opens the room as usual and says so; a link that names no message at all
just opens the room. Screenshots of the mark go to test-artifacts/context-*.png, light and dark,
laptop and phone, each audited with axe-core.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.pages import AT_BOTTOM, LIVE, SCROLL_TO_BOTTOM, SCROLL_TO_TOP, Api, PageOpener, api_as, send
from tests.support import ROOT, AppProcess, module_app, unique
from tests.test_accessibility import audit, explain

ARTIFACTS = ROOT / "test-artifacts"
HISTORY = 300  # messages in the room the links lead into
GONE = "That message is no longer there."
OPEN = 10_000  # ms: a page opening on a machine shared with other test runs


@dataclass(frozen=True)
class Room:
    slug: str
    ids: list[int]  # "message 0" … oldest first


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "context-app") as app:
        yield app


@pytest.fixture(scope="module")
def ada(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url, "Ada Lovelace") as api:
        yield api


@pytest.fixture(scope="module")
def bo(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url, "Bo") as api:
        yield api


def seed(ada: Api, bo: Api, slug: str, count: int) -> list[int]:
    """`count` messages, "message 0" the oldest, in turns of a few messages each as people write."""
    return [(ada if (n // 4) % 2 == 0 else bo).say(slug, f"message {n}") for n in range(count)]


@pytest.fixture(scope="module")
def history(ada: Api, bo: Api) -> Room:
    slug = ada.room(unique("History"))
    return Room(slug, seed(ada, bo, slug, HISTORY))


def row(page: Page, message_id: int) -> Locator:
    return page.locator(f'[data-testid=message][data-message-id="{message_id}"]')


def open_at(new_page: PageOpener, slug: str, message: object, **size: int) -> Page:
    page = new_page(f"/rooms/{slug}?message={message}", **size)
    expect(page.get_by_test_id("room-title")).to_be_visible()
    expect(page.get_by_test_id("message-input")).to_be_editable()
    return page


def in_list_view(page: Page, message_id: int) -> bool:
    """The message's box lies inside the list's visible box (a pixel of rounding allowed)."""
    return bool(
        page.evaluate(
            """id => {
                const row = document.querySelector(`[data-testid=message][data-message-id="${id}"]`);
                if (!row) return false;
                const r = row.getBoundingClientRect();
                const l = document.querySelector('[data-testid=message-list]').getBoundingClientRect();
                return r.height > 0 && r.top >= l.top - 1 && r.bottom <= l.bottom + 1;
            }""",
            str(message_id),
        )
    )


def expect_in_view_and_marked(page: Page, message_id: int) -> None:
    page.wait_for_function(
        """id => { const row = document.querySelector(`[data-testid=message][data-message-id="${id}"]`);
                   if (!row) return false;
                   const r = row.getBoundingClientRect();
                   const l = document.querySelector('[data-testid=message-list]').getBoundingClientRect();
                   return r.height > 0 && r.top >= l.top - 1 && r.bottom <= l.bottom + 1; }""",
        arg=str(message_id),
        timeout=OPEN,
    )
    expect(row(page, message_id)).to_have_attribute("data-highlighted", "true")
    expect(page.locator("[data-testid=message][data-highlighted=true]")).to_have_count(1)


def background(locator: Locator) -> str:
    return str(locator.evaluate("el => getComputedStyle(el).backgroundColor"))


def rendered_ids(page: Page) -> list[int]:
    return [int(i) for i in page.get_by_test_id("message").evaluate_all("rows => rows.map(r => r.dataset.messageId)")]


def scroll_until(page: Page, script: str, shown: Locator, *, attempts: int = 30) -> None:
    """Scroll the list as a reader does (to its top or bottom, again and again) until `shown` is rendered."""
    listing = page.get_by_test_id("message-list")
    for _ in range(attempts):
        if shown.count():
            return
        listing.evaluate(script)
        page.wait_for_timeout(300)
    expect(shown).to_have_count(1)


# Opening at a message


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_a_link_opens_the_room_at_that_message_in_view_and_marked(
    new_page: PageOpener, history: Room, width: int, height: int
) -> None:
    target = history.ids[100]
    page = open_at(new_page, history.slug, target, width=width, height=height)
    expect_in_view_and_marked(page, target)
    expect(row(page, target).get_by_test_id("message-text")).to_have_text("message 100")
    ids = rendered_ids(page)
    assert history.ids[-1] not in ids, "a window around an old message, not the newest page"
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    expect(page.get_by_test_id("new-messages-button")).to_have_text(re.compile("Jump to latest"))
    # A mark, not a flash: once the :target flash is over (2.5 s) the row still stands out.
    page.wait_for_timeout(3_000)
    neighbour = row(page, history.ids[101])
    expect(row(page, target)).to_have_attribute("data-highlighted", "true")
    assert background(row(page, target)) != background(neighbour)
    assert in_list_view(page, target), "the message stays in view while the rest loads"


def test_scrolling_up_loads_older_messages_and_down_reaches_the_newest(
    new_page: PageOpener, history: Room, ada: Api
) -> None:
    target = history.ids[150]
    page = open_at(new_page, history.slug, target)
    expect_in_view_and_marked(page, target)
    older = row(page, history.ids[90])  # beyond the first window's older half
    expect(older).to_have_count(0)
    scroll_until(page, SCROLL_TO_TOP, older)
    expect(older.get_by_test_id("message-text")).to_have_text("message 90")
    newest = ada.say(history.slug, "the newest of all")
    scroll_until(page, SCROLL_TO_BOTTOM, row(page, newest))
    page.get_by_test_id("message-list").evaluate(SCROLL_TO_BOTTOM)
    page.wait_for_function(AT_BOTTOM, timeout=LIVE)
    expect(page.get_by_test_id("message-text").last).to_have_text("the newest of all")
    expect(page.get_by_test_id("new-messages-button")).to_be_hidden(timeout=LIVE)
    ids = rendered_ids(page)
    assert ids == sorted(ids) and len(ids) == len(set(ids)), "never duplicated or out of order"
    expect(row(page, target)).to_have_attribute("data-highlighted", "true")  # scrolling is not moving on


def test_jump_to_latest_returns_to_the_live_end_with_what_arrived_meanwhile(
    new_page: PageOpener, history: Room, bo: Api
) -> None:
    target = history.ids[40]
    page = open_at(new_page, history.slug, target)
    expect_in_view_and_marked(page, target)
    live = bo.say(history.slug, "posted while you were reading back")
    button = page.get_by_test_id("new-messages-button")
    expect(button).to_have_text(re.compile("1 new message"), timeout=LIVE)
    expect(row(page, live)).to_have_count(0)  # far back: announced, not rendered
    button.click()
    expect(row(page, live)).to_be_visible(timeout=LIVE)
    page.wait_for_function(AT_BOTTOM, timeout=LIVE)
    assert in_list_view(page, live)
    expect(button).to_be_hidden()
    expect(page.locator("[data-highlighted=true]")).to_have_count(0)  # moved on: the mark is gone
    page.wait_for_function("slug => location.href.endsWith('/rooms/' + slug)", arg=history.slug, timeout=LIVE)
    # Following again: the next message shows at the bottom.
    after = bo.say(history.slug, "and one more")
    expect(row(page, after)).to_be_visible(timeout=LIVE)
    page.wait_for_function(AT_BOTTOM, timeout=LIVE)


def test_sending_far_back_moves_on_to_the_sent_message(new_page: PageOpener, history: Room) -> None:
    target = history.ids[60]
    page = open_at(new_page, history.slug, target, width=390, height=844)
    expect_in_view_and_marked(page, target)
    send(page, "back to the present")
    expect(page.get_by_test_id("message-text").last).to_have_text("back to the present", timeout=LIVE)
    page.wait_for_function(AT_BOTTOM, timeout=LIVE)
    expect(page.locator("[data-highlighted=true]")).to_have_count(0)


def test_a_quote_marks_its_original_until_the_reader_moves_on(new_page: PageOpener, ada: Api, bo: Api) -> None:
    slug = ada.room(unique("Quotes"))
    original = ada.say(slug, "the question far back")
    seed(ada, bo, slug, 200)  # more than a window and the page after it: the newest stay away
    reply = bo.say(slug, "the answer", reply_to=original)
    page = open_at(new_page, slug, "")  # an empty ?message= is no link
    row(page, reply).get_by_test_id("message-reply-quote").click()
    expect_in_view_and_marked(page, original)
    page.get_by_test_id("new-messages-button").click()
    expect(row(page, reply)).to_be_visible(timeout=LIVE)
    expect(page.locator("[data-highlighted=true]")).to_have_count(0)


def test_a_search_result_leads_to_its_message_in_context(new_page: PageOpener, ada: Api, bo: Api) -> None:
    """The way a reader gets there (CONTRACT §7): the header's search, a click on a result."""
    word = unique("zephyr").replace("-", "")
    slug = ada.room(unique("Searched"))
    found = ada.say(slug, f"the {word} is in this old message")
    seed(ada, bo, slug, 120)
    page = new_page("/")
    page.get_by_test_id("search-input").fill(word)
    page.get_by_test_id("search-input").press("Enter")
    result = page.get_by_test_id("search-result")
    expect(result).to_have_count(1, timeout=OPEN)
    result.click()
    page.wait_for_url(re.compile(rf"/rooms/{slug}\?message={found}"), timeout=OPEN)
    expect_in_view_and_marked(page, found)
    expect(row(page, found).get_by_test_id("message-text")).to_contain_text(word)


def test_a_link_to_one_of_the_newest_messages_opens_at_the_live_end(new_page: PageOpener, ada: Api, bo: Api) -> None:
    slug = ada.room(unique("Recent"))
    ids = seed(ada, bo, slug, 12)
    page = open_at(new_page, slug, ids[-2])
    expect_in_view_and_marked(page, ids[-2])
    expect(row(page, ids[0])).to_have_count(1)  # the whole room: nothing older to load
    expect(page.get_by_test_id("new-messages-button")).to_be_hidden()
    live = bo.say(slug, "just now")
    expect(row(page, live)).to_be_visible(timeout=LIVE)
    page.wait_for_function(AT_BOTTOM, timeout=LIVE)  # at the live end, the list follows
    expect(row(page, ids[-2])).to_have_attribute("data-highlighted", "true")  # others' messages keep the mark


# Links that lead nowhere


@pytest.mark.parametrize("message", ["abc", "0", "-3", "1.5", str(2**31), "9" * 5000, "%F0%9F%91%8D"])
def test_a_link_that_names_no_message_opens_the_room_as_usual(
    new_page: PageOpener, history: Room, message: str
) -> None:
    page = open_at(new_page, history.slug, message)
    expect(page.get_by_test_id("message").last).to_be_visible()
    page.wait_for_function(AT_BOTTOM, timeout=LIVE)
    assert max(rendered_ids(page)) >= history.ids[-1], "the newest messages, as a room opens"
    expect(page.locator("[data-highlighted=true]")).to_have_count(0)
    expect(page.get_by_text(GONE)).to_have_count(0)


def test_a_link_to_a_message_that_is_gone_opens_the_room_and_says_so(
    new_page: PageOpener, ada: Api, bo: Api, history: Room
) -> None:
    slug = ada.room(unique("Gone"))
    ids = seed(ada, bo, slug, 80)
    response = ada.client.delete(f"/api/v1/rooms/{slug}/messages/{ids[10]}", headers=ada.auth)
    assert response.status_code == 204, response.text
    for gone in (ids[10], history.ids[5]):  # deleted; another room's
        page = open_at(new_page, slug, gone)
        expect(page.get_by_text(GONE)).to_be_visible(timeout=LIVE)
        expect(page.get_by_test_id("message-text").last).to_have_text("message 79")
        page.wait_for_function(AT_BOTTOM, timeout=LIVE)
        expect(page.locator("[data-highlighted=true]")).to_have_count(0)


# Read marks


@pytest.fixture
def member(browser: Browser, chat: AppProcess) -> Iterator[BrowserContext]:
    """A visitor of their own, in one browser context: every page of it is the same guest."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=chat.url)
    yield context
    context.close()


def test_opening_far_back_leaves_the_room_unread_until_the_reader_reaches_the_newest(
    new_page: PageOpener, member: BrowserContext, ada: Api, bo: Api
) -> None:
    name = unique("Unread")
    slug = ada.room(name)
    first = new_page(f"/rooms/{slug}", context=member)
    send(first, "I am here")  # a member now, who has read everything
    expect(first.get_by_test_id("message-text").last).to_have_text("I am here", timeout=LIVE)
    first.close()
    ada.wait_until_nobody_has_open(slug)  # else the closing page may read the first few as they arrive
    ids = seed(ada, bo, slug, 120)
    rooms = new_page("/", context=member)  # the room's unread count, kept current live
    count = rooms.get_by_test_id("room-item").filter(has_text=name).get_by_test_id("unread-count")
    expect(count).to_have_text(re.compile(r"^\d+$"))
    unread = int(count.inner_text())
    assert unread >= 100, "nearly everything is unread (the first page may have seen a few arrive)"
    reader = open_at(new_page, slug, ids[10], context=member)
    expect_in_view_and_marked(reader, ids[10])
    expect(reader.get_by_test_id("unread-divider")).to_have_count(1)  # all of the window is unread
    reader.wait_for_timeout(3_000)  # a page at the bottom marks read within a few seconds; this one is far back
    expect(count).to_have_text(str(unread))
    # Further on, every message in the window is unread: no divider among them (it belongs further back).
    middle = open_at(new_page, slug, ids[60], context=member)
    expect_in_view_and_marked(middle, ids[60])
    expect(middle.get_by_test_id("unread-divider")).to_have_count(0)
    middle.close()
    expect(count).to_have_text(str(unread))
    reader.get_by_test_id("new-messages-button").click()
    reader.wait_for_function(AT_BOTTOM, timeout=LIVE)
    expect(count).to_have_count(0, timeout=LIVE + 3_000)  # read at the live end, as the list shows live


def test_a_link_near_the_newest_leaves_the_room_unread_until_the_reader_scrolls_to_the_bottom(
    new_page: PageOpener, member: BrowserContext, ada: Api, bo: Api
) -> None:
    """The window around the message reaches the newest one, but the reader is at the marked
    message, well above the bottom on a short screen: nothing below it is read yet."""
    name = unique("Near")
    slug = ada.room(name)
    first = new_page(f"/rooms/{slug}", context=member)
    send(first, "I am here")  # a member now, who has read everything
    expect(first.get_by_test_id("message-text").last).to_have_text("I am here", timeout=LIVE)
    first.close()
    ada.wait_until_nobody_has_open(slug)  # else the closing page may read the first few as they arrive
    ids = seed(ada, bo, slug, 40)
    rooms = new_page("/", context=member)
    count = rooms.get_by_test_id("room-item").filter(has_text=name).get_by_test_id("unread-count")
    expect(count).to_have_text(re.compile(r"^\d+$"))
    unread = int(count.inner_text())
    reader = member.new_page()
    reader.set_default_timeout(10_000)
    reader.set_viewport_size({"width": 1280, "height": 500})  # a short screen: the bottom is well below
    reader.goto(f"/rooms/{slug}?message={ids[-20]}")
    expect_in_view_and_marked(reader, ids[-20])
    expect(row(reader, ids[-1])).to_have_count(1)  # the window reaches the newest message…
    assert not in_list_view(reader, ids[-1])  # …which is out of view below
    reader.wait_for_timeout(3_000)  # a page at the bottom marks read within a few seconds
    expect(count).to_have_text(str(unread))
    reader.get_by_test_id("message-list").evaluate(SCROLL_TO_BOTTOM)
    reader.wait_for_function(AT_BOTTOM, timeout=LIVE)
    expect(count).to_have_count(0, timeout=LIVE + 3_000)  # read once the reader is at the bottom


# What it looks like


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_a_marked_message_reads_well_and_is_photographed(
    browser: Browser, chat: AppProcess, history: Room, scheme: str, width: int, height: int
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=chat.url,
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"/rooms/{history.slug}?message={history.ids[200]}")
        expect_in_view_and_marked(page, history.ids[200])
        page.wait_for_timeout(3_000)  # after the arrival's flash: the mark as it stays
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"context-{width}x{height}-{scheme}.png"))
        # Its text, name, time and the list around it keep their contrast on the mark's tint.
        violations = audit(page, {"include": [["[data-testid=message-list]"]]})
        assert violations == [], explain(violations, f"a marked message ({scheme}, {width}x{height})")
    finally:
        context.close()

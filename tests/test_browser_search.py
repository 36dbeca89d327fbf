"""The header's search in real Chromium (CONTRACT §7 "Pages"): Enter and a pause in typing list
`search-result`s newest first with the words marked, "More results" pages on, a private room's
messages are found by its members only, a result opens its room at the message, the keyboard moves
through the results and Escape closes them, a room page narrows the search to itself, and a phone
finds the box in the header or in the room bar's menu. Content is posted through the REST API.
Screenshots of the open panel go to test-artifacts/search-*.png, laptop and phone, light and dark.
"""

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from chat_ui.search_box import SEARCH_DOWN
from tests.pages import Api, api_as
from tests.support import ROOT, AppProcess, create_postgres_database, drop_postgres_database, module_app, unique
from tests.test_accessibility import audit, explain
from tests.test_cluster import allow_connections

ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PAUSE_CHECK = 1.0  # s: well past the box's pause (300 ms) and a search's round trip on this machine


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "search-app") as app:
        yield app


@pytest.fixture
def ada(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url, "Ada Lovelace") as api:
        yield api


@pytest.fixture
def context(browser: Browser, chat: AppProcess) -> Iterator[BrowserContext]:
    """A browser of its own (a visitor), at the size of a laptop."""
    context = browser.new_context(base_url=chat.url, **DESKTOP)  # type: ignore[arg-type]
    yield context
    context.close()


def word() -> str:
    """A word no other test posts: letters and digits only, as the search cuts words."""
    return unique("zq").replace("-", "")


def page_of(context: BrowserContext, path: str = "/") -> Page:
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(path)
    expect(page.get_by_test_id("search-input")).to_be_editable()
    return page


def search(page: Page, query: str) -> Locator:
    """Type `query` into the header's box and press Enter: the results (a locator)."""
    box = page.get_by_test_id("search-input")
    box.fill(query)
    box.press("Enter")
    return page.get_by_test_id("search-result")


def ids_of(results: Locator) -> list[int]:
    return [int(i) for i in results.evaluate_all("els => els.map(e => e.dataset.messageId)")]


def marks_of(result: Locator) -> list[str]:
    return result.get_by_test_id("search-result-text").locator("mark").all_inner_texts()


def in_room_page(context: BrowserContext, slug: str) -> Page:
    """A room's page, once it has put the keyboard in its composer (as it does when it opens)."""
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"/rooms/{slug}")
    expect(page.get_by_test_id("message-input")).to_be_focused()
    return page


def private_room(api: Api, name: str) -> str:
    response = api.client.post("/api/v1/rooms", json={"name": name, "is_private": True}, headers=api.auth)
    assert response.status_code == 201, response.text
    assert response.json()["is_private"] is True
    return str(response.json()["slug"])


# Listing and marking


def test_enter_lists_matches_newest_first_with_the_words_marked_and_the_text_escaped(
    context: BrowserContext, ada: Api
) -> None:
    token = word()
    slug = ada.room(name := unique("Engines"))
    bold = ada.say(slug, f"The **{token}** engine weaves algebraic patterns")
    markup = ada.say(slug, f"<b>{token}</b> & friends: engineers at work")
    ada.say(slug, "an engine without the word")
    upper = ada.say(slug, f"{token.upper()} ENGINES, loudly")
    page = page_of(context)
    results = search(page, f"{token} eng")
    expect(results).to_have_count(3)
    assert ids_of(results) == [upper, markup, bold], "newest first, only messages with every word"
    expect(results.get_by_test_id("search-result-author")).to_have_text(["Ada Lovelace"] * 3)
    expect(results.get_by_test_id("search-result-room")).to_have_text([name] * 3)
    # Every word marked, ignoring case; the last one as the start of a longer word.
    assert marks_of(results.nth(0)) == [token.upper(), "ENG"]
    assert marks_of(results.nth(1)) == [token, "eng"]
    assert marks_of(results.nth(2)) == [token, "eng"]
    # The text as text: Markdown read as words, markup shown literally and never made into elements.
    expect(results.nth(2).get_by_test_id("search-result-text")).to_have_text(
        f"The {token} engine weaves algebraic patterns"
    )
    expect(results.nth(1).get_by_test_id("search-result-text")).to_have_text(
        f"<b>{token}</b> & friends: engineers at work"
    )
    expect(results.nth(1).locator("b")).to_have_count(0)
    mark = results.nth(0).locator("mark").first
    assert mark.evaluate("el => getComputedStyle(el).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")


def test_typing_searches_after_a_pause_and_the_results_follow_the_words(context: BrowserContext, ada: Api) -> None:
    token = word()
    slug = ada.room()
    ids = {name: ada.say(slug, f"{token} {name}") for name in ("alpha", "beta", "gamma")}
    page = page_of(context)
    box = page.get_by_test_id("search-input")
    box.press_sequentially("z")  # one character: no search
    page.wait_for_timeout(PAUSE_CHECK * 1000)
    expect(page.get_by_test_id("search-panel")).to_have_count(0)
    box.fill("")
    box.press_sequentially(token, delay=20)  # no Enter: the pause searches
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(3)
    assert ids_of(results) == [ids["gamma"], ids["beta"], ids["alpha"]]
    box.press_sequentially(" be", delay=20)
    expect(results).to_have_count(1)
    assert ids_of(results) == [ids["beta"]]
    assert marks_of(results.first) == [token, "be"]
    # Escape right after a keystroke: neither the pause nor an answer on its way opens it again.
    box.press("t")
    box.press("Escape")
    page.wait_for_timeout(PAUSE_CHECK * 1000)
    expect(page.get_by_test_id("search-panel")).to_be_hidden()
    box.press("Enter")
    expect(results).to_have_count(1)
    # Cleared: the panel goes.
    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_test_id("search-panel")).to_be_hidden()


def test_more_results_loads_older_pages_without_repeating_any(context: BrowserContext, ada: Api) -> None:
    token = word()
    slug = ada.room()
    sent = [ada.say(slug, f"{token} number {n}") for n in range(25)]
    page = page_of(context)
    results = search(page, token)
    expect(results).to_have_count(20)
    more = page.get_by_test_id("search-more")
    expect(more).to_be_visible()
    more.click()
    expect(results).to_have_count(25)
    assert ids_of(results) == sorted(sent, reverse=True), "every match once, newest first"
    expect(more).to_be_hidden()


def test_more_results_pages_on_the_results_shown_not_what_the_box_says_now(context: BrowserContext, ada: Api) -> None:
    token = word()
    slug = ada.room()
    sent = [ada.say(slug, f"{token} number {n}") for n in range(25)]
    page = page_of(context)
    results = search(page, token)
    expect(results).to_have_count(20)
    page.get_by_test_id("search-input").fill("y")  # too short to search by itself: the results stay
    page.wait_for_timeout(PAUSE_CHECK * 1000)
    expect(results).to_have_count(20)
    page.get_by_test_id("search-more").click()
    expect(results).to_have_count(25)
    assert ids_of(results) == sorted(sent, reverse=True), "the next page of the results shown, not of 'y'"


def test_a_database_outage_during_a_search_gets_a_notice(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """An app of its own on PostgreSQL, whose database stops taking connections for a while."""
    database_url = create_postgres_database()
    try:
        with module_app(tmp_path_factory, "search-outage", CHAT_DATABASE_URL=database_url) as app:
            context = browser.new_context(base_url=app.url, **DESKTOP)  # type: ignore[arg-type]
            try:
                page = page_of(context)
                expect(page.get_by_test_id("room-list")).to_be_attached()
                allow_connections(database_url, False)
                try:
                    search(page, "anything")
                    expect(page.get_by_text(SEARCH_DOWN)).to_be_visible(timeout=15_000)
                    expect(page.get_by_test_id("search-input")).to_be_editable()
                finally:
                    allow_connections(database_url, True)
            finally:
                context.close()
    finally:
        drop_postgres_database(database_url)


def test_no_match_says_so_and_a_refused_query_gets_a_notice(context: BrowserContext) -> None:
    page = page_of(context)
    nothing = word()
    search(page, nothing)
    expect(page.get_by_test_id("search-empty")).to_have_text(f"No messages match “{nothing}”")
    expect(page.get_by_test_id("search-result")).to_have_count(0)
    search(page, "?!")  # no letters or digits: nothing the search could look for
    expect(page.locator(".q-notification").filter(has_text=re.compile("must contain a word"))).to_be_visible()


def test_a_private_rooms_messages_are_found_by_its_members_only(
    context: BrowserContext, ada: Api, chat: AppProcess
) -> None:
    token = word()
    slug = private_room(ada, name := unique("Hideout"))
    secret = ada.say(slug, f"{token} the plans are in the drawer")
    public = ada.room()
    shared = ada.say(public, f"{token} said in public")
    page = page_of(context)
    results = search(page, token)
    expect(results).to_have_count(1)
    assert ids_of(results) == [shared], "a stranger finds the public message only"
    invite = ada.client.post(f"/api/v1/rooms/{slug}/invites", headers=ada.auth)
    assert invite.status_code == 201, invite.text
    page.goto(httpx.URL(invite.json()["url"]).raw_path.decode())
    expect(page.get_by_test_id("room-title")).to_have_text(name)  # joined: a member now
    results = search(page, token)
    expect(results).to_have_count(2)
    assert ids_of(results) == [shared, secret]
    room = results.nth(1).get_by_test_id("search-result-room")
    expect(room).to_have_text(re.compile(rf"{re.escape(name)}$"))
    expect(room.locator(".q-icon")).to_have_text("lock")


# Opening a result, and the keyboard


def test_a_click_opens_the_room_at_that_message(context: BrowserContext, ada: Api) -> None:
    token = word()
    slug = ada.room()
    target = ada.say(slug, f"{token} said long ago")
    for n in range(80):  # more than a page: the message is not among the newest shown on opening
        ada.say(slug, f"later chatter {n}")
    page = page_of(context)
    results = search(page, token)
    expect(results).to_have_count(1)
    results.first.click()
    expect(page).to_have_url(re.compile(rf"/rooms/{slug}\?message={target}$"))
    row = page.locator(f'[data-testid=message][data-message-id="{target}"]')
    expect(row).to_be_in_viewport()
    expect(row.get_by_test_id("message-text")).to_have_text(f"{token} said long ago")


def test_the_keyboard_moves_through_the_results_and_escape_closes_them(context: BrowserContext, ada: Api) -> None:
    token = word()
    slug = ada.room()
    first, second, third = (ada.say(slug, f"{token} {n}") for n in ("one", "two", "three"))
    page = page_of(context)
    results = search(page, token)
    expect(results).to_have_count(3)
    box = page.get_by_test_id("search-input")
    expect(box).to_have_attribute("aria-expanded", "true")
    selected = page.locator("[data-testid=search-result][aria-selected=true]")
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(selected).to_have_attribute("data-message-id", str(second))
    expect(box).to_have_attribute("aria-activedescendant", selected.get_attribute("id") or "?")
    box.press("ArrowUp")
    expect(selected).to_have_attribute("data-message-id", str(third))
    expect(box).to_be_focused()  # the keyboard stays in the box: typing goes on
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("search-panel")).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("ArrowDown")  # the same results again
    expect(results).to_have_count(3)
    page.mouse.click(640, 700)  # outside
    expect(page.get_by_test_id("search-panel")).to_be_hidden()
    box.press("Enter")
    expect(results).to_have_count(3)
    box.press("ArrowUp")  # from none highlighted, Up is the last: the oldest
    expect(selected).to_have_attribute("data-message-id", str(first))
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/rooms/{slug}\?message={first}$"))


def test_a_room_page_narrows_the_search_to_its_room(context: BrowserContext, ada: Api) -> None:
    token = word()
    here, elsewhere = ada.room(), ada.room()
    mine = ada.say(here, f"{token} in this room")
    other = ada.say(elsewhere, f"{token} in another room")
    page = in_room_page(context, here)
    results = search(page, token)
    expect(results).to_have_count(2)
    assert ids_of(results) == [other, mine]
    page.get_by_test_id("search-scope").get_by_role("button", name="This room").click()
    expect(results).to_have_count(1)
    assert ids_of(results) == [mine]
    page.get_by_test_id("search-scope").get_by_role("button", name="All rooms").click()
    expect(results).to_have_count(2)
    # Not offered where there is no room: the list of rooms.
    listing = page_of(context)
    search(listing, token)
    expect(listing.get_by_test_id("search-result")).to_have_count(2)
    expect(listing.get_by_test_id("search-scope")).to_have_count(0)


# The page's cost, and a phone


def test_the_panel_is_made_when_first_used_not_for_every_page_view(chat: AppProcess) -> None:
    """The page as sent holds the box, and none of the panel (its elements would stay in memory
    for as long as the page is open)."""
    html = httpx.get(f"{chat.url}/", timeout=10).text
    assert '"data-testid":"search-input"' in html
    assert '"data-testid":"search-panel"' not in html and "More results" not in html


def test_a_phone_searches_from_the_header_and_from_the_room_bars_menu(
    browser: Browser, chat: AppProcess, ada: Api
) -> None:
    token = word()
    slug = ada.room()
    sent = ada.say(slug, f"{token} from a phone")
    context = browser.new_context(base_url=chat.url, **PHONE)  # type: ignore[arg-type]
    try:
        page = page_of(context)
        box = page.get_by_test_id("search-input")
        expect(box).to_be_visible()
        results = search(page, token)
        expect(results).to_have_count(1)
        _fits_the_screen(page.get_by_test_id("search-panel"), 390)
        _fits_the_screen(box, 390)
        # A room's page hides the header: its bar's menu opens the box, over the bar.
        page = in_room_page(context, slug)
        expect(box := page.get_by_test_id("search-input")).to_be_hidden()
        page.get_by_test_id("room-menu-button").click()
        page.get_by_test_id("room-menu-search").click()
        expect(box).to_be_visible()
        expect(box).to_be_focused()
        page.keyboard.type(token)
        page.keyboard.press("Enter")
        expect(results := page.get_by_test_id("search-result")).to_have_count(1)
        assert ids_of(results) == [sent]
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("search-panel")).to_be_hidden()
        page.get_by_test_id("message-input").click()  # the box gives the bar back
        expect(box).to_be_hidden()
        expect(page.get_by_test_id("room-title")).to_be_visible()
    finally:
        context.close()


def _fits_the_screen(locator: Locator, width: int) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"within the {width} px screen: {box}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_the_open_panel_reads_well_and_passes_an_accessibility_audit(
    browser: Browser, chat: AppProcess, ada: Api, device: str, scheme: str
) -> None:
    """Screenshots for a person to look at, and axe-core's audit of the page with the panel open."""
    token = word()
    here = ada.room(unique("Analytical Engines"))
    hidden = private_room(ada, unique("Hideout"))
    ada.say(hidden, f"{token} notes, kept among members")
    for text in (
        f"The **{token}** engine might act upon other things besides number",
        f"Weaving algebraical patterns with the {token} loom, as the Jacquard loom weaves flowers and leaves,"
        " which is a longer message that the panel cuts to an excerpt around its first match",
        f"`{token}` <b>not bold</b>",
    ):
        ada.say(here, text)
    options = PHONE if device == "phone" else DESKTOP
    context = browser.new_context(base_url=chat.url, color_scheme=scheme, **options)  # type: ignore[arg-type]
    try:
        page = page_of(context)
        invite = ada.client.post(f"/api/v1/rooms/{hidden}/invites", headers=ada.auth).json()["url"]
        page.goto(httpx.URL(invite).raw_path.decode())
        expect(page.get_by_test_id("message-input")).to_be_focused()
        page.goto("/")
        results = search(page, token)
        expect(results).to_have_count(4)
        page.wait_for_timeout(400)  # the menu's fade-in
        size = options["viewport"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"search-{size['width']}x{size['height']}-{scheme}.png"))  # type: ignore[index]
        violations = audit(page)
        assert not violations, explain(violations, f"the search panel, {device}, {scheme}")
        page.get_by_test_id("search-input").press("ArrowDown")  # a highlighted result: tinted, its marks too
        expect(results.first).to_have_attribute("aria-selected", "true")
        violations = audit(page)
        assert not violations, explain(violations, f"the search panel with a result highlighted, {device}, {scheme}")
    finally:
        context.close()

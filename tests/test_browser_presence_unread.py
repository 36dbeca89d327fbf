"""Presence, the visitor's rooms and unread counts, as a person sees them (CONTRACT §6): real
Chromium against the app started as a real process on PostgreSQL and Redis.

Screenshots of the room page (sidebar, presence panel) and of `/` with unread badges, at desktop
and phone sizes, light and dark, go to test-artifacts/.
"""

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.pages import AT_BOTTOM, LIVE, Api, PageOpener, open_room, send
from tests.support import ROOT, AppProcess, create_postgres_database, drop_postgres_database, running_app, unique

ARTIFACTS = ROOT / "test-artifacts"
PRESENCE_GONE = 10_000  # ms: CONTRACT §6, a closed page leaves the list within 10 s
READ_MARKED = 8_000  # ms: "within a few seconds" (read marks are written every ~2 s)


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[AppProcess]:
    data_dir = tmp_path_factory.mktemp("presence-app")
    database_url = create_postgres_database()
    try:
        with running_app(
            data_dir / "logs",
            CHAT_DATA_DIR=str(data_dir),
            CHAT_DATABASE_URL=database_url,
            CHAT_REDIS_URL=redis_url,
            CHAT_REDIS_PREFIX=unique("presence"),
        ) as app:
            yield app
    finally:
        drop_postgres_database(database_url)


@pytest.fixture
def api(chat: AppProcess) -> Iterator[Api]:
    api = Api(chat.url, name="Bo")
    yield api
    api.close()


def rename(page: Page, name: str) -> None:
    page.get_by_test_id("profile-button").click()
    page.get_by_test_id("display-name-input").fill(name)
    page.get_by_test_id("display-name-save").click()
    expect(page.get_by_test_id("current-user-name")).to_have_text(name)


def member_of(page: Page, slugs: list[str], *, name: str) -> Page:
    """The page's visitor, named `name`, joins each room by posting in it; the page ends in the last one."""
    rename(page, name)
    for slug in slugs:
        page.goto(f"/rooms/{slug}")
        expect(page.get_by_test_id("message-input")).to_be_editable()
        send(page, f"{name} is here")
        expect(page.get_by_test_id("message-text").last).to_contain_text(f"{name} is here", timeout=LIVE)
    return page


def sidebar_room(page: Page, room_name: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("sidebar-room").filter(has_text=room_name)


def room_item(page: Page, room_name: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("room-item").filter(has_text=room_name)


def presence_names(chat: AppProcess, slug: str) -> set[str]:
    response = httpx.get(f"{chat.url}/api/v1/rooms/{slug}/presence", timeout=5)
    assert response.status_code == 200, response.text
    return {guest["display_name"] for guest in response.json()["online"]}


def name() -> str:
    return f"Ada{uuid.uuid4().hex[:6]}"


# Presence


def test_presence_shows_who_has_the_room_open_and_forgets_a_closed_page(
    new_page: PageOpener, api: Api, chat: AppProcess
) -> None:
    slug = api.room()
    ada, cy = name(), name()
    first = new_page("/")
    rename(first, ada)
    first.goto(f"/rooms/{slug}")
    second = new_page("/")
    rename(second, cy)
    second.goto(f"/rooms/{slug}")
    count = second.get_by_test_id("presence-count")
    expect(count).to_have_text("2 online", timeout=LIVE)
    count.click()
    listed = second.get_by_test_id("presence-list")
    expect(listed).to_be_visible()
    expect(listed.get_by_test_id("presence-item").filter(has_text=ada)).to_be_visible(timeout=LIVE)
    expect(listed.get_by_test_id("presence-item").filter(has_text=cy)).to_contain_text("you")
    assert presence_names(chat, slug) == {ada, cy}
    expect(first.get_by_test_id("presence-count")).to_have_text("2 online")

    first.close()
    expect(listed.get_by_test_id("presence-item").filter(has_text=ada)).to_have_count(0, timeout=PRESENCE_GONE)
    expect(listed.get_by_test_id("presence-item")).to_have_count(1)
    expect(count).to_have_text("1 online")
    assert presence_names(chat, slug) == {cy}
    second.keyboard.press("Escape")  # the panel closes as popovers do
    expect(listed).to_be_hidden()


# Unread


def test_unread_counts_rise_live_on_the_list_in_the_sidebar_and_in_the_title(new_page: PageOpener, api: Api) -> None:
    lobby, kitchen = unique("Lobby"), unique("Kitchen")
    lobby_slug, kitchen_slug = api.room(lobby), api.room(kitchen)
    room_page = member_of(new_page(), [lobby_slug, kitchen_slug], name=name())
    list_page = room_page.context.new_page()  # another tab of the same visitor
    list_page.goto("/")
    expect(room_item(list_page, lobby)).to_be_visible()
    expect(room_item(list_page, lobby).get_by_test_id("unread-count")).to_have_count(0)
    expect(sidebar_room(room_page, lobby).get_by_test_id("unread-count")).to_have_count(0)

    api.say(lobby_slug, "one")
    api.say(lobby_slug, "two")
    expect(room_item(list_page, lobby).get_by_test_id("unread-count")).to_have_text("2", timeout=LIVE)
    expect(sidebar_room(room_page, lobby).get_by_test_id("unread-count")).to_have_text("2", timeout=LIVE)
    expect(list_page).to_have_title(re.compile(r"^\(2\) "))
    expect(room_page).to_have_title(re.compile(rf"^\(2\) {re.escape(kitchen)}"))
    # The room the visitor is reading at the bottom does not count what arrives in it.
    api.say(kitchen_slug, "seen as it arrives")
    expect(room_page.get_by_test_id("message-text").last).to_have_text("seen as it arrives", timeout=LIVE)
    expect(room_item(list_page, kitchen).get_by_test_id("unread-count")).to_have_count(0, timeout=READ_MARKED)
    expect(sidebar_room(room_page, kitchen).get_by_test_id("unread-count")).to_have_count(0)
    expect(list_page).to_have_title(re.compile(r"^\(2\) "))
    expect(room_item(list_page, kitchen).get_by_test_id("unread-count")).to_have_count(0)


def test_opening_a_room_shows_the_divider_and_reading_it_clears_every_tab(new_page: PageOpener, api: Api) -> None:
    lobby = unique("Lobby")
    slug = api.room(lobby)
    api.say(slug, "before")
    reader = member_of(new_page(), [slug], name=name())
    reader.goto("/")
    expect(room_item(reader, lobby)).to_be_visible()
    first_unread = api.say(slug, "first unread")
    api.say(slug, "second unread")
    expect(room_item(reader, lobby).get_by_test_id("unread-count")).to_have_text("2", timeout=LIVE)
    list_tab = reader.context.new_page()
    list_tab.goto("/")
    expect(room_item(list_tab, lobby).get_by_test_id("unread-count")).to_have_text("2")
    expect(list_tab).to_have_title(re.compile(r"^\(2\) "))

    room_item(reader, lobby).click()
    expect(reader.get_by_test_id("room-title")).to_have_text(lobby)
    divider = reader.get_by_test_id("unread-divider")
    expect(divider).to_have_count(1)
    following = reader.locator(
        "[data-testid=unread-divider] ~ [data-testid=message], [data-testid=unread-divider] ~ * [data-testid=message]"
    ).first
    expect(following).to_have_attribute("data-message-id", str(first_unread))
    reader.wait_for_function(AT_BOTTOM)
    # Read at the bottom: this tab and the other one drop the count and the title's prefix.
    expect(room_item(list_tab, lobby).get_by_test_id("unread-count")).to_have_count(0, timeout=READ_MARKED)
    expect(list_tab).not_to_have_title(re.compile(r"^\(\d+\) "))
    expect(reader).to_have_title(lobby)
    expect(sidebar_room(reader, lobby).get_by_test_id("unread-count")).to_have_count(0)


# The sidebar


@pytest.mark.parametrize(("width", "height", "shown"), [(1280, 800, True), (390, 844, False)])
def test_the_sidebar_lists_the_visitors_rooms_on_a_desktop_only(
    new_page: PageOpener, api: Api, width: int, height: int, shown: bool
) -> None:
    lobby, kitchen = unique("Lobby"), unique("Kitchen")
    lobby_slug, kitchen_slug = api.room(lobby), api.room(kitchen)
    page = member_of(new_page(width=width, height=height), [lobby_slug, kitchen_slug], name=name())
    sidebar = page.get_by_test_id("room-sidebar")
    if not shown:
        expect(sidebar).to_be_hidden()
        expect(page.get_by_test_id("message-input")).to_be_visible()
        return
    expect(sidebar).to_be_visible()
    expect(sidebar.get_by_test_id("sidebar-room")).to_have_count(2)
    expect(sidebar_room(page, kitchen)).to_have_attribute("aria-current", "page")
    sidebar_room(page, lobby).click()
    expect(page).to_have_url(re.compile(rf"/rooms/{lobby_slug}$"))
    expect(page.get_by_test_id("room-title")).to_have_text(lobby)
    expect(sidebar_room(page, lobby)).to_have_attribute("aria-current", "page")


# Mentions


def test_a_mention_in_another_room_shows_a_notice_that_opens_it(new_page: PageOpener, api: Api) -> None:
    lobby, kitchen = unique("Lobby"), unique("Kitchen")
    lobby_slug, kitchen_slug = api.room(lobby), api.room(kitchen)
    ada = name()
    page = member_of(new_page(), [kitchen_slug, lobby_slug], name=ada)
    api.say(kitchen_slug, "nobody in particular")
    api.say(kitchen_slug, f"@{ada} could you look at the oven?")
    notice = page.get_by_test_id("mention-notice")
    expect(notice).to_have_count(1, timeout=LIVE)
    expect(notice).to_contain_text(f"Bo mentioned you in #{kitchen}")
    expect(notice).to_contain_text("could you look at the oven?")
    api.say(lobby_slug, f"@{ada} in the room you are reading")  # shown in place, not as a notice
    expect(page.get_by_test_id("message-text").last).to_contain_text("in the room you are reading", timeout=LIVE)
    expect(notice).to_have_count(1)
    notice.get_by_role("button", name="Open room").click()
    expect(page).to_have_url(re.compile(rf"/rooms/{kitchen_slug}$"))
    expect(page.get_by_test_id("message-text").last).to_contain_text("could you look at the oven?")


# Screenshots


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_sidebar_presence_and_badges(
    browser: Browser, new_page: PageOpener, chat: AppProcess, api: Api, width: int, height: int, scheme: str
) -> None:
    lobby, garden, kitchen = unique("Lobby"), unique("Garden"), unique("Kitchen")
    slugs = [api.room(lobby), api.room(garden), api.room(kitchen)]
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=chat.url, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto("/")
        member_of(page, slugs, name=name())
        for text in ("Morning!", "Anyone around?", "Coffee is on"):
            api.say(slugs[0], text)
        api.say(slugs[1], "The tomatoes are ripe")
        expect(page).to_have_title(re.compile(r"^\(4\) "), timeout=LIVE)
        open_room(new_page, slugs[2], width=width, height=height)  # someone else has it open too
        expect(page.get_by_test_id("presence-count")).to_have_text("2 online", timeout=LIVE)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"sidebar-room-{width}x{height}-{scheme}.png"))
        page.get_by_test_id("presence-count").click()
        expect(page.get_by_test_id("presence-item")).to_have_count(2)
        page.screenshot(path=str(ARTIFACTS / f"presence-room-{width}x{height}-{scheme}.png"))
        page.goto("/")
        expect(room_item(page, lobby).get_by_test_id("unread-count")).to_have_text("3")
        page.screenshot(path=str(ARTIFACTS / f"unread-rooms-{width}x{height}-{scheme}.png"))
    finally:
        context.close()

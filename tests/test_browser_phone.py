"""The headers, the theme switch and the room list on a phone (issue #15), in real Chromium.

At 390×844 a room page has one compact bar above its messages (back, name, online count, a "⋮"
menu with the room's actions, the profile and the theme); the app's header is hidden there but
stays in the page. The theme button shows the mode and offers light, dark and system, remembered
per browser. The room list gives names the card's width on a phone. Screenshots of `/` and a room
at both sizes and in both themes go to test-artifacts/phone-*.png (390×844) and header-*.png
(1280×800).
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.pages import LIVE, Api, PageOpener, open_room
from tests.support import ROOT, AppProcess, module_app, unique

ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
DARK = re.compile(r"\bbody--dark\b")
LONG_NAME = "Design review for the quarterly roadmap"  # 39 characters


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "phone-app") as app:
        yield app


@pytest.fixture(scope="module")
def api(chat: AppProcess) -> Iterator[Api]:
    api = Api(chat.url, name="Ada Lovelace")
    yield api
    api.close()


@pytest.fixture(scope="module")
def busy_room(chat: AppProcess, api: Api) -> str:
    """A room with a long name, a description and a few messages from two guests."""
    response = api.client.post(
        "/api/v1/rooms",
        json={"name": unique(LONG_NAME), "description": "Where we argue about what ships next, and why it matters"},
        headers=api.auth,
    )
    assert response.status_code == 201, response.text
    slug = response.json()["slug"]
    bob = Api(chat.url, name="Bob")
    try:
        for n in range(4):
            api.say(slug, f"A first thought, number {n}")
            bob.say(slug, f"Bob answers {n}")
    finally:
        bob.close()
    return slug


def send(page: Page, text: str) -> None:
    page.get_by_test_id("message-input").fill(text)
    page.get_by_test_id("message-input").press("Enter")
    expect(page.get_by_test_id("message-text").filter(has_text=text)).to_be_visible(timeout=LIVE)


def box(page: Page, test_id: str) -> dict[str, float]:
    found = page.get_by_test_id(test_id).first.bounding_box()
    assert found is not None, f"{test_id} is not shown"
    return found


def open_menu(page: Page) -> None:
    page.get_by_test_id("room-menu-button").click()
    expect(page.get_by_test_id("leave-room-button")).to_be_visible()


# The phone's one bar


def test_a_room_on_a_phone_has_one_compact_bar_above_its_messages(new_page: PageOpener, busy_room: str) -> None:
    page = open_room(new_page, busy_room, **PHONE)
    expect(page.locator(".chat-app-header")).to_be_hidden()
    for kept in ("profile-button", "current-user-name"):  # hidden, not gone: tests and the menu use them
        expect(page.get_by_test_id(kept)).to_be_attached()
    title = page.get_by_test_id("room-title")
    expect(title).to_have_attribute("title", re.compile(f"^{LONG_NAME}"))
    bar = page.locator(".chat-room-bar").bounding_box()
    assert bar is not None and bar["y"] <= 1 and bar["height"] <= 56, bar
    for part in ("room-title", "presence-count", "room-menu-button"):  # all in the one bar
        shown = box(page, part)
        assert bar["y"] <= shown["y"] and shown["y"] + shown["height"] <= bar["y"] + bar["height"] + 1, part
        assert shown["x"] + shown["width"] <= PHONE["width"], part
    expect(page.get_by_test_id("presence-count")).to_have_text("1 online", timeout=LIVE)
    assert box(page, "message-list")["y"] <= bar["y"] + bar["height"] + 1  # the list starts right below it
    expect(page.get_by_test_id("leave-room-button")).to_be_hidden()  # in the menu until it opens
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_wide_window_keeps_both_bars_with_leave_in_view(new_page: PageOpener, busy_room: str) -> None:
    page = open_room(new_page, busy_room, **DESKTOP)
    expect(page.locator(".chat-app-header")).to_be_visible()
    expect(page.get_by_test_id("current-user-name")).to_be_visible()
    expect(page.get_by_test_id("leave-room-button")).to_be_visible()  # no menu to open first
    expect(page.get_by_test_id("room-menu-button")).to_be_hidden()
    expect(page.get_by_text("Where we argue about what ships next")).to_have_attribute(
        "title", "Where we argue about what ships next, and why it matters"
    )


def test_leave_from_the_phone_menu_leaves_the_room(new_page: PageOpener, api: Api, busy_room: str) -> None:
    page = open_room(new_page, busy_room, **PHONE)
    send(page, "joining by posting")  # a member now
    members = api.client.get(f"/api/v1/rooms/{busy_room}").json()["member_count"]
    open_menu(page)
    page.get_by_test_id("leave-room-button").click()
    expect(page).to_have_url(re.compile(r"/$"))
    assert api.client.get(f"/api/v1/rooms/{busy_room}").json()["member_count"] == members - 1


def test_the_menu_closes_on_escape_and_on_a_click_outside(new_page: PageOpener, busy_room: str) -> None:
    page = open_room(new_page, busy_room, **PHONE)
    open_menu(page)
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("leave-room-button")).to_be_hidden()
    open_menu(page)
    page.get_by_test_id("message-list").click(position={"x": 200, "y": 300})
    expect(page.get_by_test_id("leave-room-button")).to_be_hidden()


def test_the_owner_locks_the_room_from_the_phone_menu(new_page: PageOpener) -> None:
    page = new_page("/", **PHONE)
    page.get_by_test_id("create-room-button").click()
    page.get_by_test_id("room-name-input").fill(unique("Owned on a phone"))
    page.get_by_test_id("create-room-submit").click()
    expect(page.get_by_test_id("message-input")).to_be_editable()
    open_menu(page)
    page.get_by_test_id("lock-room-button").click()
    expect(page.get_by_test_id("room-locked")).to_be_visible(timeout=LIVE)
    expect(page.get_by_test_id("lock-room-button")).to_be_hidden()  # the item closed the menu
    open_menu(page)
    expect(page.get_by_test_id("lock-room-button")).to_have_text(re.compile("Unlock"))


def test_the_phone_menu_opens_the_profile(new_page: PageOpener, busy_room: str) -> None:
    page = open_room(new_page, busy_room, **PHONE)
    open_menu(page)
    page.get_by_test_id("room-menu-profile").click()
    page.get_by_test_id("display-name-input").fill("Grace Hopper")
    page.get_by_test_id("display-name-save").click()
    expect(page.get_by_test_id("display-name-input")).to_be_hidden()
    expect(page.get_by_test_id("current-user-name")).to_have_text("Grace Hopper")


# The theme


def theme_context(browser: Browser, chat: AppProcess, scheme: str, size: dict[str, int]) -> BrowserContext:
    return browser.new_context(viewport=size, base_url=chat.url, color_scheme=scheme)  # type: ignore[arg-type]


def choose(page: Page, mode: str) -> None:
    page.get_by_test_id("theme-button").click()
    item = page.get_by_test_id(f"theme-{mode}")
    expect(item).to_be_visible()
    item.click()
    expect(item).to_be_hidden()  # the menu closes
    expect(page.get_by_test_id("theme-button")).to_have_attribute("aria-label", f"Theme: {mode}")


def test_the_theme_button_shows_the_mode_and_offers_light_dark_and_system(browser: Browser, chat: AppProcess) -> None:
    context = theme_context(browser, chat, "dark", DESKTOP)  # the system prefers dark
    try:
        page = context.new_page()
        page.goto("/")
        button = page.get_by_test_id("theme-button")
        expect(button).to_have_attribute("aria-label", "Theme: system")
        expect(button).to_contain_text("brightness_auto")  # the icon says which mode is on
        expect(page.locator("body")).to_have_class(DARK)
        button.click()
        for mode, checked in (("light", "false"), ("dark", "false"), ("system", "true")):
            expect(page.get_by_test_id(f"theme-{mode}")).to_have_attribute("aria-checked", checked)
        page.keyboard.press("Escape")
        choose(page, "light")
        expect(page.locator("body")).not_to_have_class(DARK)
        expect(button).to_contain_text("light_mode")
        page.reload()  # remembered for this browser
        expect(page.locator("body")).not_to_have_class(DARK)
        expect(page.get_by_test_id("theme-button")).to_have_attribute("aria-label", "Theme: light")
        choose(page, "dark")
        expect(page.locator("body")).to_have_class(DARK)
        page.reload()
        expect(page.locator("body")).to_have_class(DARK)
        choose(page, "system")
        page.reload()
        expect(page.locator("body")).to_have_class(DARK)  # the system's dark again
        page.emulate_media(color_scheme="light")
        expect(page.locator("body")).not_to_have_class(DARK)  # and it follows the system
        page.get_by_test_id("theme-button").click()
        expect(page.get_by_test_id("theme-system")).to_have_attribute("aria-checked", "true")
    finally:
        context.close()


def test_the_phone_menu_switches_the_theme_too(browser: Browser, chat: AppProcess, busy_room: str) -> None:
    context = theme_context(browser, chat, "light", PHONE)
    try:
        page = context.new_page()
        page.goto(f"/rooms/{busy_room}")
        open_menu(page)
        expect(page.get_by_test_id("room-theme-system")).to_have_attribute("aria-pressed", "true")
        page.get_by_test_id("room-theme-dark").click()
        expect(page.locator("body")).to_have_class(DARK)
        expect(page.get_by_test_id("room-theme-dark")).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_test_id("room-theme-system")).to_have_attribute("aria-pressed", "false")
        page.reload()
        expect(page.locator("body")).to_have_class(DARK)
        page.set_viewport_size(DESKTOP)  # the app header's button says the same
        expect(page.get_by_test_id("theme-button")).to_have_attribute("aria-label", "Theme: dark")
    finally:
        context.close()


def test_dark_cards_and_menus_use_the_palette_not_quasars_grey(browser: Browser, chat: AppProcess) -> None:
    context = theme_context(browser, chat, "dark", DESKTOP)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.locator("body")).to_have_class(DARK)
        page.get_by_test_id("theme-button").click()
        menu = page.get_by_test_id("theme-menu")
        expect(menu).to_be_visible()
        raised = page.evaluate("getComputedStyle(document.body).getPropertyValue('--chat-raised').trim()")
        assert menu.evaluate("el => getComputedStyle(el).backgroundColor") == hex_to_rgb(raised)
        page.keyboard.press("Escape")
        page.get_by_test_id("create-room-button").click()
        card = page.locator(".q-dialog .q-card")
        expect(card).to_be_visible()
        assert card.evaluate("el => getComputedStyle(el).backgroundColor") == hex_to_rgb(raised)
    finally:
        context.close()


def hex_to_rgb(colour: str) -> str:
    red, green, blue = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({red}, {green}, {blue})"


# The room list on a phone


def test_the_room_list_gives_a_long_name_the_cards_width_on_a_phone(new_page: PageOpener, api: Api) -> None:
    name = unique(LONG_NAME)
    slug = api.room(name)
    page = open_room(new_page, slug, **PHONE)
    send(page, "I am a member now")  # so the list shows this visitor's unread count
    page.goto("/")
    api.say(slug, "something new")
    api.say(slug, "and more")
    card = page.get_by_test_id("room-item").filter(has_text=name)
    shown = card.get_by_test_id("room-name")
    expect(shown).to_have_attribute("title", name)
    expect(card.get_by_test_id("unread-count")).to_have_text("2", timeout=LIVE)
    width = shown.evaluate("el => ({client: el.clientWidth, scroll: el.scrollWidth})")
    visible_characters = len(name) * min(1.0, width["client"] / width["scroll"])
    assert visible_characters >= 20, (visible_characters, width)
    badge, name_box, meta = (
        card.get_by_test_id("unread-count").bounding_box(),
        shown.bounding_box(),
        card.get_by_text("members").bounding_box(),
    )
    assert badge and name_box and meta
    assert badge["x"] + badge["width"] <= PHONE["width"]  # the badge stays in view
    assert meta["y"] >= name_box["y"] + name_box["height"] - 1  # members and activity under the name


# Screenshots, and an accessibility audit of the open menus


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings in the headers, the open menus and the room list
    (tests/test_accessibility.py audits whole pages as they open)."""
    mine = {"include": [[".chat-app-header"], [".chat-room-bar"], [".q-menu"], ["[data-testid=room-list]"]]}
    results = Axe().run(page, context=mine, options={"resultTypes": ["violations"]})
    found = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]} for v in found]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshots_of_the_headers_and_the_room_list(
    browser: Browser, chat: AppProcess, api: Api, busy_room: str, scheme: str, size: dict[str, int]
) -> None:
    prefix = "phone" if size is PHONE else "header"
    ARTIFACTS.mkdir(exist_ok=True)
    context = theme_context(browser, chat, scheme, size)
    try:
        page = context.new_page()
        page.goto(f"/rooms/{busy_room}")
        expect(page.get_by_test_id("message").first).to_be_visible()
        send(page, f"Looks good in {scheme}")
        page.goto("/")
        api.say(busy_room, "one more thing")
        expect(page.get_by_test_id("unread-count").first).to_be_visible(timeout=LIVE)
        page.screenshot(path=str(ARTIFACTS / f"{prefix}-rooms-{scheme}.png"))
        page.goto(f"/rooms/{busy_room}")
        expect(page.get_by_test_id("presence-count")).to_contain_text("online", timeout=LIVE)
        page.screenshot(path=str(ARTIFACTS / f"{prefix}-room-{scheme}.png"))
        if size is PHONE:
            open_menu(page)
        else:
            page.get_by_test_id("theme-button").click()
            expect(page.get_by_test_id("theme-menu")).to_be_visible()
        page.wait_for_timeout(400)  # Quasar's menu fades in
        page.screenshot(path=str(ARTIFACTS / f"{prefix}-menu-{scheme}.png"))
        assert serious_violations(page) == []
    finally:
        context.close()

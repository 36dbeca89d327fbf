"""Message rows as a person sees them (#15): grouped under one header with an avatar drawn by CSS,
dense enough to show twice as many short messages as before, a toolbar on hover at desktop, and a
"⋯" menu on touch screens. Real Chromium against the app as a real process; set-up goes through the
REST API. Screenshots of a busy room go to test-artifacts/rows-*.png, light and dark, laptop and phone.
"""

import io
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from chat_ui.room.message_rows import initials
from tests.pages import LIVE, Api, PageOpener, api_as, open_room, send
from tests.support import ROOT, AppProcess, module_app, unique

ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
# Short one-line messages as people write them: an author says 3 to 5 things in a row, then another
# answers. At 1280x800, the app before grouping (commit 32f67e1, one header per message) showed 11 of
# them whole; #15 asks for at least twice as many.
BURSTS = (3, 5, 4, 4, 3, 5)
BEFORE_GROUPING = 11
FULLY_IN_VIEW = """list => { const box = list.getBoundingClientRect();
  return [...list.querySelectorAll('[data-testid=message]')].filter(row => {
    const r = row.getBoundingClientRect();
    return r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5; }).length; }"""


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "rows-app") as app:
        yield app


@pytest.fixture
def ada(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url, "Ada Lovelace") as api:
        yield api


@pytest.fixture
def bo(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url, "Bo") as api:
        yield api


def post(api: Api, slug: str, text: str, *, reply_to: int | None = None) -> int:
    return api.say(slug, text, reply_to=reply_to)


def join(api: Api, slug: str) -> None:
    response = api.client.post(f"/api/v1/rooms/{slug}/join", headers=api.auth)
    assert response.status_code == 200, response.text


def row(page: Page, message_id: int) -> Locator:
    return page.locator(f'[data-testid=message][data-message-id="{message_id}"]')


def size(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None, "the element is rendered"
    return box["width"], box["height"]


def opacity(locator: Locator) -> float:
    return float(locator.evaluate("el => getComputedStyle(el).opacity"))


# Grouping and avatars


def test_quick_messages_share_one_header_with_an_avatar_drawn_without_images(
    new_page: PageOpener, ada: Api, bo: Api
) -> None:
    slug = ada.room()
    join(bo, slug)
    first, second, third = (post(ada, slug, text) for text in ("one", "two", "three"))
    reply = post(ada, slug, "four, answering two", reply_to=second)
    other = post(bo, slug, "five, from Bo")
    page = new_page("/")
    images: list[str] = []
    page.on("request", lambda request: images.append(request.url) if request.resource_type == "image" else None)
    page.goto(f"/rooms/{slug}")
    expect(row(page, other)).to_be_visible()
    visible_authors = page.get_by_test_id("message-author").locator("visible=true")
    expect(visible_authors).to_have_text(["Ada Lovelace", "Ada Lovelace", "Bo"])
    for grouped in (second, third):
        expect(row(page, grouped).get_by_test_id("message-author")).to_be_hidden()
        expect(row(page, grouped).get_by_test_id("message-author")).to_have_text("Ada Lovelace")  # kept, hidden
        expect(row(page, grouped).locator(".chat-avatar")).to_have_count(0)
    for header, letters in ((first, "AL"), (reply, "AL"), (other, "B")):
        avatar = row(page, header).locator(".chat-avatar")
        expect(avatar).to_have_text(letters)
        width, height = size(avatar)
        assert 32 <= width <= 40 and abs(width - height) < 1, "a round avatar of about 36 px"
        assert avatar.evaluate("el => getComputedStyle(el).borderRadius") in ("9999px", "50%")
    assert row(page, first).locator(".chat-avatar").evaluate("el => getComputedStyle(el).backgroundColor") != row(
        page, other
    ).locator(".chat-avatar").evaluate("el => getComputedStyle(el).backgroundColor")
    # A grouped row's time sits in the gutter, shown on hover.
    gutter = row(page, third).locator(".chat-gutter-time")
    assert opacity(gutter) == 0
    row(page, third).hover()
    expect(gutter).to_have_css("opacity", "1")
    assert images == [], f"avatars are CSS, not images: {images}"
    # A rename shows on the earlier rows: the name and the avatar's initials.
    renamed = ada.client.patch("/api/v1/guests/me", json={"display_name": "Zed Quinn"}, headers=ada.auth)
    assert renamed.status_code == 200, renamed.text
    expect(row(page, first).locator(".chat-avatar")).to_have_text("ZQ", timeout=LIVE)
    expect(row(page, first).get_by_test_id("message-author")).to_have_text("Zed Quinn")


def test_a_laptop_screen_shows_twice_as_many_short_messages_as_before_grouping(
    new_page: PageOpener, ada: Api, bo: Api, chat: AppProcess
) -> None:
    cy = Api(chat.url, name="Cy Young")
    try:
        slug = ada.room()
        authors = (ada, bo, cy)
        for api in authors[1:]:
            join(api, slug)
        number = 0
        for index in range(20):
            for _ in range(BURSTS[index % len(BURSTS)]):
                number += 1
                post(authors[index % 3], slug, f"short message number {number}")
    finally:
        cy.close()
    page = open_room(new_page, slug, width=1280, height=800)
    expect(page.get_by_test_id("message-text").last).to_have_text(f"short message number {number}")
    page.wait_for_timeout(300)  # fonts and layout settled
    shown = page.get_by_test_id("message-list").evaluate(FULLY_IN_VIEW)
    assert shown >= 2 * BEFORE_GROUPING, f"{shown} short messages fully in view at 1280x800"


def test_initials_are_one_or_two_capitals_from_the_first_and_last_words() -> None:
    assert [
        initials(name) for name in ("Ada Lovelace", "bo", "Guest 4821", "  Cy  de Young ", "🙂 Zoë", "🙂", "ßa")
    ] == ["AL", "B", "G4", "CY", "Z", "🙂", "ß"]


# Desktop: the toolbar on hover and on keyboard focus


def test_hovering_a_row_shows_its_toolbar_of_labelled_buttons(new_page: PageOpener, ada: Api) -> None:
    slug = ada.room()
    message = post(ada, slug, "hover over me")
    page = open_room(new_page, slug)
    name = page.get_by_test_id("current-user-name").inner_text()
    send(page, f"{name} writes")
    own = page.get_by_test_id("message").last
    expect(own.get_by_test_id("message-text")).to_have_text(f"{name} writes", timeout=LIVE)
    toolbar = row(page, message).locator(".chat-actions")
    assert opacity(toolbar) == 0
    expect(row(page, message).get_by_test_id("message-menu-button")).to_be_hidden()  # touch screens only
    row(page, message).hover()
    expect(toolbar).to_have_css("opacity", "1")
    for testid in ("reply-button", "react-button"):
        button = row(page, message).get_by_test_id(testid)
        expect(button).to_be_visible()
        width, height = size(button)
        assert width >= 28 and height >= 28, f"{testid} is {width}x{height}"
        assert button.get_attribute("title") and button.get_attribute("aria-label")
    assert row(page, message).get_by_test_id("edit-message-button").count() == 0  # not the reader's
    own.hover()
    for testid in ("reply-button", "react-button", "edit-message-button", "delete-message"):
        expect(own.get_by_test_id(testid)).to_be_visible()
        assert own.get_by_test_id(testid).get_attribute("aria-label")
    # Keyboard: focus within the row shows the toolbar without a pointer over it.
    page.mouse.move(5, 5)
    expect(row(page, message).locator(".chat-actions")).to_have_css("opacity", "0")
    row(page, message).get_by_test_id("reply-button").focus()
    expect(row(page, message).locator(".chat-actions")).to_have_css("opacity", "1")


# Touch: the "⋯" menu


@pytest.fixture
def phone(browser: Browser, chat: AppProcess) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=chat.url, **PHONE)  # type: ignore[arg-type]
    yield context
    context.close()


def own_room(page: Page) -> str:
    """The phone's guest creates a room (and owns it); returns its slug."""
    page.goto("/")
    page.get_by_test_id("create-room-button").click()
    page.get_by_test_id("room-name-input").fill(unique("Touch"))
    page.get_by_test_id("create-room-submit").click()
    expect(page.get_by_test_id("room-title")).to_be_visible()
    expect(page.get_by_test_id("message-input")).to_be_editable()
    return page.url.rsplit("/rooms/", 1)[1]


def open_menu(page: Page, message_id: int) -> Locator:
    row(page, message_id).get_by_test_id("message-menu-button").tap()
    menu = page.get_by_test_id("message-menu")
    expect(menu).to_be_visible()
    return menu


def menu_items(menu: Locator) -> list[str]:
    return [item.get_attribute("data-testid") or "" for item in menu.locator("[data-testid^=menu-]").all()]


def test_on_a_phone_each_row_has_a_labelled_menu_button_with_what_the_reader_may_do(
    phone: BrowserContext, ada: Api
) -> None:
    page = phone.new_page()
    page.set_default_timeout(10_000)
    slug = own_room(page)
    join(ada, slug)
    theirs = post(ada, slug, "a message from Ada")
    send(page, "a message of my own")
    expect(page.get_by_test_id("message-text").last).to_have_text("a message of my own", timeout=LIVE)
    mine = int(page.get_by_test_id("message").last.get_attribute("data-message-id") or 0)
    buttons = page.get_by_test_id("message-menu-button")
    expect(buttons).to_have_count(page.get_by_test_id("message").count())
    for button in buttons.all():
        expect(button).to_be_visible()
        width, height = size(button)
        assert width >= 40 and height >= 40, f"a touch target of {width}x{height}"
        assert button.get_attribute("aria-label") == "Message actions"
    expect(row(page, mine).get_by_test_id("reply-button")).to_be_hidden()  # no inline toolbar on touch
    # Another's message, the reader owning the room: no edit, but delete and remove its author.
    menu = open_menu(page, theirs)
    assert menu_items(menu) == ["menu-reply", "menu-react", "menu-delete", "menu-remove"]
    for item in menu.locator("[data-testid^=menu-]").all():
        assert size(item)[1] >= 44 and item.inner_text().strip()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    # The reader's own: edit and delete, not remove.
    menu = open_menu(page, mine)
    assert menu_items(menu) == ["menu-reply", "menu-react", "menu-edit", "menu-delete"]
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()


def test_the_phone_menu_acts_on_the_message_as_it_is_when_tapped(phone: BrowserContext, ada: Api) -> None:
    """The menu stays open while the room lives on: an edit meanwhile is what the reply quotes, and
    a message deleted meanwhile is only said to be gone."""
    page = phone.new_page()
    page.set_default_timeout(10_000)
    slug = own_room(page)
    join(ada, slug)
    edited = post(ada, slug, "first words")
    doomed = post(ada, slug, "about to go")
    expect(row(page, doomed)).to_be_visible(timeout=LIVE)

    open_menu(page, edited)
    changed = ada.client.patch(
        f"/api/v1/rooms/{slug}/messages/{edited}", json={"text": "second thoughts"}, headers=ada.auth
    )
    assert changed.status_code == 200, changed.text
    expect(row(page, edited).get_by_test_id("message-text")).to_have_text("second thoughts", timeout=LIVE)
    page.get_by_test_id("menu-reply").tap()
    expect(page.get_by_test_id("reply-preview")).to_contain_text("second thoughts")
    page.get_by_test_id("message-input").press("Escape")
    expect(page.get_by_test_id("reply-preview")).to_have_count(0)

    open_menu(page, doomed)
    assert ada.client.delete(f"/api/v1/rooms/{slug}/messages/{doomed}", headers=ada.auth).status_code == 204
    expect(row(page, doomed)).to_have_count(0, timeout=LIVE)
    page.get_by_test_id("menu-reply").tap()
    expect(page.locator(".q-notification").filter(has_text="That message was deleted")).to_be_visible()
    expect(page.get_by_test_id("reply-preview")).to_have_count(0)


def test_the_phone_menu_replies_reacts_edits_and_deletes(phone: BrowserContext, ada: Api) -> None:
    page = phone.new_page()
    page.set_default_timeout(10_000)
    slug = own_room(page)
    join(ada, slug)
    theirs = post(ada, slug, "reply to me")
    send(page, "edit me")
    expect(page.get_by_test_id("message-text").last).to_have_text("edit me", timeout=LIVE)
    mine = int(page.get_by_test_id("message").last.get_attribute("data-message-id") or 0)

    open_menu(page, theirs).get_by_test_id("menu-reply").tap()
    expect(page.get_by_test_id("message-menu")).to_be_hidden()
    expect(page.get_by_test_id("reply-preview")).to_contain_text("reply to me")
    send(page, "answered from the menu")
    answer = page.get_by_test_id("message").last
    expect(answer.get_by_test_id("message-reply-quote")).to_contain_text("reply to me", timeout=LIVE)

    open_menu(page, theirs).get_by_test_id("menu-react").tap()
    picker = page.get_by_test_id("reaction-picker")
    expect(picker).to_be_visible()
    picker.locator("[data-emoji]").first.tap()
    expect(row(page, theirs).get_by_test_id("reaction")).to_have_count(1, timeout=LIVE)
    # The menu's own row of quick reactions: a tap adds one, another tap takes it back.
    party = row(page, theirs).locator('[data-testid=reaction][data-emoji="🎉"]')
    open_menu(page, theirs).locator('[data-testid=quick-reaction][data-emoji="🎉"]').tap()
    expect(page.get_by_test_id("message-menu")).to_be_hidden()
    expect(party).to_have_text("1", timeout=LIVE)
    open_menu(page, theirs).locator('[data-testid=quick-reaction][data-emoji="🎉"]').tap()
    expect(party).to_have_count(0, timeout=LIVE)

    open_menu(page, mine).get_by_test_id("menu-edit").tap()
    editing = page.get_by_test_id("edit-input")
    expect(editing).to_have_value("edit me")
    editing.fill("edited from the menu")
    editing.press("Enter")
    expect(row(page, mine).get_by_test_id("message-text")).to_have_text("edited from the menu", timeout=LIVE)

    open_menu(page, mine).get_by_test_id("menu-delete").tap()
    page.get_by_test_id("confirm-delete").tap()
    expect(row(page, mine)).to_have_count(0, timeout=LIVE)
    expect(row(page, theirs)).to_have_count(1)


# How it looks


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 400), colour).save(out, format="PNG")
    return out.getvalue()


def busy_room(ada: Api, bo: Api, cy: Api, reader: str, slug: str) -> None:
    """A conversation with what rooms hold: bursts, a reply, reactions, a mention, code, an image."""
    post(ada, slug, "Morning all! Did the new build go out last night?")
    post(ada, slug, "I saw the deploy bot say something about migrations")
    question = post(bo, slug, "It did, around 11. Migrations ran fine on staging first")
    post(bo, slug, "`alembic upgrade head` took 40 s on prod, no locks")
    post(cy, slug, "Nice. The importer's **KeyError** is gone for me too")
    answer = post(ada, slug, "Great, so we can close the ticket?", reply_to=question)
    for api, emoji in ((bo, "👍"), (cy, "👍"), (ada, "🎉")):
        response = api.client.put(f"/api/v1/rooms/{slug}/messages/{answer}/reactions/{quote(emoji)}", headers=api.auth)
        assert response.status_code == 200, response.text
    post(bo, slug, "Yes, closing it now")
    post(bo, slug, "Here is the dashboard after the deploy:")
    upload = bo.client.post(
        f"/api/v1/rooms/{slug}/images",
        files={"file": ("chart.png", png("#6366f1"), "image/png")},
        data={"caption": "p99 latency, last 24 h"},
        headers=bo.auth,
    )
    assert upload.status_code == 201, upload.text
    post(cy, slug, f"@{reader} you asked about the release notes: https://example.com/notes")
    post(cy, slug, "```\n$ chat --check\nall good (3 warnings)\n```")
    post(ada, slug, "Thanks everyone 🙌")
    post(ada, slug, "Lunch at 12?")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_screenshots_of_a_busy_room(
    browser: Browser, chat: AppProcess, ada: Api, bo: Api, scheme: str, device: str
) -> None:
    options = PHONE if device == "phone" else {"viewport": {"width": 1280, "height": 800}}
    context = browser.new_context(base_url=chat.url, color_scheme=scheme, **options)  # type: ignore[arg-type]
    cy = Api(chat.url, name="Cy Young")
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        slug = ada.room(unique("Release"))
        for api in (bo, cy):
            join(api, slug)
        page.goto(f"/rooms/{slug}")
        reader = page.get_by_test_id("current-user-name").inner_text()
        send(page, "Hi, I just joined")
        expect(page.get_by_test_id("message-text").last).to_have_text("Hi, I just joined", timeout=LIVE)
        busy_room(ada, bo, cy, reader, slug)
        expect(page.get_by_test_id("message-text").last).to_have_text("Lunch at 12?", timeout=LIVE)
        page.wait_for_timeout(500)
        ARTIFACTS.mkdir(exist_ok=True)
        width = options["viewport"]["width"]  # type: ignore[index]
        if device == "laptop":
            page.get_by_test_id("message").nth(-4).hover()
            page.wait_for_timeout(200)
        page.screenshot(path=str(ARTIFACTS / f"rows-{width}-{scheme}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if device == "phone":
            open_menu(page, int(page.get_by_test_id("message").last.get_attribute("data-message-id") or 0))
            page.wait_for_timeout(400)  # the sheet's slide-in
            page.screenshot(path=str(ARTIFACTS / f"rows-{width}-{scheme}-menu.png"))
    finally:
        cy.close()
        context.close()

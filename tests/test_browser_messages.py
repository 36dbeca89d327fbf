"""Message rows as a person sees them (CONTRACT §6): real Chromium against the app as a real process.

Markdown made safe, "(edited)" and reactions arriving live, the reader's own reaction and
mentions marked, a reply's quote that leads to its original (loading it when it is far back),
a deleted original, grouping, day separators and the unread divider. Set-up goes through the
REST API like any other client; screenshots of a room holding all of it are written to
test-artifacts/ in light and dark, at desktop and phone sizes.
"""

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.pages import LIVE, Api, PageOpener, api_as, open_room, send
from tests.support import ROOT, AppProcess, module_app, unique

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "messages-app") as app:
        yield app


@pytest.fixture
def api(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url, "Ada") as api:
        yield api


@pytest.fixture
def other(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url, "Bo") as api:
        yield api


# The REST calls of §6, as a script makes them.


def post(api: Api, slug: str, text: str, *, reply_to: int | None = None) -> int:
    return api.say(slug, text, reply_to=reply_to)


def edit(api: Api, slug: str, message_id: int, text: str) -> None:
    response = api.client.patch(f"/api/v1/rooms/{slug}/messages/{message_id}", json={"text": text}, headers=api.auth)
    assert response.status_code == 200, response.text


def react(api: Api, slug: str, message_id: int, emoji: str) -> None:
    url = f"/api/v1/rooms/{slug}/messages/{message_id}/reactions/{quote(emoji)}"
    response = api.client.put(url, headers=api.auth)
    assert response.status_code == 200, response.text


def delete(api: Api, slug: str, message_id: int) -> None:
    response = api.client.delete(f"/api/v1/rooms/{slug}/messages/{message_id}", headers=api.auth)
    assert response.status_code == 204, response.text


def row(page: Page, message_id: int) -> Locator:
    return page.locator(f'[data-testid=message][data-message-id="{message_id}"]')


def joined(page: Page, slug: str) -> str:
    """The browser's guest joins the room by posting in it; returns their display name."""
    name = page.get_by_test_id("current-user-name").inner_text()
    send(page, f"{name} is here")
    expect(page.get_by_test_id("message-text").last).to_have_text(f"{name} is here", timeout=LIVE)
    return name


# Markdown


def test_markdown_is_rendered_and_markup_and_script_links_stay_text(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    message_id = post(
        api,
        slug,
        "**bold** _italic_ `<b>code</b>` <b>not bold</b> [click](javascript:alert(1)) "
        "[docs](https://example.com/docs) and https://example.org\n```\n<i>kept</i> **as is**\n```",
    )
    page = open_room(new_page, slug)
    text = row(page, message_id).get_by_test_id("message-text")
    expect(text.locator("strong")).to_have_text("bold")
    expect(text.locator("em")).to_have_text("italic")
    expect(text.locator("p > code")).to_have_text("<b>code</b>")
    expect(text.locator("pre code")).to_have_text("<i>kept</i> **as is**\n")
    assert text.locator("b, i, script, img").count() == 0  # markup is text
    expect(text).to_contain_text("<b>not bold</b>")
    expect(text).to_contain_text("[click](javascript:alert(1))")
    links = text.locator("a")
    expect(links).to_have_count(2)
    assert [link.get_attribute("href") for link in links.all()] == ["https://example.com/docs", "https://example.org"]
    for link in links.all():
        assert link.get_attribute("target") == "_blank"
        assert set((link.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer", "nofollow"}
    assert page.locator("a[href^='javascript' i]").count() == 0
    # A wide code block scrolls inside the message instead of widening the page (phone width).
    post(api, slug, "```\n" + "x" * 400 + "\n```")
    phone = open_room(new_page, slug, width=390, height=844)
    expect(phone.locator("pre").last).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


# Live changes


def test_an_edit_shows_live_in_another_browser_with_its_time(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    message_id = post(api, slug, "frist draft")
    first, second = open_room(new_page, slug), open_room(new_page, slug)
    expect(row(second, message_id).get_by_test_id("message-edited")).to_have_count(0)
    edit(api, slug, message_id, "first **draft**")
    for page in (first, second):
        message = row(page, message_id)
        expect(message.get_by_test_id("message-edited")).to_be_visible(timeout=LIVE)
        expect(message.get_by_test_id("message-text")).to_have_text("first draft")
        expect(message.locator("strong")).to_have_text("draft")
        assert (message.get_by_test_id("message-edited").get_attribute("title") or "").startswith("Edited ")


def test_a_rename_shows_on_earlier_messages_and_quotes_live(new_page: PageOpener, api: Api, other: Api) -> None:
    slug = api.room()
    first = post(api, slug, "written before the rename")
    reply = post(other, slug, "answering it", reply_to=first)
    page = open_room(new_page, slug)
    expect(row(page, first).get_by_test_id("message-author")).to_have_text("Ada")
    renamed = api.client.patch("/api/v1/guests/me", json={"display_name": "Ada Lovelace"}, headers=api.auth)
    assert renamed.status_code == 200, renamed.text
    expect(row(page, first).get_by_test_id("message-author")).to_have_text("Ada Lovelace", timeout=LIVE)
    expect(row(page, reply).get_by_test_id("message-reply-quote")).to_contain_text("Ada Lovelace", timeout=LIVE)


def test_reactions_count_live_and_the_readers_own_is_highlighted(new_page: PageOpener, api: Api, other: Api) -> None:
    slug = api.room()
    message_id = post(api, slug, "react to me")
    post(other, slug, "Bo was here")  # the tooltip names who reacted: members and authors are known
    page, watcher = open_room(new_page, slug), open_room(new_page, slug)
    react(api, slug, message_id, "👍")
    chip = row(watcher, message_id).locator('[data-testid=reaction][data-emoji="👍"]')
    expect(chip).to_have_text("1", timeout=LIVE)
    react(other, slug, message_id, "👍")
    react(other, slug, message_id, "🎉")
    expect(chip).to_have_text("2", timeout=LIVE)
    expect(row(watcher, message_id).get_by_test_id("reaction")).to_have_count(2)
    assert "Ada" in (chip.get_attribute("title") or "") and "Bo" in (chip.get_attribute("title") or "")
    # The reader clicks the chip: their reaction joins, highlighted for them only.
    mine = row(page, message_id).locator('[data-testid=reaction][data-emoji="👍"]')
    party = row(page, message_id).locator('[data-testid=reaction][data-emoji="🎉"]')
    before = mine.evaluate("el => getComputedStyle(el).borderColor")
    mine.click()
    page.mouse.move(0, 0)  # no hover colour in what is compared
    expect(mine).to_have_text("3", timeout=LIVE)
    expect(chip).to_have_text("3", timeout=LIVE)
    expect(mine).not_to_have_css("border-color", before)
    assert mine.evaluate("el => getComputedStyle(el).borderColor") != party.evaluate(
        "el => getComputedStyle(el).borderColor"
    )
    assert chip.evaluate("el => getComputedStyle(el).borderColor") == before  # the watcher did not react
    mine.click()  # and a second click takes it back
    page.mouse.move(0, 0)
    expect(chip).to_have_text("2", timeout=LIVE)
    expect(mine).to_have_css("border-color", before)


# Replies


def test_a_quote_leads_to_an_original_far_back_and_says_when_it_is_deleted(
    new_page: PageOpener, api: Api, other: Api
) -> None:
    slug = api.room()
    original = post(api, slug, "the original question\nwith a second line")
    for n in range(120):
        post(other, slug, f"filler {n}")
    reply = post(other, slug, "the answer", reply_to=original)
    page = open_room(new_page, slug)
    quote_box = row(page, reply).get_by_test_id("message-reply-quote")
    expect(quote_box).to_contain_text("Ada")
    expect(quote_box).to_contain_text("the original question")
    expect(quote_box).not_to_contain_text("second line")
    expect(row(page, original)).to_have_count(0)  # far back: not rendered
    quote_box.click()
    expect(row(page, original)).to_be_in_viewport(timeout=LIVE)
    expect(page.get_by_test_id("new-messages-button")).to_be_visible()  # away from the newest: a way back
    page.get_by_test_id("new-messages-button").click()
    expect(row(page, reply)).to_be_in_viewport(timeout=LIVE)
    # An original that is rendered: the click scrolls to it.
    near = post(api, slug, "a nearby original")
    post(other, slug, "short answer", reply_to=near)
    expect(page.get_by_test_id("message-reply-quote").last).to_contain_text("a nearby original", timeout=LIVE)
    # Deleted: every quote of it says so, live.
    delete(api, slug, original)
    expect(quote_box).to_contain_text("Original message deleted", timeout=LIVE)
    expect(quote_box).not_to_contain_text("the original question")


def test_an_edited_original_changes_its_quotes_live(new_page: PageOpener, api: Api, other: Api) -> None:
    slug = api.room()
    original = post(api, slug, "typo heer")
    reply = post(other, slug, "what?", reply_to=original)
    page = open_room(new_page, slug)
    edit(api, slug, original, "typo here")
    expect(row(page, reply).get_by_test_id("message-reply-quote")).to_contain_text("typo here", timeout=LIVE)


# Grouping, days, mentions, the unread divider


def test_consecutive_messages_of_one_author_share_one_header(new_page: PageOpener, api: Api, other: Api) -> None:
    slug = api.room()
    first, second = post(api, slug, "one"), post(api, slug, "two")
    third = post(other, slug, "three")
    page = open_room(new_page, slug)
    expect(row(page, first).get_by_test_id("message-author")).to_be_visible()
    expect(row(page, second).get_by_test_id("message-author")).to_be_hidden()
    expect(row(page, second).get_by_test_id("message-author")).to_have_count(1)  # kept, hidden
    expect(row(page, third).get_by_test_id("message-author")).to_be_visible()
    # Live: the next one of Bo's joins Bo's group; deleting Bo's first shows the header on the next.
    fourth = post(other, slug, "four")
    expect(row(page, fourth).get_by_test_id("message-author")).to_be_hidden(timeout=LIVE)
    delete(other, slug, third)
    expect(row(page, fourth).get_by_test_id("message-author")).to_be_visible(timeout=LIVE)


def test_day_separators_name_the_days(new_page: PageOpener, api: Api, chat: AppProcess) -> None:
    slug = api.room()
    old = post(api, slug, "from the day before yesterday")
    older_ids = [old, post(api, slug, "also old")]
    post(api, slug, "from today")
    # Back-date two messages in the app's own database (SQLite stores UTC without an offset).
    with sqlite3.connect(Path(chat.settings["CHAT_DATA_DIR"]) / "chat.db") as db:
        db.executemany(
            "UPDATE message SET created_at = datetime(created_at, '-2 days') WHERE id = ?", [(i,) for i in older_ids]
        )
    page = open_room(new_page, slug)
    separators = page.get_by_test_id("day-separator")
    expect(separators).to_have_count(2)
    assert separators.first.inner_text() not in ("Today", "Yesterday")
    assert "," in separators.first.inner_text()  # e.g. "Monday, November 30"
    expect(separators.last).to_have_text("Today")
    post(api, slug, "still today")
    expect(page.get_by_test_id("message-text").last).to_have_text("still today", timeout=LIVE)
    expect(separators).to_have_count(2)


def test_a_message_mentioning_the_reader_is_marked(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    name = joined(page, slug)
    mention = post(api, slug, f"hello @{name}, welcome")
    plain = post(api, slug, "hello everyone")
    expect(row(page, mention)).to_have_attribute("data-mentioned", "true", timeout=LIVE)
    expect(row(page, plain)).not_to_have_attribute("data-mentioned", "true")
    expect(row(page, mention).locator(".chat-mention")).to_have_text(f"@{name}")


def test_a_room_opens_with_a_divider_before_the_first_unread_message(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    post(api, slug, "read long ago")
    page = open_room(new_page, slug)
    joined(page, slug)
    page.goto("/")
    first_unread = post(api, slug, "new since you left")
    post(api, slug, "and another")
    page.goto(f"/rooms/{slug}")
    divider = page.get_by_test_id("unread-divider")
    expect(divider).to_have_count(1)
    following = page.locator("[data-testid=unread-divider] + [data-testid=message]")
    expect(following).to_have_attribute("data-message-id", str(first_unread))
    post(api, slug, "live, after opening")
    expect(page.get_by_test_id("message-text").last).to_have_text("live, after opening", timeout=LIVE)
    expect(divider).to_have_count(1)  # it stays where it was until the page opens again


# How it looks


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_screenshots_of_a_conversation(
    browser: Browser, chat: AppProcess, api: Api, other: Api, scheme: str, width: int, height: int
) -> None:
    slug = api.room(unique("Conversation"))
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=chat.url,
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    try:
        page = context.new_page()
        page.goto(f"/rooms/{slug}")
        name = joined(page, slug)
        page.goto("/")
        _a_conversation(api, other, slug, name)
        page.goto(f"/rooms/{slug}")
        expect(page.get_by_test_id("reaction").first).to_be_visible()
        page.locator('[data-testid=reaction][data-emoji="🎉"]').click()
        expect(page.locator('[data-testid=reaction][data-emoji="🎉"]')).to_have_text("2", timeout=LIVE)
        page.get_by_test_id("message").nth(-3).hover()
        page.wait_for_timeout(300)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"conversation-{width}x{height}-{scheme}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()


def _a_conversation(api: Api, other: Api, slug: str, reader: str) -> None:
    question = post(api, slug, "Has anyone tried the **new** build? Notes: https://example.com/notes")
    post(api, slug, "It should fix the `KeyError` in the importer.")
    answer = post(other, slug, "Yes! Works here:\n```\n$ chat --check\nall good (3 warnings)\n```", reply_to=question)
    react(api, slug, answer, "🎉")
    react(other, slug, answer, "👍")
    react(api, slug, answer, "👍")
    post(other, slug, "> It should fix the KeyError\nit did, _mostly_")
    fixed = post(api, slug, "Great, thanks @Bo")
    edit(api, slug, fixed, "Great, thanks a lot @Bo")
    post(other, slug, f"@{reader} you asked about this yesterday <b>literal</b> [x](javascript:alert(1))")

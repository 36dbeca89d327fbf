"""The composer and the row actions it answers, in real Chromium against the app as a real process
(CONTRACT §6): edit (button and Up), reply, reactions, typing, @ suggestions, the length limit.

Screenshots of edit mode, the reply preview, the picker and the suggestions at 1280×800 and 390×844
go to test-artifacts/.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from models.message import MESSAGE_TEXT_MAX
from tests.pages import LIVE, Api, PageOpener, api_as, message_texts, open_room, send
from tests.support import ROOT, AppProcess, module_app

ARTIFACTS = ROOT / "test-artifacts"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "composer-app") as app:
        yield app


@pytest.fixture
def api(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url) as api:
        yield api


def guest(chat: AppProcess, name: str, slug: str) -> dict[str, str]:
    """Another guest, a member of the room: their Authorization header."""
    token = httpx.post(f"{chat.url}/api/v1/guests", json={"display_name": name}, timeout=10).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"{chat.url}/api/v1/rooms/{slug}/join", headers=auth, timeout=10).status_code == 200
    return auth


def row(page: Page, text: str) -> Locator:
    return page.get_by_test_id("message").filter(has=page.get_by_test_id("message-text").filter(has_text=text))


def row_button(page: Page, text: str, testid: str) -> Locator:
    message = row(page, text)
    message.hover()  # the row's buttons show on hover
    return message.get_by_test_id(testid)


def notice(page: Page, text: str) -> Locator:
    return page.locator(".q-notification").filter(has_text=text)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"composer-{name}.png"))


# Edit


def test_the_edit_button_edits_in_place_of_the_composer_keeping_the_draft(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    send(page, "Frist draft")
    expect(row(page, "Frist draft")).to_be_visible(timeout=LIVE)
    field = page.get_by_test_id("message-input")
    field.fill("a draft I am still writing")

    row_button(page, "Frist draft", "edit-message-button").click()
    editing = page.get_by_test_id("edit-input")
    expect(editing).to_have_value("Frist draft")
    expect(editing).to_be_focused()
    expect(page.get_by_text("Editing message")).to_be_visible()
    expect(field).to_be_hidden()
    editing.fill("First draft")
    editing.press("Enter")

    expect(row(page, "First draft").get_by_test_id("message-edited")).to_be_visible(timeout=LIVE)
    expect(editing).to_have_count(0)
    expect(field).to_have_value("a draft I am still writing")  # the draft waited aside
    assert message_texts(page) == ["First draft"]

    # Escape cancels: nothing changes.
    row_button(page, "First draft", "edit-message-button").click()
    editing.fill("Something else entirely")
    editing.press("Escape")
    expect(editing).to_have_count(0)
    expect(field).to_be_visible()
    assert message_texts(page) == ["First draft"]


def test_shift_enter_adds_a_line_while_editing(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    send(page, "one line")
    row_button(page, "one line", "edit-message-button").click()
    editing = page.get_by_test_id("edit-input")
    editing.press("End")
    editing.press("Shift+Enter")
    editing.type("two lines")
    expect(editing).to_have_value("one line\ntwo lines")
    editing.press("Enter")
    expect(page.get_by_test_id("message-text").last).to_have_text(re.compile(r"one line\s+two lines"), timeout=LIVE)


def test_up_in_an_empty_input_edits_the_readers_last_message(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    for text in ("mine, older", "mine, newest"):
        send(page, text)
        expect(row(page, text)).to_be_visible(timeout=LIVE)
    api.say(slug, "someone else's, after mine")
    expect(row(page, "someone else's")).to_be_visible(timeout=LIVE)
    field = page.get_by_test_id("message-input")

    field.fill("not empty")
    field.press("ArrowUp")
    page.wait_for_timeout(500)
    expect(page.get_by_test_id("edit-input")).to_have_count(0)  # Up in a written line is the caret's

    field.fill("")
    field.press("ArrowUp")
    editing = page.get_by_test_id("edit-input")
    expect(editing).to_have_value("mine, newest")
    editing.fill("mine, newest and fixed")
    editing.press("Enter")
    expect(row(page, "mine, newest and fixed").get_by_test_id("message-edited")).to_be_visible(timeout=LIVE)
    assert message_texts(page) == ["mine, older", "mine, newest and fixed", "someone else's, after mine"]


def test_up_finds_the_last_message_after_a_reload(new_page: PageOpener, api: Api) -> None:
    """The page learns the reader's messages from the history it loads, not only from what it sent."""
    slug = api.room()
    page = open_room(new_page, slug)
    send(page, "sent before the reload")
    expect(row(page, "sent before the reload")).to_be_visible(timeout=LIVE)
    page.reload()
    field = page.get_by_test_id("message-input")
    expect(field).to_be_editable()
    field.press("ArrowUp")
    expect(page.get_by_test_id("edit-input")).to_have_value("sent before the reload")


# Reply


def test_a_reply_shows_its_preview_and_is_sent_with_the_quote(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    api.say(slug, "Who brings the cake?")
    page = open_room(new_page, slug)
    row_button(page, "Who brings the cake?", "reply-button").click()
    preview = page.get_by_test_id("reply-preview")
    expect(preview).to_contain_text("Api Bot")
    expect(preview).to_contain_text("Who brings the cake?")
    field = page.get_by_test_id("message-input")
    expect(field).to_be_focused()
    field.type("I do")
    field.press("Enter")

    reply = row(page, "I do")
    expect(reply.get_by_test_id("message-reply-quote")).to_contain_text("Who brings the cake?", timeout=LIVE)
    expect(preview).to_have_count(0)

    # A cancelled reply sends a plain message.
    row_button(page, "Who brings the cake?", "reply-button").click()
    expect(preview).to_be_visible()
    page.get_by_test_id("reply-cancel").click()
    expect(preview).to_have_count(0)
    send(page, "never mind")
    expect(row(page, "never mind")).to_be_visible(timeout=LIVE)
    expect(row(page, "never mind").get_by_test_id("message-reply-quote")).to_have_count(0)


def test_an_image_sent_while_replying_carries_the_quote(new_page: PageOpener, api: Api, tmp_path: Path) -> None:
    slug = api.room()
    api.say(slug, "Show me the sunset")
    page = open_room(new_page, slug)
    row_button(page, "Show me the sunset", "reply-button").click()
    photo = tmp_path / "sunset.png"
    Image.new("RGB", (300, 200), "orange").save(photo)
    page.locator("[data-testid=image-stage] input[type=file]").set_input_files(photo)
    expect(page.get_by_test_id("reply-preview")).to_be_visible()  # the image replies, like a text would
    page.get_by_test_id("upload-send").click()
    image = page.get_by_test_id("message").filter(has=page.get_by_test_id("message-image"))
    expect(image.get_by_test_id("message-reply-quote")).to_contain_text("Show me the sunset", timeout=LIVE + 3_000)
    expect(page.get_by_test_id("reply-preview")).to_have_count(0)


# Reactions


def test_the_picker_adds_a_reaction_and_its_chip_takes_it_back(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    api.say(slug, "Launch is at noon")
    page, other = open_room(new_page, slug), open_room(new_page, slug)

    row_button(page, "Launch is at noon", "react-button").click()
    picker = page.get_by_test_id("reaction-picker")
    expect(picker).to_be_visible()
    expect(picker.locator("[data-emoji]")).to_have_count(8)
    picker.locator('[data-emoji="🎉"]').click()
    expect(picker).to_be_hidden()
    for view in (page, other):
        chip = row(view, "Launch is at noon").locator('[data-testid=reaction][data-emoji="🎉"]')
        expect(chip).to_have_text(re.compile("1"), timeout=LIVE)

    row(page, "Launch is at noon").locator('[data-testid=reaction][data-emoji="🎉"]').click()
    for view in (page, other):
        expect(row(view, "Launch is at noon").get_by_test_id("reaction")).to_have_count(0, timeout=LIVE)


def test_any_emoji_can_be_typed_into_the_picker_and_text_is_refused(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    api.say(slug, "Unicorns?")
    page = open_room(new_page, slug)
    row_button(page, "Unicorns?", "react-button").click()
    typed = page.get_by_test_id("reaction-input")
    typed.fill("yes please")
    typed.press("Enter")
    expect(notice(page, "one emoji")).to_be_visible()
    expect(page.get_by_test_id("reaction-picker")).to_be_visible()  # still open, to try again
    typed.fill("🦄")
    typed.press("Enter")
    chip = row(page, "Unicorns?").locator('[data-testid=reaction][data-emoji="🦄"]')
    expect(chip).to_have_text(re.compile("1"), timeout=LIVE)


def test_a_chip_adds_the_readers_reaction_to_someone_elses(chat: AppProcess, new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    message_id = api.say(slug, "Vote here")
    reacted = httpx.put(
        f"{chat.url}/api/v1/rooms/{slug}/messages/{message_id}/reactions/{quote('👍')}", headers=api.auth, timeout=10
    )
    assert reacted.status_code == 200, reacted.text
    page = open_room(new_page, slug)
    chip = row(page, "Vote here").locator('[data-testid=reaction][data-emoji="👍"]')
    expect(chip).to_have_text(re.compile("1"))
    chip.click()
    expect(chip).to_have_text(re.compile("2"), timeout=LIVE)
    chip.click()
    expect(chip).to_have_text(re.compile("1"), timeout=LIVE)


# Typing


def test_typing_shows_in_the_other_browser_until_the_message_arrives_or_it_stops(
    new_page: PageOpener, api: Api
) -> None:
    slug = api.room()
    alice, bob = open_room(new_page, slug), open_room(new_page, slug)
    name = alice.get_by_test_id("current-user-name").inner_text()
    field = alice.get_by_test_id("message-input")
    field.type("hello the")
    indicator = bob.get_by_test_id("typing-indicator")
    expect(indicator).to_have_text(f"{name} is typing…", timeout=LIVE)
    expect(alice.get_by_test_id("typing-indicator")).not_to_contain_text("typing")  # never the reader's own
    screenshot(bob, "typing-desktop")
    field.type("re")
    field.press("Enter")
    expect(row(bob, "hello there")).to_be_visible(timeout=LIVE)
    expect(indicator).not_to_contain_text("typing", timeout=1_000)  # gone with the message

    alice.wait_for_timeout(2_500)  # past the service's throttle
    field.type("one more")
    expect(indicator).to_have_text(f"{name} is typing…", timeout=LIVE)
    # They stop typing: it goes by itself about 5 s after the last signal.
    expect(indicator).not_to_contain_text("typing", timeout=8_000)


def test_two_and_more_typists_are_named_together(chat: AppProcess, new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    indicator = page.get_by_test_id("typing-indicator")
    typists = [guest(chat, name, slug) for name in ("Ada", "Bo", "Cy")]
    typing = f"{chat.url}/api/v1/rooms/{slug}/typing"
    assert httpx.post(typing, headers=typists[0], timeout=10).status_code == 204
    expect(indicator).to_have_text("Ada is typing…", timeout=LIVE)
    assert httpx.post(typing, headers=typists[1], timeout=10).status_code == 204
    expect(indicator).to_have_text("Ada and Bo are typing…", timeout=LIVE)
    assert httpx.post(typing, headers=typists[2], timeout=10).status_code == 204
    expect(indicator).to_have_text("Several people are typing…", timeout=LIVE)


# Mentions


def test_at_offers_the_members_and_the_keyboard_picks_one(chat: AppProcess, new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    for name in ("Ada Lovelace", "Grace Hopper", "Brad Cox"):
        guest(chat, name, slug)
    page = open_room(new_page, slug)
    field = page.get_by_test_id("message-input")
    field.type("Thanks @Ad")
    suggestions = page.get_by_test_id("mention-suggestion")
    # Names that start with it first, then names that hold it.
    expect(suggestions).to_have_text(["Ada Lovelace", "Brad Cox"])
    field.press("ArrowDown")
    field.press("Enter")
    expect(field).to_have_value("Thanks @Ada Lovelace ")
    expect(page.get_by_test_id("mention-suggestions")).to_have_count(0)
    assert page.get_by_test_id("message").count() == 0  # Enter picked; it did not send

    field.type("and @gr")
    expect(suggestions).to_have_text(["Grace Hopper"])
    field.press("Tab")
    expect(field).to_have_value("Thanks @Ada Lovelace and @Grace Hopper ")
    expect(field).to_be_focused()

    field.type("@")
    expect(suggestions).to_have_count(4)  # every member but the reader
    field.press("Escape")
    expect(page.get_by_test_id("mention-suggestions")).to_have_count(0)
    field.type("Bra")
    page.get_by_test_id("mention-suggestion").filter(has_text="Brad Cox").click()
    expect(field).to_have_value("Thanks @Ada Lovelace and @Grace Hopper @Brad Cox ")
    field.press("Enter")
    expect(row(page, "Thanks")).to_be_visible(timeout=LIVE)


def test_down_and_up_move_the_highlight(chat: AppProcess, new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    for name in ("Maria", "Marek", "Mario"):
        guest(chat, name, slug)
    page = open_room(new_page, slug)
    field = page.get_by_test_id("message-input")
    field.type("@mar")
    expect(page.get_by_test_id("mention-suggestion")).to_have_text(["Marek", "Maria", "Mario"])
    for key in ("ArrowDown", "ArrowDown", "ArrowDown", "ArrowUp"):
        field.press(key)
    expect(page.locator("[data-testid=mention-suggestion][aria-selected=true]")).to_have_text("Maria")
    field.press("Enter")
    expect(field).to_have_value("@Maria ")


# The length limit


def test_text_over_the_limit_is_kept_whole_and_refused_with_a_notice(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    field = page.get_by_test_id("message-input")
    field.fill("x" * 4312)  # as a paste: nothing is cut
    expect(field).to_have_value("x" * 4312)
    too_long = page.get_by_test_id("message-too-long")
    expect(too_long).to_have_text(f"4,312 / {MESSAGE_TEXT_MAX:,} — shorten it by 312 to send")
    field.press("Enter")
    expect(notice(page, "shorten it")).to_be_visible()
    page.get_by_test_id("send-button").click()
    page.wait_for_timeout(1_000)
    assert page.get_by_test_id("message").count() == 0
    expect(field).to_have_value("x" * 4312)

    field.fill("y" * 3990)
    expect(too_long).to_have_count(0)
    expect(page.get_by_test_id("message-length")).to_have_text(f"3,990 / {MESSAGE_TEXT_MAX:,}")
    field.press("Enter")
    expect(page.get_by_test_id("message")).to_have_count(1, timeout=LIVE)
    expect(page.get_by_test_id("message-length")).to_have_count(0)


def test_an_edit_over_the_limit_is_refused_too(new_page: PageOpener, api: Api) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    send(page, "short")
    row_button(page, "short", "edit-message-button").click()
    editing = page.get_by_test_id("edit-input")
    editing.fill("z" * 4001)
    expect(page.get_by_test_id("message-too-long")).to_contain_text("4,001 / 4,000")
    editing.press("Enter")
    expect(notice(page, "shorten it")).to_be_visible()
    expect(editing).to_be_visible()
    expect(page.get_by_test_id("message-text")).to_have_text(["short"])


# What it looks like


@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots_of_the_composers_states(chat: AppProcess, new_page: PageOpener, api: Api, size: str) -> None:
    width, height = SIZES[size]
    slug = api.room()
    guest(chat, "Ada Lovelace", slug)
    api.say(slug, "Shall we ship the release on Friday? The notes are in the wiki.")
    page = open_room(new_page, slug, width=width, height=height)
    send(page, "I think so, after one more test run")
    expect(row(page, "one more test run")).to_be_visible(timeout=LIVE)

    row_button(page, "one more test run", "edit-message-button").click()
    expect(page.get_by_test_id("edit-input")).to_be_focused()
    screenshot(page, f"edit-{size}")
    page.get_by_test_id("edit-input").press("Escape")

    row_button(page, "ship the release", "reply-button").click()
    field = page.get_by_test_id("message-input")
    field.type("Sounds good, @Ad")
    expect(page.get_by_test_id("mention-suggestion")).to_have_count(1)
    screenshot(page, f"reply-and-suggestions-{size}")
    field.press("Escape")

    row_button(page, "ship the release", "react-button").click()
    expect(page.get_by_test_id("reaction-picker")).to_be_visible()
    page.wait_for_timeout(400)  # the dialog's fade-in
    screenshot(page, f"picker-{size}")

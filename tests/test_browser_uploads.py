"""Sending an image from the page, in real Chromium against the app as a real process (#15): the
chosen image waits above the composer with its preview, name, size and an optional caption until
Send or Cancel; it shows its upload progress; refusals name the rule (the size and the limit, the
types accepted) in a notice at the top that leaves the composer free; a caption has the text limit.

Screenshots of the staging panel at 1280×800 and 390×844, light and dark, go to test-artifacts/.
"""

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, Route, expect

from chat_ui.room.image_staging import chosen_file
from models.message import MESSAGE_TEXT_MAX
from tests.pages import LIVE, Api, PageOpener, api_as, open_room
from tests.support import ROOT, AppProcess, module_app

ARTIFACTS = ROOT / "test-artifacts"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
FILE_INPUT = "[data-testid=image-stage] input[type=file]"  # the image button's uploader, which stages


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "uploads-app", CHAT_MAX_UPLOAD_MB="1") as app:
        yield app


@pytest.fixture
def api(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url) as api:
        yield api


def photo(folder: Path, name: str = "photo.png", size: tuple[int, int] = (900, 600), colour: str = "tomato") -> Path:
    path = folder / name
    Image.new("RGB", size, colour).save(path)
    return path


def noisy_png(folder: Path, name: str, megabytes: float) -> Path:
    """A real PNG of about that size (noise does not compress)."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    path = folder / name
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, compress_level=0)
    return path


def staging(page: Page) -> Locator:
    return page.get_by_test_id("upload-staging")


def notice(page: Page, text: str) -> Locator:
    return page.locator(".q-notification").filter(has_text=text)


def messages_via_api(api: Api, slug: str) -> list[dict]:
    return api.client.get(f"/api/v1/rooms/{slug}/messages").json()["messages"]


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize(
    ("key", "label", "expected"),
    [
        ("1764770000000photo.png1572864", "1.5MB", ("photo.png", 1572864)),
        ("1764770000000IMG_20241.jpeg830123", "810.7KB", ("IMG_20241.jpeg", 830123)),
        ("1764770000000scan 2024 0", "0.0B", ("scan 2024 ", 0)),
        ("1764770000000IMG_0" + "1048676", "1.0MB", ("IMG_0", 1048676)),  # a name ending in 0
        ("1764770000000" + "2024-05-01.png" + "999", "999.0B", ("2024-05-01.png", 999)),
        ("nonsense", "1.0MB", None),
    ],
)
def test_the_name_and_size_of_an_added_file_come_from_what_quasar_reports(
    key: str, label: str, expected: tuple[str, int] | None
) -> None:
    assert chosen_file({"__key": key, "__sizeLabel": label, "__status": "idle"}) == expected


def test_a_chosen_image_waits_with_its_preview_and_goes_with_its_caption(
    new_page: PageOpener, api: Api, tmp_path: Path
) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    page.get_by_test_id("message-input").fill("a draft that waits")
    page.locator(FILE_INPUT).set_input_files(photo(tmp_path))

    panel = staging(page)
    expect(panel).to_be_visible()
    thumbnail = panel.locator(".q-uploader__file--img")
    expect(thumbnail).to_be_visible()
    # The preview is drawn in the browser from the chosen file, before anything is sent.
    assert "blob:" in thumbnail.evaluate("el => getComputedStyle(el, '::before').backgroundImage")
    assert thumbnail.evaluate("el => el.getBoundingClientRect().height") >= 48
    expect(panel.locator(".q-uploader__file .q-uploader__title")).to_have_text("photo.png")
    expect(page.get_by_test_id("upload-status")).to_have_text(re.compile(r"^\d+ KB · Ready to send$"), timeout=5_000)
    caption = page.get_by_test_id("upload-caption")
    expect(caption).to_be_focused()
    expect(page.get_by_test_id("message-input")).to_be_hidden()  # the caption takes its place
    assert page.get_by_test_id("message").count() == 0  # nothing is sent before Send

    caption.fill("Sunset at the lake")
    caption.press("Enter")
    row = page.get_by_test_id("message").filter(has=page.get_by_test_id("message-image"))
    expect(row).to_have_count(1, timeout=LIVE + 3_000)
    expect(row.get_by_test_id("message-text")).to_have_text("Sunset at the lake")
    expect(row.get_by_test_id("message-image")).to_have_js_property("complete", True)
    expect(panel).to_be_hidden()
    expect(page.get_by_test_id("message-input")).to_have_value("a draft that waits")
    (sent,) = messages_via_api(api, slug)
    assert (sent["kind"], sent["text"], sent["image"]["width"]) == ("image", "Sunset at the lake", 900)

    # A second image, without a caption, by a click on Send: the panel works again after a send.
    page.locator(FILE_INPUT).set_input_files(photo(tmp_path, "second.png", colour="teal"))
    expect(page.get_by_test_id("upload-caption")).to_have_value("")
    expect(page.get_by_test_id("upload-status")).to_contain_text("Ready to send", timeout=5_000)
    page.get_by_test_id("upload-send").click()
    expect(row).to_have_count(2, timeout=LIVE + 3_000)
    assert [m["text"] for m in messages_via_api(api, slug)] == ["Sunset at the lake", ""]


def test_cancel_and_escape_send_nothing(new_page: PageOpener, api: Api, tmp_path: Path) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    page.locator(FILE_INPUT).set_input_files(photo(tmp_path))
    expect(page.get_by_test_id("upload-status")).to_contain_text("Ready to send", timeout=5_000)
    page.get_by_test_id("upload-caption").fill("never mind")
    page.get_by_test_id("upload-cancel").click()
    expect(staging(page)).to_be_hidden()
    expect(page.get_by_test_id("message-input")).to_be_focused()

    page.locator(FILE_INPUT).set_input_files(photo(tmp_path, "other.png"))
    expect(page.get_by_test_id("upload-caption")).to_be_focused()
    expect(page.get_by_test_id("upload-caption")).to_have_value("")  # the cancelled caption is gone
    page.get_by_test_id("upload-caption").press("Escape")
    expect(staging(page)).to_be_hidden()
    page.wait_for_timeout(1_000)
    assert page.get_by_test_id("message").count() == 0
    assert messages_via_api(api, slug) == []


def test_an_image_over_the_limit_is_refused_naming_its_size_and_the_limit_above_the_composer(
    new_page: PageOpener, api: Api, tmp_path: Path
) -> None:
    slug = api.room()
    page = open_room(new_page, slug, width=390, height=844)
    page.locator(FILE_INPUT).set_input_files(noisy_png(tmp_path, "holiday.png", 1.5))  # the app allows 1 MB
    refused = notice(page, "holiday.png is 1.5 MB; images can be at most 1 MB")
    expect(refused).to_be_visible(timeout=10_000)
    expect(staging(page)).to_be_hidden()
    field, send = page.get_by_test_id("message-input"), page.get_by_test_id("send-button")
    expect(field).to_be_visible()
    box = refused.bounding_box()
    assert box is not None
    for part in (field, send):
        part_box = part.bounding_box()
        assert part_box is not None and not overlaps(box, part_box), "the notice covers the composer"
    assert page.get_by_test_id("message").count() == 0
    assert messages_via_api(api, slug) == []


def test_a_file_that_is_not_an_image_is_refused_naming_the_types_accepted(
    new_page: PageOpener, api: Api, tmp_path: Path
) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list")
    page.locator(FILE_INPUT).set_input_files(notes)  # refused by its type in the browser
    expect(notice(page, "not an image: send a JPEG, PNG, GIF or WebP")).to_be_visible(timeout=5_000)
    expect(staging(page)).to_be_hidden()

    fake = tmp_path / "cat.png"  # an image's name, a text's bytes: refused when it arrives, by name
    fake.write_text("I am text, not a cat")
    page.locator(FILE_INPUT).set_input_files(fake)
    expect(notice(page, "cat.png is not a readable image: send a JPEG, PNG, GIF or WebP")).to_be_visible(timeout=5_000)
    expect(staging(page)).to_be_hidden()
    assert messages_via_api(api, slug) == []


def test_the_upload_shows_its_progress_and_send_waits_for_it(new_page: PageOpener, api: Api, tmp_path: Path) -> None:
    """On loopback an upload takes milliseconds: the test holds it in flight (the request waits in
    Playwright's router) to see what a slow connection shows meanwhile."""
    slug = api.room()
    page = open_room(new_page, slug)
    held: list[Route] = []
    page.route("**/upload/**", lambda route: held.append(route))
    page.locator(FILE_INPUT).set_input_files(noisy_png(tmp_path, "large.png", 0.6))
    panel = staging(page)
    expect(panel.locator(".q-circular-progress")).to_be_visible()
    expect(panel.locator(".q-uploader__file .q-uploader__subtitle")).to_contain_text("%")  # "600.0KB / 12.34%"
    page.get_by_test_id("upload-caption").fill("It was a long way up")
    page.get_by_test_id("upload-send").click()  # before it arrived: it goes once it has
    expect(page.get_by_test_id("upload-send").locator(".q-spinner")).to_be_visible()  # it waits, busy
    page.wait_for_timeout(500)
    assert page.get_by_test_id("message").count() == 0
    assert len(held) == 1
    held[0].continue_()  # the upload arrives now
    row = page.get_by_test_id("message").filter(has=page.get_by_test_id("message-image"))
    expect(row.get_by_test_id("message-text")).to_have_text("It was a long way up", timeout=LIVE + 5_000)
    expect(panel).to_be_hidden()


def test_a_caption_over_the_limit_is_refused_and_kept(new_page: PageOpener, api: Api, tmp_path: Path) -> None:
    slug = api.room()
    page = open_room(new_page, slug)
    page.locator(FILE_INPUT).set_input_files(photo(tmp_path))
    caption = page.get_by_test_id("upload-caption")
    expect(page.get_by_test_id("upload-status")).to_contain_text("Ready to send", timeout=5_000)
    caption.fill("c" * 3700)
    expect(staging(page).get_by_test_id("message-length")).to_have_text(f"3,700 / {MESSAGE_TEXT_MAX:,}")
    caption.fill("c" * 4010)
    expect(staging(page).get_by_test_id("message-too-long")).to_have_text(
        f"4,010 / {MESSAGE_TEXT_MAX:,} — shorten it by 10 to send"
    )
    caption.press("Enter")
    expect(notice(page, "shorten it")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "upload-caption-over-the-limit.png"))
    page.wait_for_timeout(1_000)
    assert messages_via_api(api, slug) == []
    expect(caption).to_have_value("c" * 4010)  # nothing cut
    caption.fill("c" * 4000)
    caption.press("Enter")
    expect(page.get_by_test_id("message-image")).to_have_count(1, timeout=LIVE + 3_000)
    assert len(messages_via_api(api, slug)[0]["text"]) == MESSAGE_TEXT_MAX


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots_of_the_staging_panel(
    new_page: PageOpener, api: Api, tmp_path: Path, size: str, scheme: str
) -> None:
    width, height = SIZES[size]
    slug = api.room()
    api.say(slug, "Anyone been to the lake this weekend?")
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), "steelblue").save(buffer, "JPEG")
    api.client.post(f"/api/v1/rooms/{slug}/images", files={"file": ("lake.jpg", buffer.getvalue())}, headers=api.auth)
    page = open_room(new_page, slug, width=width, height=height)
    page.emulate_media(color_scheme=scheme)  # the page follows the system until the reader picks a theme
    gradient = Image.linear_gradient("L").resize((1200, 800)).convert("RGB")
    path = tmp_path / "golden-hour-at-the-lake-with-a-very-long-file-name.jpg"
    Image.merge("RGB", (gradient.getchannel(0), Image.new("L", (1200, 800), 120), gradient.getchannel(0))).save(path)
    page.locator(FILE_INPUT).set_input_files(path)
    expect(page.get_by_test_id("upload-status")).to_contain_text("Ready to send", timeout=5_000)
    page.get_by_test_id("upload-caption").fill("Golden hour, right before the storm")
    page.wait_for_timeout(400)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"upload-{size}-{scheme}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing spills sideways

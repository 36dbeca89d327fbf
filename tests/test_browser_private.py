"""Private rooms in real Chromium (CONTRACT §7): made with the create form's checkbox, shown with a
lock to their members (room list, sidebar, room bar), and to every other visitor nowhere: not in
the list (live updates included) and a not-found page at their address; a member's page shows the
room's images, which the browser fetches with its session cookie. The app runs as a real process;
set-up goes through the REST API. Screenshots go to test-artifacts/private-*.png, light and dark,
laptop and phone, each page audited with axe-core as tests/test_accessibility.py does.
"""

import io
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.pages import LIVE, Api, PageOpener, api_as, send
from tests.support import ROOT, AppProcess, module_app, unique
from tests.test_accessibility import audit, explain

ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "private-app") as app:
        yield app


@pytest.fixture
def ada(chat: AppProcess) -> Iterator[Api]:
    with api_as(chat.url, "Ada Lovelace") as api:
        yield api


def private_room(api: Api, name: str) -> str:
    response = api.client.post("/api/v1/rooms", json={"name": name, "is_private": True}, headers=api.auth)
    assert response.status_code == 201, response.text
    return str(response.json()["slug"])


def invite_link(api: Api, slug: str) -> str:
    response = api.client.post(f"/api/v1/rooms/{slug}/invites", headers=api.auth)
    assert response.status_code == 201, response.text
    return f"/invite/{response.json()['code']}"


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (480, 320), colour).save(out, format="PNG")
    return out.getvalue()


def upload(api: Api, slug: str, caption: str) -> dict[str, str]:
    files = {"file": ("plan.png", png("#0ea5e9"), "image/png")}
    response = api.client.post(f"/api/v1/rooms/{slug}/images", files=files, data={"caption": caption}, headers=api.auth)
    assert response.status_code == 201, response.text
    image: dict[str, str] = response.json()["image"]
    return image


def item(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("room-item").filter(has_text=name)


def create_with_the_form(page: Page, name: str, *, private: bool) -> None:
    page.get_by_test_id("create-room-button").click()
    page.get_by_test_id("room-name-input").fill(name)
    checkbox = page.get_by_test_id("room-private-checkbox")
    expect(checkbox).to_have_attribute("aria-checked", "false")
    if private:
        checkbox.click()
        expect(checkbox).to_have_attribute("aria-checked", "true")
    page.get_by_test_id("create-room-submit").click()
    expect(page.get_by_test_id("room-title")).to_have_text(name)


def lock_of(scope: Page, testid: str, name: str):  # type: ignore[no-untyped-def]
    return scope.get_by_test_id(testid).filter(has_text=name).get_by_role("img", name="Private room")


def test_a_room_made_private_with_the_checkbox_shows_a_lock_to_its_member_and_nothing_to_others(
    new_page: PageOpener, ada: Api
) -> None:
    public = unique("Open plan")
    ada.room(public)  # so that the other visitor's list is known to have loaded
    page = new_page("/")
    name = unique("Skunkworks")
    create_with_the_form(page, name, private=True)
    slug = page.url.rsplit("/rooms/", 1)[1]
    expect(
        page.get_by_test_id("room-title").locator("xpath=..").get_by_role("img", name="Private room")
    ).to_be_visible()
    expect(lock_of(page, "sidebar-room", name)).to_be_visible()
    assert ada.client.get(f"/api/v1/rooms/{slug}").status_code == 404, "the API hides it from anyone else"

    page.goto("/")
    expect(lock_of(page, "room-item", name)).to_be_visible()
    expect(item(page, public)).to_be_visible()
    expect(item(page, public).get_by_role("img", name="Private room")).to_have_count(0)

    other = new_page("/")
    expect(item(other, public)).to_be_visible()
    expect(item(other, name)).to_have_count(0)
    other.goto(f"/rooms/{slug}")
    expect(other.get_by_test_id("not-found")).to_be_visible()
    expect(other.get_by_test_id("room-title")).to_have_count(0)


def test_a_private_room_never_shows_up_live_in_a_strangers_list(new_page: PageOpener, ada: Api) -> None:
    stranger = new_page("/")
    member = new_page("/")
    expect(stranger.get_by_test_id("room-list")).to_be_attached()
    expect(member.get_by_test_id("room-list")).to_be_attached()
    secret = unique("Hidden")
    slug = private_room(ada, secret)
    ada.say(slug, "activity in the hidden room")
    member_page = new_page(invite_link(ada, slug), context=member.context)  # the member joins elsewhere
    expect(member_page.get_by_test_id("room-title")).to_have_text(secret)
    send(member_page, "I'm in")  # the member's list hears of it from their own rooms
    expect(lock_of(member, "room-item", secret)).to_be_visible(timeout=LIVE + 2_000)

    later = unique("Public after")
    ada.room(later)  # created after: every event before it has been handled
    expect(item(stranger, later)).to_be_visible(timeout=LIVE)
    expect(item(stranger, secret)).to_have_count(0)


def test_a_member_sees_the_private_rooms_image_and_a_stranger_cannot_fetch_it(new_page: PageOpener, ada: Api) -> None:
    name = unique("Blueprints")
    slug = private_room(ada, name)
    image = upload(ada, slug, "floor plan")
    page = new_page(invite_link(ada, slug))
    expect(page.get_by_test_id("room-title")).to_have_text(name)
    shown = page.locator("img[data-testid=message-image], [data-testid=message-image] img").first
    expect(shown).to_be_visible()
    assert shown.get_attribute("src") == image["thumbnail_url"] and image["thumbnail_url"].startswith("/media/private/")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=shown.element_handle(), timeout=5_000)
    assert page.request.get(image["url"]).status == 200, "the member's browser, by its session cookie"

    stranger = new_page("/")
    for url in (image["url"], image["thumbnail_url"]):
        assert stranger.request.get(url).status == 404


def test_leaving_a_private_room_in_another_tab_closes_it_here_and_a_public_room_stays_open(
    new_page: PageOpener, ada: Api
) -> None:
    """A private room is no longer the leaver's to read: every page of theirs on it closes, with a
    notice. A public room stays readable, so its other pages stay open and live."""
    name = unique("Back room")
    slug = private_room(ada, name)
    here = new_page(invite_link(ada, slug))
    expect(here.get_by_test_id("room-title")).to_have_text(name)
    there = new_page(f"/rooms/{slug}", context=here.context)  # the same visitor's other tab
    expect(there.get_by_test_id("room-title")).to_have_text(name)
    there.get_by_test_id("leave-room-button").click()
    expect(there.get_by_test_id("room-list")).to_be_attached()
    expect(here.get_by_test_id("room-title")).to_have_count(0, timeout=5_000)
    expect(here.get_by_test_id("room-list")).to_be_attached()
    expect(here.locator(".q-notification").filter(has_text=f"You left {name}.")).to_be_visible()
    expect(item(here, name)).to_have_count(0)

    public = unique("Front room")
    public_slug = ada.room(public)
    here.goto(f"/rooms/{public_slug}")
    there.goto(f"/rooms/{public_slug}")
    send(there, "joining to leave")
    expect(here.get_by_test_id("message-text").last).to_have_text("joining to leave", timeout=LIVE)
    there.get_by_test_id("leave-room-button").click()
    expect(there.get_by_test_id("room-list")).to_be_attached()
    ada.say(public_slug, "still open here")
    expect(here.get_by_test_id("message-text").last).to_have_text("still open here", timeout=LIVE)
    expect(here.get_by_test_id("room-title")).to_have_text(public)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_screenshots_of_private_rooms(browser: Browser, chat: AppProcess, ada: Api, scheme: str, device: str) -> None:
    options = PHONE if device == "phone" else LAPTOP
    context = browser.new_context(base_url=chat.url, color_scheme=scheme, **options)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        name = unique("Board of directors")
        slug = private_room(ada, name)
        upload(ada, slug, "The plan for next year")
        page.goto(invite_link(ada, slug))
        expect(page.get_by_test_id("room-title")).to_have_text(name)
        send(page, "Looks good to me")
        expect(page.get_by_test_id("message-text").last).to_have_text("Looks good to me", timeout=LIVE)
        page.goto(f"/rooms/{slug}")  # without the notice of joining over the room's bar
        expect(page.get_by_test_id("message-text").last).to_have_text("Looks good to me")
        page.wait_for_timeout(500)
        ARTIFACTS.mkdir(exist_ok=True)
        width = options["viewport"]["width"]  # type: ignore[index]
        page.screenshot(path=str(ARTIFACTS / f"private-room-{width}-{scheme}.png"))
        assert not (violations := audit(page)), explain(violations, f"a private room, {width} px, {scheme}")
        page.goto("/")
        expect(lock_of(page, "room-item", name)).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / f"private-list-{width}-{scheme}.png"))
        assert not (violations := audit(page)), explain(violations, f"the list with a lock, {width} px, {scheme}")
        page.get_by_test_id("create-room-button").click()
        page.get_by_test_id("room-private-checkbox").click()
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"private-create-{width}-{scheme}.png"))
        # The open dialog itself, as tests/test_accessibility.py audits overlays (and why).
        in_dialog = {"include": [[".q-dialog"]], "exclude": [[".q-dialog .q-btn__content"]]}
        violations = audit(page, within=in_dialog)
        assert not violations, explain(violations, f"the create form, {width} px, {scheme}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()

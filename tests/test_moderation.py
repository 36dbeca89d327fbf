"""Moderation through the admin API (CONTRACT section 5) and flood control, against the real app."""

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect

from tests.pages import LIVE, Api, PageOpener, open_room, page_opener, send
from tests.support import AppProcess, running_app, unique

ADMIN_TOKEN = "test-admin-token-0123456789"


@pytest.fixture(scope="module")
def moderated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    data_dir = tmp_path_factory.mktemp("moderated")
    with running_app(
        data_dir / "logs", CHAT_DATA_DIR=str(data_dir), CHAT_ADMIN_TOKEN=ADMIN_TOKEN, CHAT_RATE_LIMIT="5/10s"
    ) as app:
        yield app


@pytest.fixture
def admin(moderated: AppProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=moderated.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10) as client:
        yield client


def test_admin_routes_are_404_when_no_admin_token_is_set(tmp_path: Path) -> None:
    with running_app(tmp_path / "logs", CHAT_DATA_DIR=str(tmp_path)) as app:
        for method, path in (("DELETE", "/api/v1/admin/messages/1"), ("POST", "/api/v1/admin/guests/1/ban")):
            response = httpx.request(method, app.url + path, headers={"Authorization": "Bearer anything"})
            assert response.status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {ADMIN_TOKEN}"])
def test_admin_routes_refuse_a_missing_or_wrong_token(moderated: AppProcess, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    assert httpx.delete(f"{moderated.url}/api/v1/admin/messages/1", headers=headers).status_code == 401


def test_a_deleted_message_leaves_the_history_for_good(moderated: AppProcess, admin: httpx.Client) -> None:
    api = Api(moderated.url)
    slug = api.room()
    ids = [api.say(slug, f"m{n}") for n in range(4)]
    assert admin.delete(f"/api/v1/admin/messages/{ids[1]}").status_code == 204
    assert admin.delete(f"/api/v1/admin/messages/{ids[1]}").status_code == 404
    page = api.client.get(f"/api/v1/rooms/{slug}/messages").json()
    assert [m["text"] for m in page["messages"]] == ["m0", "m2", "m3"]
    older = api.client.get(f"/api/v1/rooms/{slug}/messages", params={"before": ids[2]}).json()
    assert [m["text"] for m in older["messages"]] == ["m0"]
    api.close()


def test_a_banned_guest_reads_but_cannot_post_until_unbanned(moderated: AppProcess, admin: httpx.Client) -> None:
    api = Api(moderated.url, "Troll")
    slug = api.room()
    me = api.client.get("/api/v1/guests/me", headers=api.auth).json()
    assert admin.post(f"/api/v1/admin/guests/{me['id']}/ban").status_code == 200
    response = api.client.post(f"/api/v1/rooms/{slug}/messages", json={"text": "spam"}, headers=api.auth)
    assert response.status_code == 403 and "banned" in response.json()["detail"]
    assert api.client.get(f"/api/v1/rooms/{slug}/messages").status_code == 200
    assert admin.delete(f"/api/v1/admin/guests/{me['id']}/ban").status_code == 200
    api.say(slug, "behaving now")
    assert admin.post("/api/v1/admin/guests/999999/ban").status_code == 404
    api.close()


def test_deleting_a_room_removes_its_messages_and_images(moderated: AppProcess, admin: httpx.Client) -> None:
    api = Api(moderated.url)
    slug = api.room()
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(buffer, "PNG")
    upload = api.client.post(
        f"/api/v1/rooms/{slug}/images", files={"file": ("a.png", buffer.getvalue())}, headers=api.auth
    )
    image_url = upload.json()["image"]["url"]
    assert api.client.get(image_url).status_code == 200
    assert admin.delete(f"/api/v1/admin/rooms/{slug}").status_code == 204
    assert api.client.get(f"/api/v1/rooms/{slug}").status_code == 404
    assert api.client.get(image_url).status_code == 404
    assert admin.delete(f"/api/v1/admin/rooms/{slug}").status_code == 404
    api.close()


def guest_id(api: Api) -> int:
    return int(api.client.get("/api/v1/guests/me", headers=api.auth).json()["id"])


def texts(api: Api, slug: str) -> list[str]:
    return [m["text"] for m in api.client.get(f"/api/v1/rooms/{slug}/messages").json()["messages"]]


def test_an_admin_renames_rooms_and_guests(moderated: AppProcess, admin: httpx.Client) -> None:
    api = Api(moderated.url, "Rude Name")
    slug = api.room()
    taken = api.room()
    taken_name = api.client.get(f"/api/v1/rooms/{taken}").json()["name"]
    renamed = admin.patch(f"/api/v1/admin/rooms/{slug}", json={"name": "Calm Corner", "description": "Be kind"})
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["description"], renamed.json()["slug"]) == (
        "Calm Corner",
        "Be kind",
        slug,  # the address stays, so links keep working
    )
    assert api.client.get(f"/api/v1/rooms/{slug}").json()["name"] == "Calm Corner"
    clash = admin.patch(f"/api/v1/admin/rooms/{slug}", json={"name": taken_name.upper()})
    assert clash.status_code == 409
    assert admin.patch(f"/api/v1/admin/rooms/{slug}", json={"name": "  "}).status_code == 422
    assert admin.patch(f"/api/v1/admin/rooms/{slug}", json={}).status_code == 422
    assert admin.patch("/api/v1/admin/rooms/no-such-room", json={"name": "X"}).status_code == 404
    assert api.client.get(f"/api/v1/rooms/{slug}").json()["name"] == "Calm Corner"  # refusals changed nothing

    me = guest_id(api)
    answer = admin.patch(f"/api/v1/admin/guests/{me}", json={"display_name": "Polite Name"})
    assert answer.status_code == 200 and answer.json()["display_name"] == "Polite Name"
    assert api.client.get("/api/v1/guests/me", headers=api.auth).json()["display_name"] == "Polite Name"
    assert admin.patch(f"/api/v1/admin/guests/{me}", json={"display_name": ""}).status_code == 422
    log = admin.get("/api/v1/admin/audit", params={"limit": 2}).json()  # refusals left no entry
    assert [(e["action"], e["target"]) for e in log] == [("guest.rename", f"guest:{me}"), ("room.edit", f"room:{slug}")]
    assert log[0]["detail"] == "Rude Name -> Polite Name"
    assert log[1]["detail"].endswith("-> Calm Corner; description")
    api.close()


def test_a_room_owner_moderates_their_room_and_nobody_else_can(moderated: AppProcess) -> None:
    owner, member, stranger = Api(moderated.url, "Owner"), Api(moderated.url, "Member"), Api(moderated.url, "Other")
    slug = owner.room()
    kept = member.say(slug, "a fine message")
    unwanted = member.say(slug, "an unwanted message")
    own = stranger.say(slug, "my own mistake")

    def delete(api: Api, message_id: int) -> int:
        return api.client.delete(f"/api/v1/rooms/{slug}/messages/{message_id}", headers=api.auth).status_code

    assert delete(stranger, kept) == 403  # not theirs, not their room
    assert delete(stranger, own) == 204  # an author may take back their own message
    assert delete(owner, unwanted) == 204  # the owner may delete any message in their room
    assert delete(owner, unwanted) == 404
    assert texts(owner, slug) == ["a fine message"]
    elsewhere = member.room()  # an owner's room in the address does not reach other rooms' messages
    theirs = member.say(elsewhere, "in another room")
    assert delete(owner, theirs) == 404
    assert texts(member, elsewhere) == ["in another room"]

    # Locking: only the owner; everyone can still read.
    lock = f"/api/v1/rooms/{slug}/lock"
    assert member.client.post(lock, headers=member.auth).status_code == 403
    assert owner.client.post(lock, headers=owner.auth).status_code == 204
    refused = stranger.client.post(f"/api/v1/rooms/{slug}/messages", json={"text": "hello?"}, headers=stranger.auth)
    assert refused.status_code == 403 and "locked" in refused.json()["detail"]
    assert owner.client.delete(lock, headers=owner.auth).status_code == 204
    stranger.say(slug, "open again")  # (each guest stays within this server's limit of 5 per 10 s)

    # Removing: the removed guest can read, not post or join; the owner cannot be removed.
    members = f"/api/v1/rooms/{slug}/members"
    assert stranger.client.delete(f"{members}/{guest_id(member)}", headers=stranger.auth).status_code == 403
    assert owner.client.delete(f"{members}/{guest_id(owner)}", headers=owner.auth).status_code == 422
    removed = owner.client.delete(f"{members}/{guest_id(member)}", headers=owner.auth)
    assert removed.status_code == 200
    refused = member.client.post(f"/api/v1/rooms/{slug}/messages", json={"text": "back?"}, headers=member.auth)
    assert refused.status_code == 403 and "removed" in refused.json()["detail"]
    assert member.client.post(f"/api/v1/rooms/{slug}/join", headers=member.auth).status_code == 403
    assert texts(member, slug) == ["a fine message", "open again"]
    stranger.say(slug, "others still post")
    # A removal can be undone by the owner (or an admin), not by anyone else.
    readmit = f"/api/v1/rooms/{slug}/removals/{guest_id(member)}"
    assert stranger.client.delete(readmit, headers=stranger.auth).status_code == 403
    assert owner.client.delete(readmit, headers=owner.auth).status_code == 200
    assert owner.client.delete(readmit, headers=owner.auth).status_code == 404
    member.say(slug, "back in")
    for api in (owner, member, stranger):
        api.close()


def test_an_owner_cannot_undo_what_an_admin_did(moderated: AppProcess, admin: httpx.Client) -> None:
    owner, member = Api(moderated.url, "Owner"), Api(moderated.url, "Member")
    slug = owner.room()
    lock = f"/api/v1/rooms/{slug}/lock"
    assert admin.post(f"/api/v1/admin/rooms/{slug}/lock").status_code == 204
    assert owner.client.post(lock, headers=owner.auth).status_code == 204  # locked already: fine
    refused = owner.client.delete(lock, headers=owner.auth)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert admin.delete(f"/api/v1/admin/rooms/{slug}/lock").status_code == 204
    member_id = guest_id(member)
    assert admin.delete(f"/api/v1/admin/rooms/{slug}/members/{member_id}").status_code == 200
    assert owner.client.delete(f"/api/v1/rooms/{slug}/removals/{member_id}", headers=owner.auth).status_code == 403
    assert admin.delete(f"/api/v1/admin/rooms/{slug}/removals/{member_id}").status_code == 200
    member.say(slug, "back in the room")
    for api in (owner, member):
        api.close()


def test_posting_faster_than_the_limit_gets_429_with_retry_after(moderated: AppProcess) -> None:
    """This server allows a burst of 5, then one every 2 s: quick 6th and 7th messages are refused,
    and exactly the accepted ones are saved."""
    api = Api(moderated.url)
    slug = api.room()
    statuses = [
        api.client.post(f"/api/v1/rooms/{slug}/messages", json={"text": f"fast {n}"}, headers=api.auth)
        for n in range(7)
    ]
    assert [r.status_code for r in statuses[:5]] == [201] * 5
    refused = [r for r in statuses[5:] if r.status_code == 429]
    assert refused and all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    texts = [m["text"] for m in api.client.get(f"/api/v1/rooms/{slug}/messages").json()["messages"]]
    assert texts == [f"fast {n}" for n, r in enumerate(statuses) if r.status_code == 201]
    api.close()


def test_chatting_at_a_normal_pace_never_hits_the_limit(moderated: AppProcess) -> None:
    import time

    api = Api(moderated.url)
    slug = api.room()
    for n in range(7):  # one message a second: well within a burst of 5 and one more every 2 s
        api.say(slug, f"calm {n}")
        time.sleep(1.0)
    api.close()


def test_moderation_is_live_in_open_browsers(browser: Browser, moderated: AppProcess, admin: httpx.Client) -> None:
    api = Api(moderated.url)
    slug = api.room()
    doomed = api.say(slug, "this will be removed")
    api.say(slug, "this stays")
    with page_opener(browser, moderated.url) as new_page:
        alice, bob = open_room(new_page, slug), open_room(new_page, slug)
        for page in (alice, bob):
            expect(page.get_by_test_id("message-text")).to_have_text(["this will be removed", "this stays"])
        admin.delete(f"/api/v1/admin/messages/{doomed}")
        for page in (alice, bob):
            expect(page.get_by_test_id("message-text")).to_have_text(["this stays"], timeout=2_000)
        # A banned guest gets a clear notice in the page, and keeps what they typed.
        send(alice, "hello from alice")
        expect(bob.get_by_test_id("message-text").last).to_have_text("hello from alice", timeout=2_000)
        alice_id = api.client.get(f"/api/v1/rooms/{slug}/messages").json()["messages"][-1]["author"]["id"]
        assert admin.post(f"/api/v1/admin/guests/{alice_id}/ban").status_code == 200
        send(alice, "can I still post?")
        expect(alice.locator(".q-notification").filter(has_text="banned")).to_be_visible(timeout=5_000)
        expect(alice.get_by_test_id("message-input")).to_have_value("can I still post?")
        assert admin.delete(f"/api/v1/admin/guests/{alice_id}/ban").status_code == 200
        alice.get_by_test_id("send-button").click()
        expect(bob.get_by_test_id("message-text").last).to_have_text("can I still post?", timeout=2_000)
    api.close()


def test_a_locked_room_is_read_only_until_unlocked_and_everything_is_audited(
    moderated: AppProcess, admin: httpx.Client
) -> None:
    api = Api(moderated.url)
    slug = api.room()
    api.say(slug, "before the lock")
    assert admin.post(f"/api/v1/admin/rooms/{slug}/lock").status_code == 204
    refused = api.client.post(f"/api/v1/rooms/{slug}/messages", json={"text": "locked?"}, headers=api.auth)
    assert refused.status_code == 403 and "locked" in refused.json()["detail"]
    assert [m["text"] for m in api.client.get(f"/api/v1/rooms/{slug}/messages").json()["messages"]] == [
        "before the lock"
    ]
    assert admin.delete(f"/api/v1/admin/rooms/{slug}/lock").status_code == 204
    api.say(slug, "after the lock")
    assert admin.post("/api/v1/admin/rooms/no-such-room/lock").status_code == 404
    log = admin.get("/api/v1/admin/audit", params={"limit": 2}).json()
    assert [(entry["action"], entry["target"], entry["actor"]) for entry in log] == [
        ("room.unlock", f"room:{slug}", "admin"),
        ("room.lock", f"room:{slug}", "admin"),
    ]
    assert all(entry["at"].endswith(("Z", "+00:00")) for entry in log)
    api.close()


def test_the_admin_pages_need_the_token_and_then_moderate_live(
    browser: Browser, moderated: AppProcess, tmp_path: Path
) -> None:
    api = Api(moderated.url)
    slug = api.room()
    api.say(slug, "keep me")
    api.say(slug, "remove me via the admin page")
    with page_opener(browser, moderated.url) as new_page:
        reader = open_room(new_page, slug)
        expect(reader.get_by_test_id("message-text")).to_have_text(["keep me", "remove me via the admin page"])
        admin_page = new_page("/admin")
        admin_page.get_by_test_id("admin-token-input").fill("not the token")
        admin_page.get_by_test_id("admin-sign-in").click()
        expect(admin_page.get_by_text("Not signed in.")).to_be_visible()
        expect(admin_page.get_by_test_id("admin-overview")).to_have_count(0)
        admin_page.get_by_test_id("admin-token-input").fill(ADMIN_TOKEN)
        admin_page.get_by_test_id("admin-sign-in").click()
        expect(admin_page.get_by_test_id("admin-overview")).to_contain_text("Messages today")
        admin_page.get_by_role("tab", name="Messages").click()
        admin_page.get_by_test_id("admin-messages-search").fill("remove me via")
        row = (
            admin_page.get_by_test_id("admin-messages")
            .locator("tbody tr")
            .filter(has_text="remove me via the admin page")
        )
        expect(row).to_have_count(1)
        admin_page.get_by_test_id("admin-messages-author").fill("no such author")  # the filters narrow together
        expect(row).to_have_count(0)
        admin_page.get_by_test_id("admin-messages-author").fill("api bot")
        admin_page.get_by_test_id("admin-messages-room").fill(slug)
        expect(row).to_have_count(1)
        row.locator(".q-checkbox").click()
        admin_page.get_by_test_id("admin-messages-delete").click()
        admin_page.get_by_test_id("admin-messages-confirm").click()
        expect(reader.get_by_test_id("message-text")).to_have_text(["keep me"], timeout=2_000)
        admin_page.reload()  # signed in once per browser session: no second prompt
        expect(admin_page.get_by_test_id("admin-overview")).to_be_visible()
        admin_page.get_by_role("tab", name="Audit log").click()
        expect(admin_page.get_by_test_id("admin-audit")).to_contain_text("message.delete")
    api.close()


def test_there_is_no_admin_page_without_an_admin_token(tmp_path: Path) -> None:
    with running_app(tmp_path / "logs", CHAT_DATA_DIR=str(tmp_path)) as app:
        assert httpx.get(f"{app.url}/admin").status_code == 404


# Room owners, in the room page


def create_room_in_browser(new_page: PageOpener) -> tuple[Page, str]:
    """A browser guest creates a room and so owns it; returns its page and the room's slug."""
    page = new_page("/")
    page.get_by_test_id("create-room-button").click()
    page.get_by_test_id("room-name-input").fill(unique("Owned"))
    page.get_by_test_id("create-room-submit").click()
    expect(page.get_by_test_id("message-input")).to_be_editable()
    return page, page.url.rsplit("/", 1)[1]


def row(page: Page, text: str) -> Locator:
    return page.get_by_test_id("message").filter(has_text=text)


def test_the_owner_deletes_messages_and_removes_guests_from_the_room_page(
    browser: Browser, moderated: AppProcess
) -> None:
    member = Api(moderated.url, "Member")
    with page_opener(browser, moderated.url) as new_page:
        owner, slug = create_room_in_browser(new_page)
        member.say(slug, "spam, spam, spam")
        member.say(slug, "keep this one")
        visitor = open_room(new_page, slug)
        send(visitor, "hello from the visitor")
        for page in (owner, visitor):
            expect(page.get_by_test_id("message-text")).to_have_text(
                ["spam, spam, spam", "keep this one", "hello from the visitor"], timeout=LIVE
            )
        # The visitor may delete only their own message, and remove nobody.
        expect(visitor.get_by_test_id("delete-message")).to_have_count(1)
        expect(row(visitor, "hello from the visitor").get_by_test_id("delete-message")).to_have_count(1)
        expect(visitor.get_by_test_id("remove-author")).to_have_count(0)

        row(owner, "spam").hover()
        row(owner, "spam").get_by_test_id("delete-message").click()
        owner.get_by_test_id("confirm-delete").click()
        for page in (owner, visitor):
            expect(page.get_by_test_id("message-text")).to_have_text(
                ["keep this one", "hello from the visitor"], timeout=LIVE
            )
        assert texts(member, slug) == ["keep this one", "hello from the visitor"]  # and gone from paging

        row(owner, "hello from the visitor").hover()
        row(owner, "hello from the visitor").get_by_test_id("remove-author").click()
        owner.get_by_test_id("confirm-remove").click()
        # The removed visitor's view closes with a notice; back in the room, they can read, not post.
        expect(visitor.get_by_test_id("room-list")).to_be_attached(timeout=LIVE)
        expect(visitor.get_by_text("You were removed from")).to_be_visible()
        visitor.goto(f"/rooms/{slug}")
        expect(visitor.get_by_test_id("message-text")).to_have_text(["keep this one", "hello from the visitor"])
        send(visitor, "let me back in")
        expect(visitor.locator(".q-notification").filter(has_text="removed")).to_be_visible(timeout=5_000)
        expect(visitor.get_by_test_id("message-input")).to_have_value("let me back in")
    member.close()


def test_the_owner_locks_the_room_for_everyone_live(browser: Browser, moderated: AppProcess) -> None:
    with page_opener(browser, moderated.url) as new_page:
        owner, slug = create_room_in_browser(new_page)
        visitor = open_room(new_page, slug)
        expect(visitor.get_by_test_id("lock-room-button")).to_have_count(0)  # only the owner has it
        owner.get_by_test_id("lock-room-button").click()
        for page in (owner, visitor):
            expect(page.get_by_test_id("room-locked")).to_be_visible(timeout=LIVE)
            expect(page.get_by_test_id("message-input")).to_be_hidden()
        expect(owner.get_by_role("button", name="Unlock")).to_be_visible()
        visitor.reload()  # and it stays locked
        expect(visitor.get_by_test_id("room-locked")).to_be_visible()
        owner.get_by_test_id("lock-room-button").click()
        expect(visitor.get_by_test_id("message-input")).to_be_editable(timeout=LIVE)
        send(visitor, "unlocked again")
        expect(owner.get_by_test_id("message-text").last).to_have_text("unlocked again", timeout=LIVE)


def test_admin_changes_reach_open_room_pages(browser: Browser, moderated: AppProcess, admin: httpx.Client) -> None:
    """A renamed room shows its new name, and a deleted room sends its readers back to the list."""
    api = Api(moderated.url)
    slug = api.room()
    with page_opener(browser, moderated.url) as new_page:
        reader = open_room(new_page, slug)
        new_name = unique("Renamed")
        assert admin.patch(f"/api/v1/admin/rooms/{slug}", json={"name": new_name}).status_code == 200
        expect(reader.get_by_test_id("room-title")).to_have_text(new_name, timeout=LIVE)
        assert admin.delete(f"/api/v1/admin/rooms/{slug}").status_code == 204
        expect(reader.get_by_test_id("room-list")).to_be_attached(timeout=LIVE)
        expect(reader.get_by_text("was deleted by a moderator")).to_be_visible()
    api.close()


def test_the_admin_page_renames_a_room(browser: Browser, moderated: AppProcess) -> None:
    api = Api(moderated.url)
    slug = api.room()
    old_name = api.client.get(f"/api/v1/rooms/{slug}").json()["name"]
    with page_opener(browser, moderated.url) as new_page:
        admin_page = new_page("/admin")
        admin_page.get_by_test_id("admin-token-input").fill(ADMIN_TOKEN)
        admin_page.get_by_test_id("admin-sign-in").click()
        admin_page.get_by_test_id("admin-rooms-search").fill(old_name)
        found = admin_page.get_by_test_id("admin-rooms").locator("tbody tr").filter(has_text=old_name)
        expect(found).to_have_count(1)
        found.locator(".q-checkbox").click()
        admin_page.get_by_test_id("admin-rooms-rename").click()
        field = admin_page.get_by_test_id("admin-rooms-value")
        expect(field).to_have_value(old_name)
        field.fill("")
        admin_page.get_by_test_id("admin-rooms-save").click()  # an empty name is refused, and the dialog stays
        expect(admin_page.locator(".q-notification").filter(has_text="room name")).to_be_visible()
        new_name = unique("Tidy")
        field.fill(new_name)
        admin_page.get_by_test_id("admin-rooms-save").click()
        expect(field).to_be_hidden()
        assert api.client.get(f"/api/v1/rooms/{slug}").json()["name"] == new_name
    api.close()


def test_sending_faster_than_the_limit_gets_a_polite_notice_in_the_page(
    browser: Browser, moderated: AppProcess
) -> None:
    """This server allows a burst of 5: the 6th quick message is refused with a notice, and its
    text stays in the field; the 5 within the limit are all there."""
    api = Api(moderated.url)
    slug = api.room()
    with page_opener(browser, moderated.url) as new_page:
        page = open_room(new_page, slug)
        for n in range(5):
            send(page, f"quick {n}")
            expect(page.get_by_test_id("message-text").last).to_have_text(f"quick {n}", timeout=LIVE)
        send(page, "one too many")
        expect(page.locator(".q-notification").filter(has_text="too fast")).to_be_visible(timeout=5_000)
        expect(page.get_by_test_id("message-input")).to_have_value("one too many")
        assert texts(api, slug) == [f"quick {n}" for n in range(5)]
    api.close()

"""Moderation through the admin API (CONTRACT section 5) and flood control, against the real app."""

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from tests.pages import Api, open_room, page_opener, send
from tests.support import AppProcess, running_app

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

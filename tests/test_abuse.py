"""Abuse (#13): bans that hold for every write, guest creation and sends budgeted per client address
(X-Forwarded-For believed from trusted proxies only), admin tokens backing off per address, and a
removal racing the room's deletion answering 404 instead of 500 (tests/test_abuse_services.py)."""

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect

from services.backoff import FREE_FAILURES
from tests.pages import open_room, page_opener, send
from tests.support import AppProcess, running_app, unique

ADMIN_TOKEN = "abuse-admin-token-0123456789"
GUEST_BUDGET = 20  # guests per address per 10 min in the `limited` app
ADDRESS_BUDGET = 10  # messages per address per minute
GUEST_SEND_BUDGET = 5  # messages per guest per minute


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """An app with small budgets, behind a "proxy" at 127.0.0.1: requests from 127.0.0.1 may name
    their client in X-Forwarded-For; requests from 127.0.0.2 are not from a proxy."""
    data_dir = tmp_path_factory.mktemp("limited")
    with running_app(
        data_dir / "logs",
        CHAT_DATA_DIR=str(data_dir),
        CHAT_ADMIN_TOKEN=ADMIN_TOKEN,
        CHAT_TRUSTED_PROXIES="127.0.0.1",
        CHAT_GUEST_RATE_LIMIT=f"{GUEST_BUDGET}/10min",
        CHAT_ADDRESS_RATE_LIMIT=f"{ADDRESS_BUDGET}/60s",
        CHAT_RATE_LIMIT=f"{GUEST_SEND_BUDGET}/60s",
    ) as app:
        yield app


def client(app: AppProcess, *, forwarded_for: str | None = None, untrusted_peer: bool = False) -> httpx.Client:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    # Linux answers on all of 127.0.0.0/8: connecting from 127.0.0.2 makes a peer that is no proxy.
    transport = httpx.HTTPTransport(local_address="127.0.0.2") if untrusted_peer else None
    return httpx.Client(base_url=app.url, headers=headers, transport=transport, timeout=10)


def new_guest(http: httpx.Client, name: str = "Mallory") -> dict[str, str]:
    response = http.post("/api/v1/guests", json={"display_name": name})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_guest_creation_is_limited_per_client_address(limited: AppProcess) -> None:
    with client(limited, forwarded_for="198.51.100.1") as first, client(limited, forwarded_for="198.51.100.2") as other:
        for _ in range(GUEST_BUDGET):
            new_guest(first)
        refused = first.post("/api/v1/guests", json={"display_name": "one too many"})
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1 and "too fast" in refused.json()["detail"]
        new_guest(other)  # another client behind the same proxy has a budget of its own
    # From a peer that is not a trusted proxy, X-Forwarded-For is ignored: inventing a new address
    # per request does not buy new guests.
    with client(limited, untrusted_peer=True) as spoofer:
        for number in range(GUEST_BUDGET):
            spoofer.headers["X-Forwarded-For"] = f"203.0.113.{number}"
            new_guest(spoofer)
        spoofer.headers["X-Forwarded-For"] = "203.0.113.250"
        assert spoofer.post("/api/v1/guests", json={"display_name": "again"}).status_code == 429


def test_fresh_guests_from_one_address_share_its_message_budget(limited: AppProcess) -> None:
    with client(limited, forwarded_for="192.0.2.7") as crowd, client(limited, forwarded_for="192.0.2.8") as neighbour:
        tokens = [new_guest(crowd, f"Sock {number}") for number in range(14)]
        slug = crowd.post("/api/v1/rooms", json={"name": unique("Flood")}, headers=tokens[0]).json()["slug"]
        # Each guest sends one message, far within its own budget: the address's budget stops them.
        answers = [
            crowd.post(f"/api/v1/rooms/{slug}/messages", json={"text": f"spam {n}"}, headers=token)
            for n, token in enumerate(tokens)
        ]
        codes = [answer.status_code for answer in answers]
        assert codes.count(201) == ADDRESS_BUDGET and set(codes) == {201, 429}, codes
        assert all(int(answer.headers["Retry-After"]) >= 1 for answer in answers if answer.status_code == 429)
        stored = crowd.get(f"/api/v1/rooms/{slug}/messages").json()["messages"]
        assert len(stored) == ADDRESS_BUDGET  # nothing refused was stored
        # Someone at another address is not held back by the flood.
        reply = neighbour.post(f"/api/v1/rooms/{slug}/messages", json={"text": "hi"}, headers=new_guest(neighbour))
        assert reply.status_code == 201, reply.text


def test_a_ban_stops_every_write_of_the_guest_but_not_reading(limited: AppProcess) -> None:
    admin_headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with client(limited, forwarded_for="192.0.2.20") as http:
        owner = new_guest(http, "Owner")
        me = http.get("/api/v1/guests/me", headers=owner).json()["id"]
        slug = http.post("/api/v1/rooms", json={"name": unique("Mine")}, headers=owner).json()["slug"]
        other = http.post("/api/v1/rooms", json={"name": unique("Theirs")}, headers=new_guest(http)).json()["slug"]
        message = http.post(f"/api/v1/rooms/{slug}/messages", json={"text": "mine"}, headers=owner).json()["id"]
        assert http.post(f"/api/v1/admin/guests/{me}/ban", headers=admin_headers).status_code == 200
        writes = [
            ("POST", "/api/v1/rooms", {"name": unique("Evasion")}),
            ("POST", f"/api/v1/rooms/{other}/join", None),
            ("PATCH", "/api/v1/guests/me", {"display_name": "Innocent"}),
            ("POST", f"/api/v1/rooms/{slug}/messages", {"text": "still here"}),
            ("DELETE", f"/api/v1/rooms/{slug}/messages/{message}", None),
            ("POST", f"/api/v1/rooms/{slug}/lock", None),
        ]
        for method, path, body in writes:
            answer = http.request(method, path, json=body, headers=owner)
            assert answer.status_code == 403 and "banned" in answer.json()["detail"], (method, path, answer.text)
        assert http.get(f"/api/v1/rooms/{slug}/messages").json()["messages"][0]["text"] == "mine"
        assert http.get("/api/v1/guests/me", headers=owner).json()["display_name"] == "Owner"
        assert http.delete(f"/api/v1/admin/guests/{me}/ban", headers=admin_headers).status_code == 200
        assert http.post(f"/api/v1/rooms/{other}/join", headers=owner).status_code == 200


def admin_refusal(answer: httpx.Response) -> str:
    """How the admin API refused: a wrong token is always 401 (CONTRACT §5); 'judged' when the token
    was compared, 'shut out' while the address backs off (Retry-After says how long)."""
    assert answer.status_code == 401, answer.text
    if "Retry-After" not in answer.headers:
        return "judged"
    assert int(answer.headers["Retry-After"]) >= 1 and "wrong tokens" in answer.json()["detail"]
    return "shut out"


def test_wrong_admin_tokens_back_off_per_client_address(limited: AppProcess) -> None:
    with client(limited, forwarded_for="198.51.100.60") as guesser, client(limited, forwarded_for="198.51.100.9") as ok:
        kinds = []
        for number in range(50):
            answer = guesser.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer guess-{number}"})
            kinds.append(admin_refusal(answer))
        # Ten typos are judged at once; then the address is shut out for longer and longer.
        assert kinds[:FREE_FAILURES] == ["judged"] * FREE_FAILURES, kinds
        assert kinds.count("judged") <= FREE_FAILURES + 4 and kinds.count("shut out") >= 36, kinds
        # One more judged failure shuts the address out for seconds: even the right token waits.
        while admin_refusal(guesser.get("/api/v1/admin/audit", headers={"Authorization": "Bearer again"})) != "judged":
            time.sleep(0.05)
        right = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert admin_refusal(guesser.get("/api/v1/admin/audit", headers=right)) == "shut out"
        assert ok.get("/api/v1/admin/audit", headers=right).status_code == 200  # another address is not shut out
    with client(limited, forwarded_for="198.51.100.62") as forgetful:
        for _ in range(20):  # no token at all is no guess: plain 401s, never a back-off
            assert forgetful.get("/api/v1/admin/audit").status_code == 401


def test_the_admin_page_shares_the_back_off_of_the_admin_api(browser: Browser, limited: AppProcess) -> None:
    """Wrong tokens sent to the API from the browser's address (127.0.0.1) shut its sign-in out too."""
    failures, deadline = 0, time.monotonic() + 30
    with client(limited) as api:
        while failures < FREE_FAILURES + 6 and time.monotonic() < deadline:  # then shut out for 8 s
            kind = admin_refusal(api.get("/api/v1/admin/audit", headers={"Authorization": "Bearer nope"}))
            failures += kind == "judged"
            if kind == "shut out":
                time.sleep(0.1)
    assert failures == FREE_FAILURES + 6
    with page_opener(browser, limited.url) as new_page:
        page = new_page("/admin")
        page.get_by_test_id("admin-token-input").fill(ADMIN_TOKEN)
        page.get_by_test_id("admin-sign-in").click()
        expect(page.get_by_text("Too many wrong tokens")).to_be_visible(timeout=5_000)
        expect(page.get_by_test_id("admin-overview")).to_have_count(0)
        # Once the shut-out ends, the right token signs in.
        deadline = time.monotonic() + 20
        while page.get_by_test_id("admin-overview").count() == 0:
            assert time.monotonic() < deadline, "the right token never signed in after the back-off"
            page.wait_for_timeout(1_000)
            if page.get_by_test_id("admin-sign-in").count():
                page.get_by_test_id("admin-sign-in").click()


def test_a_banned_visitor_gets_a_notice_for_each_refused_action(browser: Browser, limited: AppProcess) -> None:
    admin_headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with client(limited, forwarded_for="192.0.2.30") as http, page_opener(browser, limited.url) as new_page:
        slug = http.post("/api/v1/rooms", json={"name": unique("Hall")}, headers=new_guest(http)).json()["slug"]
        page = open_room(new_page, slug)
        send(page, "before the ban")
        expect(page.get_by_test_id("message-text")).to_have_text(["before the ban"], timeout=5_000)
        me = http.get(f"/api/v1/rooms/{slug}/messages").json()["messages"][0]["author"]["id"]
        assert http.post(f"/api/v1/admin/guests/{me}/ban", headers=admin_headers).status_code == 200
        banned = page.locator(".q-notification").filter(has_text="banned")
        page.get_by_test_id("profile-button").click()
        page.get_by_test_id("display-name-input").fill("New me")
        page.get_by_test_id("display-name-save").click()
        expect(banned).to_have_count(1, timeout=5_000)
        page.keyboard.press("Escape")
        page.goto("/")
        page.get_by_test_id("create-room-button").click()
        page.get_by_test_id("room-name-input").fill(unique("Banned room"))
        page.get_by_test_id("create-room-submit").click()
        expect(banned).to_have_count(1, timeout=5_000)
        expect(page).to_have_url(f"{limited.url}/")  # no room was made


def test_past_the_guest_budget_a_new_browser_reads_but_cannot_write(browser: Browser, tmp_path) -> None:
    """Browsers' first visits have a budget of their own, ten times the API's (a school behind one
    address opens many pages at once; scripts mint through the API), and past it read only."""
    with (
        running_app(tmp_path / "logs", CHAT_DATA_DIR=str(tmp_path), CHAT_GUEST_RATE_LIMIT="1/10min") as app,
        page_opener(browser, app.url) as new_page,
        httpx.Client(base_url=app.url, timeout=10) as http,
    ):
        assert http.post("/api/v1/guests", json={"display_name": "Script"}).status_code == 201
        assert http.post("/api/v1/guests", json={"display_name": "Script"}).status_code == 429
        for _ in range(10):  # the address's ten browser guests for now, untouched by the API's budget
            first = new_page("/")
            expect(first.get_by_test_id("current-user-name")).to_have_text(re.compile(r"^Guest \d+$"), timeout=5_000)
            first.close()
        second = new_page("/")
        expect(second.get_by_text("you can read but not write yet")).to_be_visible(timeout=5_000)
        expect(second.get_by_test_id("current-user-name")).to_have_text("Visitor (read-only)")
        second.get_by_test_id("create-room-button").click()
        second.get_by_test_id("room-name-input").fill("Not mine")
        second.get_by_test_id("create-room-submit").click()
        expect(second.locator(".q-notification").filter(has_text="no guest identity")).to_be_visible(timeout=5_000)

"""The room list at scale (#13, item 10): keyset pages, a name filter, and the page `/` that loads
more as the visitor scrolls. Service tests run on SQLite and PostgreSQL; API tests against the real
app on both; the browser test in real Chromium."""

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update
from sqlmodel import Session, col

from models.room import Room
from services import guests, messages, rooms
from services.errors import InvalidInput
from tests.pages import PageOpener, page_opener
from tests.support import ROOT, AppProcess, running_app, unique

ARTIFACTS = ROOT / "test-artifacts"


def make_guest(session: Session) -> int:
    guest = guests.create_guest(session=session, display_name="Ada")
    session.commit()
    return guest.id


def make_rooms(session: Session, owner: int, names: list[str]) -> list[str]:
    slugs = [rooms.create_room(session=session, owner_id=owner, name=name).slug for name in names]
    session.commit()
    return slugs


def walk(session: Session, *, limit: int, query: str = "", between_pages: object = None) -> list[str]:
    """Every room name, page by page, as a client following the cursor would see them."""
    names: list[str] = []
    cursor = None
    for _ in range(1000):  # bounded: a cursor that never ends is a failure, not a hang
        page = rooms.page_rooms(session=session, limit=limit, before=cursor, query=query)
        assert len(page.rooms) <= limit
        names += [room.name for room in page.rooms]
        if page.next_cursor is None:
            return names
        cursor = page.next_cursor
        if callable(between_pages):
            between_pages()
    raise AssertionError("paging did not end")


# The service, on SQLite and PostgreSQL.


def test_pages_walk_every_room_once_by_latest_activity(session: Session) -> None:
    owner = make_guest(session)
    names = [f"Room {number:02}" for number in range(23)]
    make_rooms(session, owner, names)
    messages.send_message(session=session, room_slug="room-05", author_id=owner, text="bump")
    session.commit()
    expected = ["Room 05", *reversed([name for name in names if name != "Room 05"])]
    assert [room.name for room in rooms.page_rooms(session=session, limit=100).rooms] == expected
    for limit in (1, 5, 10, 22, 23):
        assert walk(session, limit=limit) == expected
    last = rooms.page_rooms(session=session, limit=23)
    assert last.next_cursor is None  # exactly one page: no empty page after it
    assert rooms.page_rooms(session=session, limit=10).next_cursor is not None


def test_rooms_with_the_same_activity_are_ordered_by_id_across_pages(session: Session) -> None:
    owner = make_guest(session)
    make_rooms(session, owner, [f"Tied {number}" for number in range(7)])
    same_moment = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    session.exec(update(Room).values(last_activity_at=same_moment))  # type: ignore[call-overload]
    session.commit()
    expected = [f"Tied {number}" for number in reversed(range(7))]
    for limit in (1, 2, 3, 6):
        assert walk(session, limit=limit) == expected


def test_rooms_that_get_messages_while_someone_pages_never_repeat_nor_hide_others(session: Session) -> None:
    owner = make_guest(session)
    slugs = make_rooms(session, owner, [f"Busy {number:02}" for number in range(30)])
    bumped: list[str] = []

    def bump_the_oldest_not_yet_bumped() -> None:
        # The rooms not yet seen move to the top, above the cursor: as in a busy service.
        slug = next(slug for slug in slugs if slug not in bumped)
        bumped.append(slug)
        messages.send_message(session=session, room_slug=slug, author_id=owner, text="meanwhile")
        session.commit()

    seen = walk(session, limit=4, between_pages=bump_the_oldest_not_yet_bumped)
    assert len(seen) == len(set(seen)), "a room was listed twice"
    untouched = {f"Busy {number:02}" for number in range(30)} - {name.replace("busy-", "Busy ") for name in bumped}
    assert untouched <= set(seen), "a room that did not move went missing"
    # The moved rooms are at the top of a fresh first page, where a live list puts them.
    first = rooms.page_rooms(session=session, limit=len(bumped)).rooms
    assert {room.slug for room in first} == set(bumped)


def test_the_filter_matches_part_of_a_name_ignoring_case(session: Session) -> None:
    owner = make_guest(session)
    make_rooms(session, owner, ["Gardening Club", "garden party", "Kitchen", "100% pure", "under_score", "ÉTÉ 2030"])
    assert walk(session, limit=1, query="GARDEN") == ["garden party", "Gardening Club"]
    assert walk(session, limit=50, query="  garden party ") == ["garden party"]
    assert walk(session, limit=50, query="%") == ["100% pure"]  # LIKE's wildcards are plain characters
    assert walk(session, limit=50, query="_") == ["under_score"]
    assert walk(session, limit=50, query="été") == ["ÉTÉ 2030"]
    assert walk(session, limit=50, query="nothing like it") == []
    assert len(walk(session, limit=50, query="   ")) == 6  # a blank filter filters nothing


def test_private_rooms_are_not_listed(session: Session) -> None:
    owner = make_guest(session)
    make_rooms(session, owner, ["Open", "Hidden"])
    session.exec(update(Room).where(col(Room.name) == "Hidden").values(is_private=True))  # type: ignore[call-overload]
    session.commit()
    assert walk(session, limit=1) == ["Open"]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "abc",
        "1_",
        "_1",
        "1-2",
        "12.5_3",
        "1_2_3",
        " 1_2",
        "999999999999999999_1",
        "1_99999999999999999999",
        "1_\x00",
    ],
)
def test_a_cursor_that_no_page_gave_is_refused(session: Session, cursor: str) -> None:
    with pytest.raises(InvalidInput):
        rooms.page_rooms(session=session, before=cursor)


def test_a_limit_out_of_range_and_a_nul_in_the_filter_are_refused(session: Session) -> None:
    for limit in (0, 101):
        with pytest.raises(InvalidInput):
            rooms.page_rooms(session=session, limit=limit)
    with pytest.raises(InvalidInput):
        rooms.page_rooms(session=session, query="a\x00b")


# The API, against the real app on SQLite and on PostgreSQL with Redis.


def test_the_api_pages_by_cursor_and_keeps_the_list_shape(api: httpx.Client) -> None:
    token = api.post("/api/v1/guests", json={"display_name": "Pager"}).json()["token"]
    tag = unique("pg")
    created = [
        api.post("/api/v1/rooms", json={"name": f"{tag} {n}"}, headers={"Authorization": f"Bearer {token}"})
        for n in range(5)
    ]
    assert all(response.status_code == 201 for response in created)
    first = api.get("/api/v1/rooms", params={"q": tag.upper(), "limit": 2})
    assert first.status_code == 200 and isinstance(first.json(), list)
    assert [room["name"] for room in first.json()] == [f"{tag} 4", f"{tag} 3"]
    cursor = first.headers["X-Next-Cursor"]
    assert first.headers["Link"] == f'</api/v1/rooms?limit=2&q={tag.upper()}&before={cursor}>; rel="next"'
    names = [room["name"] for room in first.json()]
    response = first
    for _ in range(10):
        if "Link" not in response.headers:
            break
        response = api.get(response.headers["Link"].split(">")[0].lstrip("<"))
        assert response.status_code == 200
        names += [room["name"] for room in response.json()]
    assert names == [f"{tag} {n}" for n in reversed(range(5))]
    assert "X-Next-Cursor" not in response.headers  # the last page says it is the last
    # Without parameters: the newest 50 at most, the same shape as before paging existed.
    assert len(api.get("/api/v1/rooms").json()) <= 50


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": 99999999999999999999},
        {"before": "not-a-cursor"},
        {"before": "999999999999999999_1"},
        {"before": "1_99999999999999999999"},
        {"q": "a\x00b"},
        {"q": "x" * 201},
    ],
)
def test_bad_paging_parameters_are_a_clear_422(api: httpx.Client, params: dict[str, object]) -> None:
    response = api.get("/api/v1/rooms", params=params)
    assert response.status_code == 422 and response.json()["detail"]


def test_the_schema_documents_the_paging_headers(api: httpx.Client) -> None:
    schema = api.get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/rooms"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"limit", "before", "q"}
    assert set(operation["responses"]["200"]["headers"]) == {"X-Next-Cursor", "Link"}


# The page `/` in real Chromium.

ROOMS_IN_BROWSER_TEST = 120


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """An app of its own with 120 rooms, so that other tests' rooms do not change the count."""
    data_dir = tmp_path_factory.mktemp("crowded")
    with running_app(data_dir / "logs", CHAT_DATA_DIR=str(data_dir)) as app:
        with httpx.Client(base_url=app.url, timeout=10) as client:
            token = client.post("/api/v1/guests", json={"display_name": "Founder"}).json()["token"]
            for number in range(ROOMS_IN_BROWSER_TEST):
                name = f"Room {number:03} {'Zebra crossing' if number == 7 else 'talk'}"
                response = client.post(
                    "/api/v1/rooms", json={"name": name}, headers={"Authorization": f"Bearer {token}"}
                )
                assert response.status_code == 201, response.text
        yield app


@pytest.fixture
def on_crowded(browser: Browser, crowded: AppProcess) -> Iterator[PageOpener]:
    with page_opener(browser, crowded.url) as open_page:
        yield open_page


def room_names(page: Page) -> list[str]:
    return page.get_by_test_id("room-item").get_by_test_id("room-name").all_inner_texts()


def test_the_room_list_loads_more_as_the_visitor_scrolls(on_crowded: PageOpener) -> None:
    page = on_crowded("/")
    items = page.get_by_test_id("room-item")
    expect(items).to_have_count(50)
    assert room_names(page)[:2] == ["Room 119 talk", "Room 118 talk"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "room-list-1280.png"))
    for _ in range(20):  # bounded: each scroll to the end loads at most one page more
        if items.count() == ROOMS_IN_BROWSER_TEST:
            break
        items.last.scroll_into_view_if_needed()
        page.mouse.wheel(0, 5000)
        page.wait_for_timeout(300)
    expect(items).to_have_count(ROOMS_IN_BROWSER_TEST)
    names = room_names(page)
    assert names == [f"Room {n:03} {'Zebra crossing' if n == 7 else 'talk'}" for n in reversed(range(120))]
    expect(page.get_by_test_id("room-list-end")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "room-list-1280-end.png"))


def test_the_filter_box_narrows_the_list_as_you_type(on_crowded: PageOpener) -> None:
    page = on_crowded("/", width=390, height=844)
    expect(page.get_by_test_id("room-item")).to_have_count(50)
    page.get_by_test_id("room-filter").fill("zebra")
    expect(page.get_by_test_id("room-item")).to_have_count(1)
    expect(page.get_by_test_id("room-item")).to_contain_text("Room 007 Zebra crossing")
    page.screenshot(path=str(ARTIFACTS / "room-list-390-filtered.png"))
    page.get_by_test_id("room-filter").fill("no room is called this")
    expect(page.get_by_test_id("room-item")).to_have_count(0)
    expect(page.get_by_text("No room matches")).to_be_visible()
    page.get_by_test_id("room-filter").fill("")
    expect(page.get_by_test_id("room-item")).to_have_count(50)
    page.screenshot(path=str(ARTIFACTS / "room-list-390.png"))


def test_a_new_room_and_new_activity_show_live_at_the_top(on_crowded: PageOpener, crowded: AppProcess) -> None:
    page = on_crowded("/")
    expect(page.get_by_test_id("room-item")).to_have_count(50)
    with httpx.Client(base_url=crowded.url, timeout=10) as client:
        auth = {"Authorization": f"Bearer {client.post('/api/v1/guests', json={}).json()['token']}"}
        # A room far below the first page gets a message: it comes to the top, once.
        assert client.post("/api/v1/rooms/room-003-talk/messages", json={"text": "hi"}, headers=auth).status_code == 201
        expect(page.get_by_test_id("room-item").first).to_contain_text("Room 003 talk", timeout=2_000)
        name = unique("Brand new")
        assert client.post("/api/v1/rooms", json={"name": name}, headers=auth).status_code == 201
        expect(page.get_by_test_id("room-item").first).to_contain_text(name, timeout=2_000)
    assert room_names(page).count("Room 003 talk") == 1
    # The page keeps paging below what arrived live, without repeating it.
    items = page.get_by_test_id("room-item")
    for _ in range(20):
        if items.count() >= ROOMS_IN_BROWSER_TEST + 1:
            break
        items.last.scroll_into_view_if_needed()
        page.mouse.wheel(0, 5000)
        page.wait_for_timeout(300)
    expect(items).to_have_count(ROOMS_IN_BROWSER_TEST + 1)
    names = room_names(page)
    assert len(names) == len(set(names))

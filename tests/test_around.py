"""A message in its context (CONTRACT §7): `page_around` on SQLite and PostgreSQL, and
`GET /rooms/{slug}/messages?around=ID` over HTTP against the real app on both backends.

A window holds the message and up to `limit` messages in all around it, oldest first: about half
older, half newer, the other side filling in where one runs short; `has_more` says older ones
exist, `has_newer` newer ones. Deleted messages are never in it, and never its centre."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import Session

from models.message import MessageWindow
from services import guests, messages, moderation, rooms
from services.database import Database
from services.errors import InvalidInput, NotFound
from tests.support import AppProcess, unique

# Service


def make_guest(session: Session, name: str) -> int:
    guest = guests.create_guest(session=session, display_name=name)
    session.commit()
    return guest.id


def make_room(session: Session, owner_id: int, name: str = "Lobby") -> str:
    slug = rooms.create_room(session=session, owner_id=owner_id, name=name).slug
    session.commit()
    return slug


def fill(session: Session, slug: str, author_id: int, count: int) -> list[int]:
    """`count` messages, "m0" the oldest; their ids, oldest first."""
    ids = []
    for n in range(count):
        ids.append(messages.send_message(session=session, room_slug=slug, author_id=author_id, text=f"m{n}").id)
        session.commit()
    return ids


def around(session: Session, slug: str, message_id: int, limit: int = 11) -> MessageWindow:
    return messages.page_around(session=session, room_slug=slug, around=message_id, limit=limit)


def texts(window: MessageWindow) -> list[str]:
    return [message.text for message in window.messages]


@pytest.fixture
def room(session: Session) -> tuple[str, list[int]]:
    """A room of 30 messages, m0 … m29."""
    ada = make_guest(session, "Ada")
    slug = make_room(session, ada)
    return slug, fill(session, slug, ada, 30)


def test_a_window_in_the_middle_holds_as_many_older_messages_as_newer(
    session: Session, room: tuple[str, list[int]]
) -> None:
    slug, ids = room
    window = around(session, slug, ids[15], limit=11)
    assert texts(window) == [f"m{n}" for n in range(10, 21)]  # five each side of m15
    assert window.has_more and window.has_newer
    even = around(session, slug, ids[15], limit=10)  # an odd place over goes to the older side
    assert texts(even) == [f"m{n}" for n in range(10, 20)]
    assert [m.id for m in window.messages] == sorted(m.id for m in window.messages)


def test_near_the_start_the_newer_side_fills_the_window(session: Session, room: tuple[str, list[int]]) -> None:
    slug, ids = room
    window = around(session, slug, ids[2], limit=11)
    assert texts(window) == [f"m{n}" for n in range(0, 11)]
    assert not window.has_more and window.has_newer
    first = around(session, slug, ids[0], limit=5)
    assert texts(first) == ["m0", "m1", "m2", "m3", "m4"] and not first.has_more and first.has_newer


def test_near_the_end_the_older_side_fills_the_window(session: Session, room: tuple[str, list[int]]) -> None:
    slug, ids = room
    window = around(session, slug, ids[28], limit=11)
    assert texts(window) == [f"m{n}" for n in range(19, 30)]
    assert window.has_more and not window.has_newer
    newest = around(session, slug, ids[29], limit=3)
    assert texts(newest) == ["m27", "m28", "m29"] and newest.has_more and not newest.has_newer


def test_limit_bounds(session: Session, room: tuple[str, list[int]]) -> None:
    slug, ids = room
    alone = around(session, slug, ids[7], limit=1)
    assert texts(alone) == ["m7"] and alone.has_more and alone.has_newer
    everything = around(session, slug, ids[7], limit=100)
    assert texts(everything) == [f"m{n}" for n in range(30)]
    assert not everything.has_more and not everything.has_newer
    exact = around(session, slug, ids[14], limit=30)  # the whole room exactly: nothing beyond either way
    assert len(exact.messages) == 30 and not exact.has_more and not exact.has_newer
    one_short = around(session, slug, ids[14], limit=29)
    assert len(one_short.messages) == 29 and one_short.has_more != one_short.has_newer
    for limit in (0, 101):
        with pytest.raises(InvalidInput, match="limit"):
            around(session, slug, ids[7], limit=limit)


def test_deleted_messages_are_never_in_a_window_nor_its_centre(session: Session, room: tuple[str, list[int]]) -> None:
    slug, ids = room
    for gone in (ids[14], ids[16], ids[17]):
        moderation.delete_message(session=session, message_id=gone, by=moderation.ADMIN)
        session.commit()
    window = around(session, slug, ids[15], limit=7)
    assert texts(window) == ["m11", "m12", "m13", "m15", "m18", "m19", "m20"]
    with pytest.raises(NotFound, match=f"no message {ids[14]} in '{slug}'"):
        around(session, slug, ids[14])


def test_another_rooms_message_or_an_unknown_id_is_not_found(session: Session, room: tuple[str, list[int]]) -> None:
    slug, ids = room
    bo = make_guest(session, "Bo")
    other = make_room(session, bo, "Elsewhere")
    theirs = fill(session, other, bo, 3)
    with pytest.raises(NotFound, match=f"no message {theirs[1]} in '{slug}'"):
        around(session, slug, theirs[1])
    with pytest.raises(NotFound, match=f"no message {ids[0]} in '{other}'"):
        around(session, other, ids[0])
    with pytest.raises(NotFound, match="no message 999999"):
        around(session, slug, 999_999)
    with pytest.raises(NotFound, match="no room 'nowhere'"):
        around(session, "nowhere", ids[0])


def test_a_window_costs_the_same_few_queries_however_large(
    db: Database, session: Session, room: tuple[str, list[int]]
) -> None:
    slug, ids = room
    statements: list[Any] = []

    def count(*_: Any) -> None:
        statements.append(1)

    for limit in (3, 30, 100):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            db.read(messages.page_around, room_slug=slug, around=ids[15], limit=limit)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(statements) <= 4, limit  # older side, newer side, reactions, mentions


# HTTP


def new_guest(api: httpx.Client, name: str = "Ada") -> dict[str, str]:
    response = api.post("/api/v1/guests", json={"display_name": name})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def filled(api: httpx.Client) -> Iterator[tuple[dict[str, str], str, list[int]]]:
    """A guest's room of 30 messages over HTTP: (auth, slug, ids oldest first)."""
    auth = new_guest(api)
    response = api.post("/api/v1/rooms", json={"name": unique("Around")}, headers=auth)
    assert response.status_code == 201, response.text
    slug = response.json()["slug"]
    ids = []
    for n in range(30):
        sent = api.post(f"/api/v1/rooms/{slug}/messages", json={"text": f"m{n}"}, headers=auth)
        assert sent.status_code == 201, sent.text
        ids.append(sent.json()["id"])
    yield auth, slug, ids


def get_around(api: httpx.Client, slug: str, **params: int) -> httpx.Response:
    return api.get(f"/api/v1/rooms/{slug}/messages", params=params)


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    for word in words:
        assert word in body["detail"], body["detail"]


def test_around_over_http_answers_the_window_with_has_newer(
    api: httpx.Client, filled: tuple[dict[str, str], str, list[int]]
) -> None:
    _, slug, ids = filled
    middle = get_around(api, slug, around=ids[15], limit=5)
    assert middle.status_code == 200, middle.text
    body = middle.json()
    assert set(body) == {"messages", "has_more", "has_newer"}
    assert [m["text"] for m in body["messages"]] == ["m13", "m14", "m15", "m16", "m17"]
    assert body["has_more"] is True and body["has_newer"] is True
    assert body["messages"][2]["id"] == ids[15] and body["messages"][2]["room"] == slug
    start = get_around(api, slug, around=ids[1], limit=5).json()
    assert [m["text"] for m in start["messages"]] == ["m0", "m1", "m2", "m3", "m4"]
    assert (start["has_more"], start["has_newer"]) == (False, True)
    end = get_around(api, slug, around=ids[29]).json()  # the default limit, 50: the whole room
    assert [m["text"] for m in end["messages"]] == [f"m{n}" for n in range(30)]
    assert (end["has_more"], end["has_newer"]) == (False, False)


def test_pages_without_around_keep_their_two_keys(
    api: httpx.Client, filled: tuple[dict[str, str], str, list[int]]
) -> None:
    _, slug, ids = filled
    for params in ({}, {"before": ids[10]}, {"after": ids[10]}):
        body = api.get(f"/api/v1/rooms/{slug}/messages", params={**params, "limit": 3}).json()
        assert set(body) == {"messages", "has_more"}, params


def test_around_refuses_what_it_cannot_answer(api: httpx.Client, filled: tuple[dict[str, str], str, list[int]]) -> None:
    auth, slug, ids = filled
    assert_error(get_around(api, slug, around=ids[5], before=ids[9]), 422, "around", "before")
    assert_error(get_around(api, slug, around=ids[5], after=ids[1]), 422, "around")
    for limit in (0, 101):
        assert_error(get_around(api, slug, around=ids[5], limit=limit), 422, "limit")
    for bad in (0, -1, 2**31, 2**63):
        assert_error(get_around(api, slug, around=bad), 422, "around")
    deleted = api.delete(f"/api/v1/rooms/{slug}/messages/{ids[5]}", headers=auth)
    assert deleted.status_code == 204, deleted.text
    assert_error(get_around(api, slug, around=ids[5]), 404, f"no message {ids[5]} in '{slug}'")
    response = api.post("/api/v1/rooms", json={"name": unique("Other")}, headers=auth)
    other = response.json()["slug"]
    assert_error(get_around(api, other, around=ids[6]), 404, f"no message {ids[6]} in '{other}'")
    assert_error(get_around(api, "no-such-room", around=ids[6]), 404, "no room")


def test_around_in_a_private_room_answers_its_members_only(api: httpx.Client, app_server: AppProcess) -> None:
    owner, stranger = new_guest(api, "Owner"), new_guest(api, "Stranger")
    response = api.post("/api/v1/rooms", json={"name": unique("Hidden"), "is_private": True}, headers=owner)
    assert response.status_code == 201, response.text
    assert response.json()["is_private"] is True, "private rooms are made (CONTRACT §7)"
    slug = response.json()["slug"]
    sent = api.post(f"/api/v1/rooms/{slug}/messages", json={"text": "just us"}, headers=owner).json()
    path = f"/api/v1/rooms/{slug}/messages"
    member = api.get(path, params={"around": sent["id"]}, headers=owner)
    assert member.status_code == 200 and [m["text"] for m in member.json()["messages"]] == ["just us"]
    for headers in (stranger, {}):
        assert_error(api.get(path, params={"around": sent["id"]}, headers=headers), 404, f"no room '{slug}'")
        assert_error(api.get(path, headers=headers), 404, f"no room '{slug}'")


def test_the_schema_documents_the_window_and_the_around_parameter(api: httpx.Client) -> None:
    schema = api.get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/rooms/{slug}/messages"]["get"]
    around_param = next(p for p in operation["parameters"] if p["name"] == "around")
    bounds = next(option for option in around_param["schema"]["anyOf"] if option.get("type") == "integer")
    assert (bounds["minimum"], bounds["maximum"]) == (1, 2**31 - 1)
    answers = operation["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
    names = [answer["$ref"].rsplit("/", 1)[-1] for answer in answers]
    assert names == ["MessageWindow", "MessagePage"]  # a client tries the window first
    window = schema["components"]["schemas"]["MessageWindow"]
    assert set(window["required"]) == {"messages", "has_more", "has_newer"}
    assert "has_newer" not in schema["components"]["schemas"]["MessagePage"]["properties"]
    assert {"404", "422"} <= set(operation["responses"])

"""Typing, presence and unread counts (CONTRACT §6): the services on SQLite and PostgreSQL, presence
on memory and real Redis (two instances sharing one Redis), and the API against the real app."""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import event

from chat_ui.room.presence_panel import LISTED_MAX, presence_html
from models.guest import GuestPublic
from services import guests, messages, moderation, rooms, typing, unread
from services.audit import ADMIN
from services.bus import EventBus, Subscription
from services.database import Database
from services.errors import Forbidden, NotFound
from services.events import guest_channel, room_channel
from services.presence import MemoryPresenceStore, Presence, PresenceStore, RedisPresenceStore
from services.unread import ReadMarks
from tests.support import AppProcess, unique

TIMEOUT = 5.0  # seconds to wait for an event that should arrive
QUIET = 0.3  # seconds to wait for one that should not
SHORT_TTL = 5 * QUIET  # presence expiry in these tests: outlasts a few quiet waits, short to wait out


async def next_event(subscription: Subscription, event_type: str) -> dict[str, Any]:
    """The next event of this type on the subscription (others, e.g. room.updated, are skipped)."""
    while True:
        item = await subscription.get(timeout=TIMEOUT)
        if isinstance(item, dict) and item.get("type") == event_type:
            return item


async def assert_no_event(subscription: Subscription, event_type: str) -> None:
    try:
        while True:
            item = await subscription.get(timeout=QUIET)
            assert not (isinstance(item, dict) and item.get("type") == event_type), item
    except TimeoutError:
        pass


async def new_guest(db: Database, name: str) -> GuestPublic:
    return await db.run(guests.create_guest, display_name=name)


async def room_with_messages(db: Database, owner: GuestPublic, count: int) -> tuple[str, list[int]]:
    slug = (await db.run(rooms.create_room, owner_id=owner.id, name=unique("Room"))).slug
    ids = [
        (await db.run(messages.send_message, room_slug=slug, author_id=owner.id, text=f"m{i}")).id for i in range(count)
    ]
    return slug, ids


# Typing (services)


async def test_typing_reaches_the_room_once_per_burst(db: Database, bus: EventBus) -> None:
    ada = await new_guest(db, "Ada")
    slug, _ = await room_with_messages(db, ada, 0)
    throttle = typing.TypingThrottle()
    async with bus.subscribe(room_channel(slug)) as subscription:
        for _ in range(5):  # keystrokes in quick succession
            await db.run(typing.announce_typing, room_slug=slug, guest_id=ada.id, throttle=throttle)
        started = await next_event(subscription, "typing.started")
        assert started["guest"] == {"id": ada.id, "display_name": "Ada"} and started["room"] == slug
        await assert_no_event(subscription, "typing.started")


async def test_typing_is_refused_where_posting_is(db: Database) -> None:
    ada, bo, cy = [await new_guest(db, name) for name in ("Ada", "Bo", "Cy")]
    slug, _ = await room_with_messages(db, ada, 0)
    throttle = typing.TypingThrottle()
    with pytest.raises(NotFound):
        await db.run(typing.announce_typing, room_slug="no-such-room", guest_id=ada.id, throttle=throttle)
    await db.run(moderation.ban_guest, guest_id=bo.id, by=ADMIN)
    with pytest.raises(Forbidden, match="banned"):
        await db.run(typing.announce_typing, room_slug=slug, guest_id=bo.id, throttle=throttle)
    await db.run(rooms.join_room, slug=slug, guest_id=cy.id)
    await db.run(moderation.remove_guest_from_room, slug=slug, guest_id=cy.id, by=ada.id)
    with pytest.raises(Forbidden, match="removed"):
        await db.run(typing.announce_typing, room_slug=slug, guest_id=cy.id, throttle=throttle)
    await db.run(moderation.lock_room, slug=slug, by=ada.id)
    with pytest.raises(Forbidden, match="locked"):
        await db.run(typing.announce_typing, room_slug=slug, guest_id=ada.id, throttle=throttle)


# Presence (memory and Redis)


@pytest.fixture(params=["memory", "redis"])
def presence_store_factory(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Makes stores that share one place, as instances share one Redis."""
    if request.param == "memory":
        shared = MemoryPresenceStore()
        yield lambda: shared
        return
    url, prefix = request.getfixturevalue("redis_url"), unique("presence")
    yield lambda: RedisPresenceStore(url, prefix=prefix)


@pytest.fixture
async def instances(
    db: Database, bus: EventBus, presence_store_factory: Any
) -> AsyncIterator[tuple[Presence, Presence]]:
    """Two instances' presence on one store (heartbeats are driven by hand, see SHORT_TTL)."""
    first = Presence(presence_store_factory(), db=db, instance_id="one", ttl=SHORT_TTL, heartbeat=3600)
    second = Presence(presence_store_factory(), db=db, instance_id="two", ttl=SHORT_TTL, heartbeat=3600)
    yield first, second
    for presence in (first, second):
        await presence.stop()


def names(online: list[GuestPublic] | list[dict[str, Any]]) -> list[str]:
    return [g.display_name if isinstance(g, GuestPublic) else g["display_name"] for g in online]


async def test_entering_and_leaving_are_announced_and_tabs_count_once(
    db: Database, bus: EventBus, instances: tuple[Presence, Presence]
) -> None:
    presence, _ = instances
    ada = await new_guest(db, "Ada")
    slug, _ = await room_with_messages(db, ada, 0)
    async with bus.subscribe(room_channel(slug)) as subscription:
        await presence.enter(slug, ada)
        assert names((await next_event(subscription, "presence.changed"))["online"]) == ["Ada"]
        await presence.enter(slug, ada)  # a second tab
        await assert_no_event(subscription, "presence.changed")
        await presence.leave(slug, ada.id)  # one tab closed, one still open
        await assert_no_event(subscription, "presence.changed")
        assert names(await presence.online(slug)) == ["Ada"]
        await presence.leave(slug, ada.id)
        assert (await next_event(subscription, "presence.changed"))["online"] == []
    assert await presence.online(slug) == []


async def test_two_instances_agree_and_a_guest_on_both_counts_once(
    db: Database, bus: EventBus, instances: tuple[Presence, Presence]
) -> None:
    one, two = instances
    ada, bo = await new_guest(db, "Ada"), await new_guest(db, "Bo")
    slug, _ = await room_with_messages(db, ada, 0)
    await one.enter(slug, bo)
    await two.enter(slug, ada)
    await two.enter(slug, bo)  # Bo has the room open on both instances
    assert names(await one.online(slug)) == names(await two.online(slug)) == ["Ada", "Bo"]
    async with bus.subscribe(room_channel(slug)) as subscription:
        await one.leave(slug, bo.id)  # still open on the other instance: nothing changed
        await assert_no_event(subscription, "presence.changed")
        await two.leave(slug, bo.id)
        assert names((await next_event(subscription, "presence.changed"))["online"]) == ["Ada"]
    assert names(await one.online(slug)) == ["Ada"]


async def test_a_crashed_instances_viewers_expire_and_a_heartbeat_keeps_the_living(
    db: Database, bus: EventBus, instances: tuple[Presence, Presence]
) -> None:
    crashed, alive = instances
    ada, bo = await new_guest(db, "Ada"), await new_guest(db, "Bo")
    slug, _ = await room_with_messages(db, ada, 0)
    await crashed.enter(slug, ada)
    await alive.enter(slug, bo)
    crashed._local.clear()  # it dies: nobody refreshes or removes Ada's entry any more
    async with bus.subscribe(room_channel(slug)) as subscription:
        for _ in range(5):  # past the expiry; the living instance's heartbeat keeps Bo
            await asyncio.sleep(SHORT_TTL / 3)
            await alive.beat()
        assert names((await next_event(subscription, "presence.changed"))["online"]) == ["Bo"]
    assert names(await alive.online(slug)) == ["Bo"]


async def test_the_list_shows_names_as_they_are_now(
    db: Database, bus: EventBus, instances: tuple[Presence, Presence]
) -> None:
    presence, _ = instances
    ada = await new_guest(db, "Ada")
    slug, _ = await room_with_messages(db, ada, 0)
    await presence.enter(slug, ada)
    await db.run(guests.rename_guest, guest_id=ada.id, display_name="Ada Lovelace", by=ada.id)
    assert names(await presence.online(slug)) == ["Ada Lovelace"]


async def test_the_heartbeat_task_keeps_entries_alive(db: Database, bus: EventBus, presence_store_factory: Any) -> None:
    store: PresenceStore = presence_store_factory()
    presence = Presence(store, db=db, instance_id="solo", ttl=0.5, heartbeat=0.15)
    ada = await new_guest(db, "Ada")
    await presence.start()
    try:
        await presence.enter("lobby", ada)
        await asyncio.sleep(1.2)
        assert names(await presence.online("lobby")) == ["Ada"]
    finally:
        await presence.stop()
    observer = Presence(presence_store_factory(), db=db, instance_id="observer")
    assert await observer.online("lobby") == []  # stopping took its entries out at once
    await observer.stop()


# Read positions and unread counts (services)


async def test_mark_read_moves_forward_only_and_tells_the_guests_pages(db: Database, bus: EventBus) -> None:
    ada, bo = await new_guest(db, "Ada"), await new_guest(db, "Bo")
    slug, _ = await room_with_messages(db, ada, 1)
    await db.run(rooms.join_room, slug=slug, guest_id=bo.id)
    ids = [(await db.run(messages.send_message, room_slug=slug, author_id=ada.id, text=t)).id for t in "abc"]
    async with bus.subscribe(guest_channel(bo.id)) as subscription:
        room = await db.run(unread.mark_read, room_slug=slug, guest_id=bo.id, last_read_id=ids[1])
        assert room.unread == 1
        marked = await next_event(subscription, "read.marked")
        assert marked == {"type": "read.marked", "guest_id": bo.id, "room": slug, "last_read_id": ids[1], "unread": 1}
        assert (await db.run(unread.mark_read, room_slug=slug, guest_id=bo.id, last_read_id=ids[0])).unread == 1
        await assert_no_event(subscription, "read.marked")  # an older id moved nothing
    assert (await db.run(unread.mark_read, room_slug=slug, guest_id=bo.id, last_read_id=2**31 - 1)).unread == 0
    newer = await db.run(messages.send_message, room_slug=slug, author_id=ada.id, text="after the huge mark")
    assert (await db.run_read(rooms.get_room, slug=slug, reader_id=bo.id)).unread == 1, newer


async def test_only_members_mark_read(db: Database) -> None:
    ada, cy = await new_guest(db, "Ada"), await new_guest(db, "Cy")
    slug, ids = await room_with_messages(db, ada, 1)
    with pytest.raises(Forbidden):
        await db.run(unread.mark_read, room_slug=slug, guest_id=cy.id, last_read_id=ids[0])
    with pytest.raises(NotFound):
        await db.run(unread.mark_read, room_slug="nowhere", guest_id=cy.id, last_read_id=ids[0])


async def test_posting_joins_with_the_history_read(db: Database) -> None:
    ada, cy = await new_guest(db, "Ada"), await new_guest(db, "Cy")
    slug, _ = await room_with_messages(db, ada, 3)
    await db.run(messages.send_message, room_slug=slug, author_id=cy.id, text="hello, first time here")
    assert (await db.run_read(rooms.get_room, slug=slug, reader_id=cy.id)).unread == 0
    await db.run(messages.send_message, room_slug=slug, author_id=ada.id, text="welcome")
    assert (await db.run_read(rooms.get_room, slug=slug, reader_id=cy.id)).unread == 1


async def test_my_rooms_lists_the_guests_rooms_with_their_unread(db: Database) -> None:
    ada, bo = await new_guest(db, "Ada"), await new_guest(db, "Bo")
    quiet, _ = await room_with_messages(db, ada, 0)
    busy, _ = await room_with_messages(db, ada, 0)
    await room_with_messages(db, ada, 1)  # Bo is not in this one
    for slug in (quiet, busy):
        await db.run(rooms.join_room, slug=slug, guest_id=bo.id)
    for text in ("one", "two"):
        await db.run(messages.send_message, room_slug=busy, author_id=ada.id, text=text)
    mine = await db.run_read(unread.my_rooms, guest_id=bo.id)
    assert [(room.slug, room.unread) for room in mine] == [(busy, 2), (quiet, 0)]


async def test_one_unread_query_per_room_page(db: Database) -> None:
    ada = await new_guest(db, "Ada")
    for _ in range(5):
        await room_with_messages(db, ada, 2)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = await db.run_read(rooms.page_rooms, reader_id=ada.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert [room.unread for room in page.rooms] == [0] * 5
    assert len([s for s in statements if "last_read_id" in s and "count(" in s.lower()]) == 1, statements


# The read-marks batcher


async def test_read_marks_are_written_once_for_many_notes(db: Database, bus: EventBus) -> None:
    ada, bo = await new_guest(db, "Ada"), await new_guest(db, "Bo")
    first, _ = await room_with_messages(db, ada, 0)
    second, _ = await room_with_messages(db, ada, 0)
    ids: dict[str, list[int]] = {}
    for slug in (first, second):
        await db.run(rooms.join_room, slug=slug, guest_id=bo.id)
        sent = [await db.run(messages.send_message, room_slug=slug, author_id=ada.id, text=t) for t in "abcd"]
        ids[slug] = [message.id for message in sent]
    marks = ReadMarks(db, interval=3600)
    for slug in (first, second):
        for message_id in ids[slug][:3]:  # the reader scrolls through three messages of each room
            marks.note(bo.id, slug, message_id)
    marks.note(bo.id, first, ids[first][0])  # seen again: never backwards
    writes: list[str] = []
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lower().startswith("update"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    event.listen(db.engine, "commit", committed)
    async with bus.subscribe(guest_channel(bo.id)) as subscription:
        try:
            assert await marks.flush() == 2
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
            event.remove(db.engine, "commit", committed)
        marked = [await next_event(subscription, "read.marked") for _ in range(2)]
        await assert_no_event(subscription, "read.marked")
    assert len(writes) == 2 and len(commits) == 1, writes  # one UPDATE per changed pair, one transaction
    assert sorted((m["room"], m["last_read_id"], m["unread"]) for m in marked) == sorted(
        [(first, ids[first][2], 1), (second, ids[second][2], 1)]
    )
    assert await marks.flush() == 0  # nothing noted since


async def test_a_flush_costs_a_few_queries_per_room_whatever_the_number_of_readers(db: Database) -> None:
    """Hundreds of pages at the bottom of a busy room, most of them visitors who never joined: the
    flush reads the room, its newest message and the readers' memberships once, and writes one
    UPDATE per member whose position moves. (It read three rows per reader before.)"""
    ada = await new_guest(db, "Ada")
    slug, _ = await room_with_messages(db, ada, 0)
    members = [await new_guest(db, f"Member {n}") for n in range(3)]
    visitors = [await new_guest(db, f"Visitor {n}") for n in range(30)]
    for member in members:
        await db.run(rooms.join_room, slug=slug, guest_id=member.id)
    sent = [await db.run(messages.send_message, room_slug=slug, author_id=ada.id, text=t) for t in "abc"]
    marks = ReadMarks(db, interval=3600)
    for reader in [*members, *visitors]:
        marks.note(reader.id, slug, sent[-1].id)
    marks.note(members[0].id, slug, sent[0].id)  # an older note changes nothing: positions only move forward
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert await marks.flush() == len(members)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert statements.count("UPDATE") == len(members), statements
    assert statements.count("SELECT") <= 3, "the room, its newest message, the memberships: once for all readers"
    mine = await db.run_read(unread.my_rooms, guest_id=members[1].id)
    assert [(room.slug, room.unread) for room in mine] == [(slug, 0)]


async def test_read_marks_survive_a_database_outage(db: Database) -> None:
    ada, bo = await new_guest(db, "Ada"), await new_guest(db, "Bo")
    slug, _ = await room_with_messages(db, ada, 0)
    await db.run(rooms.join_room, slug=slug, guest_id=bo.id)
    sent = await db.run(messages.send_message, room_slug=slug, author_id=ada.id, text="read me")
    down = Database("postgresql+psycopg://nobody@127.0.0.1:1/chat", bus=db.bus)
    marks = ReadMarks(down, interval=3600)
    marks.note(bo.id, slug, sent.id)
    assert await marks.flush() == 0  # refused: kept
    marks.db = db  # the database is back
    assert await marks.flush() == 1
    assert (await db.run_read(rooms.get_room, slug=slug, reader_id=bo.id)).unread == 0
    down.dispose()


# The API, on the real app (SQLite with the in-process bus, PostgreSQL with Redis)


def api_guest(api: httpx.Client, name: str) -> dict[str, str]:
    response = api.post("/api/v1/guests", json={"display_name": name})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def api_room(api: httpx.Client, auth: dict[str, str]) -> str:
    response = api.post("/api/v1/rooms", json={"name": unique("Room")}, headers=auth)
    assert response.status_code == 201, response.text
    return str(response.json()["slug"])


def api_post(api: httpx.Client, auth: dict[str, str], slug: str, text: str) -> int:
    response = api.post(f"/api/v1/rooms/{slug}/messages", json={"text": text}, headers=auth)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def unread_in(api: httpx.Client, slug: str, auth: dict[str, str] | None = None) -> Any:
    response = api.get(f"/api/v1/rooms/{slug}", headers=auth or {})
    assert response.status_code == 200, response.text
    return response.json()["unread"]


def test_unread_counts_over_http(api: httpx.Client) -> None:
    ada, bo = api_guest(api, "Ada"), api_guest(api, "Bo")
    slug = api_room(api, ada)
    api_post(api, ada, slug, "before Bo came")
    assert api.post(f"/api/v1/rooms/{slug}/join", headers=bo).status_code == 200
    assert unread_in(api, slug, bo) == 0  # history is not unread to a newcomer
    ids = [api_post(api, ada, slug, text) for text in ("one", "two", "three")]
    assert unread_in(api, slug, bo) == 3
    assert unread_in(api, slug, ada) == 0  # one's own messages are never unread
    assert unread_in(api, slug) is None  # no token: nobody's count
    other = api_room(api, ada)
    listed = {room["slug"]: room["unread"] for room in api.get("/api/v1/rooms", headers=bo).json()}
    assert listed[slug] == 3 and listed[other] is None  # Bo is not in the other room
    assert all(room["unread"] is None for room in api.get("/api/v1/rooms").json())
    assert api.delete(f"/api/v1/rooms/{slug}/messages/{ids[2]}", headers=ada).status_code == 204
    assert unread_in(api, slug, bo) == 2  # a deleted message is not waiting to be read


def test_a_wrong_token_on_optional_auth_is_401(api: httpx.Client) -> None:
    ada = api_guest(api, "Ada")
    slug = api_room(api, ada)
    wrong = {"Authorization": "Bearer not-a-token"}
    for path in ("/api/v1/rooms", f"/api/v1/rooms/{slug}"):
        response = api.get(path, headers=wrong)
        assert response.status_code == 401 and "token" in response.json()["detail"]


def test_marking_read_over_http(api: httpx.Client) -> None:
    ada, bo, cy = api_guest(api, "Ada"), api_guest(api, "Bo"), api_guest(api, "Cy")
    slug = api_room(api, ada)
    api.post(f"/api/v1/rooms/{slug}/join", headers=bo)
    ids = [api_post(api, ada, slug, text) for text in ("one", "two", "three")]
    read = api.post(f"/api/v1/rooms/{slug}/read", json={"last_read_id": ids[1]}, headers=bo)
    assert read.status_code == 200 and read.json()["unread"] == 1 and read.json()["slug"] == slug
    back = api.post(f"/api/v1/rooms/{slug}/read", json={"last_read_id": ids[0]}, headers=bo)
    assert back.json()["unread"] == 1  # never backwards
    assert unread_in(api, slug, bo) == 1
    forbidden = api.post(f"/api/v1/rooms/{slug}/read", json={"last_read_id": ids[2]}, headers=cy)
    assert forbidden.status_code == 403 and "member" in forbidden.json()["detail"]
    assert api.post(f"/api/v1/rooms/{slug}/read", json={"last_read_id": ids[2]}).status_code == 401
    missing = api.post("/api/v1/rooms/no-such-room/read", json={"last_read_id": 1}, headers=bo)
    assert missing.status_code == 404
    for bad in (-1, "x", 2**40, None):
        response = api.post(f"/api/v1/rooms/{slug}/read", json={"last_read_id": bad}, headers=bo)
        assert response.status_code == 422 and "last_read_id" in response.json()["detail"], bad
    assert api.post(f"/api/v1/rooms/{slug}/read", json={}, headers=bo).status_code == 422


def test_typing_and_presence_errors_over_http(api: httpx.Client) -> None:
    ada, bo = api_guest(api, "Ada"), api_guest(api, "Bo")
    slug = api_room(api, ada)
    for _ in range(3):  # a burst: always 204
        assert api.post(f"/api/v1/rooms/{slug}/typing", headers=bo).status_code == 204
    assert api.post(f"/api/v1/rooms/{slug}/typing").status_code == 401
    assert api.post("/api/v1/rooms/no-such-room/typing", headers=bo).status_code == 404
    bo_id = api.get("/api/v1/guests/me", headers=bo).json()["id"]
    assert api.delete(f"/api/v1/rooms/{slug}/members/{bo_id}", headers=ada).status_code == 200
    removed = api.post(f"/api/v1/rooms/{slug}/typing", headers=bo)
    assert removed.status_code == 403 and "removed" in removed.json()["detail"]
    assert api.post(f"/api/v1/rooms/{slug}/lock", headers=ada).status_code == 204
    locked = api.post(f"/api/v1/rooms/{slug}/typing", headers=ada)
    assert locked.status_code == 403 and "locked" in locked.json()["detail"]
    assert api.get(f"/api/v1/rooms/{slug}/presence").json() == {"online": []}
    assert api.get("/api/v1/rooms/no-such-room/presence").status_code == 404


@pytest.mark.parametrize("app_server", ["postgresql+redis"], indirect=True)
def test_typing_reaches_another_instance_and_presence_is_shared(api: httpx.Client, app_server: AppProcess) -> None:
    """A subscriber outside the app (another instance, in effect) hears typing.started; a guest
    another instance has in the room shows in this one's GET /presence."""
    ada = api_guest(api, "Ada")
    slug = api_room(api, ada)
    prefix = app_server.settings["CHAT_REDIS_PREFIX"]
    client = redis.Redis.from_url(app_server.settings["CHAT_REDIS_URL"])
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(f"{prefix}:room.{slug}")
    try:
        assert api.post(f"/api/v1/rooms/{slug}/typing", headers=ada).status_code == 204
        received = pubsub.get_message(timeout=3)
        while received is None or received["type"] != "message":
            received = pubsub.get_message(timeout=3)
            assert received is not None, "no event within 3 s"
        typed = json.loads(received["data"])
        assert typed["type"] == "typing.started" and typed["guest"]["display_name"] == "Ada"
        ada_id = api.get("/api/v1/guests/me", headers=ada).json()["id"]
        # Another instance has Ada in the room: its entry in the shared sorted set.
        client.zadd(f"{prefix}:presence:{slug}", {f"{ada_id}:elsewhere": 2e9})
        assert api.get(f"/api/v1/rooms/{slug}/presence").json() == {"online": [{"id": ada_id, "display_name": "Ada"}]}
        client.zadd(f"{prefix}:presence:{slug}", {f"{ada_id}:elsewhere": 1})  # that instance died long ago
        assert api.get(f"/api/v1/rooms/{slug}/presence").json() == {"online": []}
    finally:
        pubsub.close()
        client.close()


def test_a_crowded_room_lists_the_first_names_and_how_many_more() -> None:
    """A thousand viewers must not send each other a thousand names at every arrival: the list
    shows the first LISTED_MAX by name and says how many more are here."""
    crowd = [GuestPublic(id=n, display_name=f"Guest {n:04d}") for n in range(LISTED_MAX + 50)]
    html = presence_html(list(reversed(crowd)))
    assert html.count('data-testid="presence-item"') == LISTED_MAX
    assert "Guest 0000" in html and f"Guest {LISTED_MAX - 1:04d}" in html and f"Guest {LISTED_MAX:04d}" not in html
    assert "and 50 more" in html
    few = crowd[:3]
    assert presence_html(few).count('data-testid="presence-item"') == 3 and "more" not in presence_html(few)

"""Services on SQLite and on PostgreSQL: every test runs on both (see the `db` fixture)."""

import io
from datetime import UTC, timedelta
from functools import partial

import pytest
from PIL import Image
from sqlmodel import Session, func, select

from models import Message
from services import guests, messages, moderation, rooms
from services.audit import ADMIN
from services.bus import EventBus, Subscription, make_bus
from services.database import Database
from services.errors import Conflict, Forbidden, InvalidInput, NotFound, UnsupportedMedia
from services.events import ROOMS_CHANNEL, decode, room_channel
from services.media import LocalMediaStore


def make_guest(session: Session, name: str = "Ada") -> int:
    guest = guests.create_guest(session=session, display_name=name)
    session.commit()
    return guest.id


def make_room(session: Session, owner_id: int, name: str = "Lobby") -> str:
    room = rooms.create_room(session=session, owner_id=owner_id, name=name)
    session.commit()
    return room.slug


# Guests


def test_a_guest_gets_a_generated_name_and_a_token_that_identifies_it(session: Session) -> None:
    guest = guests.create_guest(session=session)
    assert guest.display_name.startswith("Guest ") and guest.display_name[6:].isdigit()
    assert len(guest.token) >= 32
    found = guests.guest_for_token(session=session, token=guest.token)
    assert found is not None and found.id == guest.id
    assert guests.guest_for_token(session=session, token=guest.token + "x") is None
    assert guests.guest_for_token(session=session, token="") is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 33, "Ada\nLovelace", "Ada\x1b[31m", "A\u202eB"])
def test_a_display_name_must_be_1_to_32_characters_without_control_characters(session: Session, name: str) -> None:
    with pytest.raises(InvalidInput):
        guests.create_guest(session=session, display_name=name)


def test_a_display_name_is_trimmed_and_can_be_changed(session: Session) -> None:
    guest_id = make_guest(session, "  Ada  ")
    assert guests.get_guest(session=session, guest_id=guest_id).display_name == "Ada"
    renamed = guests.rename_guest(
        session=session, guest_id=guest_id, display_name=" Grace Hopper " + "x" * 18, by=guest_id
    )
    assert renamed.display_name == "Grace Hopper " + "x" * 18
    with pytest.raises(NotFound):
        guests.rename_guest(session=session, guest_id=9999, display_name="Nobody", by=ADMIN)


# Rooms


def test_creating_a_room_makes_its_creator_a_member(session: Session) -> None:
    owner = make_guest(session)
    room = rooms.create_room(session=session, owner_id=owner, name="  Python Café  ", description=" Hi ")
    assert (room.name, room.slug, room.description) == ("Python Café", "python-cafe", "Hi")
    assert room.member_count == 1 and room.is_private is False and room.last_message_at is None
    assert room.created_at.tzinfo is not None


def test_room_names_are_unique_ignoring_case_but_slugs_never_clash(session: Session) -> None:
    owner = make_guest(session)
    make_room(session, owner, "Lobby")
    with pytest.raises(Conflict):
        rooms.create_room(session=session, owner_id=owner, name="LOBBY")
    session.rollback()
    assert rooms.create_room(session=session, owner_id=owner, name="Lobby!").slug == "lobby-2"
    assert rooms.create_room(session=session, owner_id=owner, name="日本語").slug == "room"


@pytest.mark.parametrize("name", ["", "  ", "x" * 65, "tab\there"])
def test_a_room_name_must_be_1_to_64_characters(session: Session, name: str) -> None:
    owner = make_guest(session)
    with pytest.raises(InvalidInput):
        rooms.create_room(session=session, owner_id=owner, name=name)


def test_rooms_are_listed_by_latest_activity(session: Session) -> None:
    owner = make_guest(session)
    for name in ("First", "Second", "Third"):
        make_room(session, owner, name)
    assert [room.name for room in rooms.page_rooms(session=session).rooms] == ["Third", "Second", "First"]
    messages.send_message(session=session, room_slug="first", author_id=owner, text="bump")
    session.commit()
    listed = rooms.page_rooms(session=session).rooms
    assert [room.name for room in listed] == ["First", "Third", "Second"]
    assert listed[0].last_message_at is not None and listed[1].last_message_at is None


def test_joining_twice_counts_once_and_leaving_counts_down(session: Session) -> None:
    owner, visitor = make_guest(session), make_guest(session, "Bob")
    slug = make_room(session, owner)
    assert rooms.join_room(session=session, slug=slug, guest_id=visitor).member_count == 2
    assert rooms.join_room(session=session, slug=slug, guest_id=visitor).member_count == 2
    assert rooms.leave_room(session=session, slug=slug, guest_id=visitor).member_count == 1
    assert rooms.leave_room(session=session, slug=slug, guest_id=visitor).member_count == 1
    assert rooms.get_room(session=session, slug=slug).member_count == 1


def test_an_unknown_room_is_not_found(session: Session) -> None:
    guest = make_guest(session)
    for call in (
        lambda: rooms.get_room(session=session, slug="nope"),
        lambda: rooms.join_room(session=session, slug="nope", guest_id=guest),
        lambda: messages.page_messages(session=session, room_slug="nope"),
        lambda: messages.send_message(session=session, room_slug="nope", author_id=guest, text="x"),
    ):
        with pytest.raises(NotFound):
            call()


# Messages


def test_a_message_is_trimmed_timestamped_in_utc_and_joins_its_author(session: Session) -> None:
    owner, visitor = make_guest(session), make_guest(session, "Bob")
    slug = make_room(session, owner)
    message = messages.send_message(session=session, room_slug=slug, author_id=visitor, text="  hi\nthere  ")
    session.commit()
    assert (message.text, message.kind, message.room, message.author.display_name) == (
        "hi\nthere",
        "text",
        slug,
        "Bob",
    )
    assert message.created_at.utcoffset() == timedelta(0)
    assert rooms.get_room(session=session, slug=slug).member_count == 2
    stored = messages.page_messages(session=session, room_slug=slug).messages[0]
    assert stored == message and stored.created_at.tzinfo == UTC


@pytest.mark.parametrize("text", ["", " \n ", "x" * 4001])
def test_an_invalid_message_is_refused_and_nothing_is_saved(session: Session, text: str) -> None:
    owner = make_guest(session)
    slug = make_room(session, owner)
    with pytest.raises(InvalidInput):
        messages.send_message(session=session, room_slug=slug, author_id=owner, text=text)
    session.rollback()
    assert session.exec(select(func.count()).select_from(Message)).one() == 0


def test_4000_characters_are_accepted(session: Session) -> None:
    owner = make_guest(session)
    slug = make_room(session, owner)
    assert len(messages.send_message(session=session, room_slug=slug, author_id=owner, text="é" * 4000).text) == 4000


def _fill(session: Session, count: int) -> tuple[str, list[int]]:
    owner = make_guest(session)
    slug = make_room(session, owner)
    ids = [
        messages.send_message(session=session, room_slug=slug, author_id=owner, text=f"m{n}").id for n in range(count)
    ]
    session.commit()
    return slug, ids


def test_history_pages_walk_back_to_the_first_message_without_gaps_or_repeats(session: Session) -> None:
    slug, ids = _fill(session, 120)
    assert ids == sorted(ids)
    page = messages.page_messages(session=session, room_slug=slug)
    assert [m.id for m in page.messages] == ids[-50:] and page.has_more
    seen = [m.id for m in page.messages]
    while page.has_more:
        page = messages.page_messages(session=session, room_slug=slug, before=seen[0], limit=50)
        seen = [m.id for m in page.messages] + seen
    assert seen == ids


def test_after_catches_up_forward_in_order(session: Session) -> None:
    slug, ids = _fill(session, 30)
    page = messages.page_messages(session=session, room_slug=slug, after=ids[4], limit=10)
    assert [m.id for m in page.messages] == ids[5:15] and page.has_more
    last = messages.page_messages(session=session, room_slug=slug, after=ids[19], limit=10)
    assert [m.id for m in last.messages] == ids[20:] and not last.has_more
    assert messages.page_messages(session=session, room_slug=slug, after=ids[-1]).messages == []


def test_the_newest_page_of_a_small_room_has_no_more(session: Session) -> None:
    slug, ids = _fill(session, 3)
    page = messages.page_messages(session=session, room_slug=slug, limit=3)
    assert [m.text for m in page.messages] == ["m0", "m1", "m2"] and not page.has_more
    assert not messages.page_messages(session=session, room_slug=slug, before=ids[0]).has_more


@pytest.mark.parametrize("options", [{"limit": 0}, {"limit": 101}, {"before": 5, "after": 1}])
def test_paging_arguments_out_of_range_are_refused(session: Session, options: dict[str, int]) -> None:
    slug, _ = _fill(session, 1)
    with pytest.raises(InvalidInput):
        messages.page_messages(session=session, room_slug=slug, **options)


def test_messages_of_one_room_never_show_in_another(session: Session) -> None:
    owner = make_guest(session)
    first, second = make_room(session, owner, "One"), make_room(session, owner, "Two")
    messages.send_message(session=session, room_slug=first, author_id=owner, text="in one")
    session.commit()
    assert messages.page_messages(session=session, room_slug=second).messages == []


# Check, do, notify: one transaction checks, writes and queues its events; they are published
# once it has committed, and never if it rolls back.


async def nothing_arrives(subscription: Subscription) -> bool:
    try:
        await subscription.get(timeout=0.3)
    except TimeoutError:
        return True
    return False


async def test_a_sent_message_is_published_after_it_is_saved(db: Database, bus: EventBus) -> None:
    owner = (await db.run(guests.create_guest, display_name="Ada")).id
    room = await db.run(rooms.create_room, owner_id=owner, name="Lobby")
    async with bus.subscribe(room_channel(room.slug)) as subscription:
        sent = await db.run(messages.send_message, room_slug=room.slug, author_id=owner, text="hello")
        event = decode(await subscription.get(timeout=2))
        assert await nothing_arrives(subscription), "published exactly once"
    assert event.type == "message.created" and event.message == sent
    saved = await db.run(messages.page_messages, room_slug=room.slug)
    assert saved.messages == [sent]


async def test_a_refused_message_is_neither_saved_nor_published(db: Database, bus: EventBus) -> None:
    owner = (await db.run(guests.create_guest, display_name="Ada")).id
    room = await db.run(rooms.create_room, owner_id=owner, name="Lobby")
    async with bus.subscribe(room_channel(room.slug)) as subscription:
        with pytest.raises(InvalidInput):
            await db.run(messages.send_message, room_slug=room.slug, author_id=owner, text="  ")
        assert await nothing_arrives(subscription)
    assert (await db.run(messages.page_messages, room_slug=room.slug)).messages == []


async def test_a_change_that_rolls_back_publishes_nothing_it_had_queued(db: Database, bus: EventBus) -> None:
    """A room is created (its event queued), then the same transaction fails: neither the room nor
    its event survive."""
    owner = (await db.run(guests.create_guest, display_name="Ada")).id

    def create_and_post(*, session: Session) -> None:
        rooms.create_room(session=session, owner_id=owner, name="Doomed")
        messages.send_message(session=session, room_slug="doomed", author_id=owner, text="x" * 4001)

    async with bus.subscribe(ROOMS_CHANNEL) as subscription:
        with pytest.raises(InvalidInput):
            await db.run(create_and_post)
        assert await nothing_arrives(subscription)
    assert (await db.run(rooms.page_rooms)).rooms == []


async def test_a_committed_change_is_announced_once_even_when_a_step_after_the_commit_fails(
    db: Database, bus: EventBus, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """Deleting a room whose image files cannot be removed: the room is gone and announced, once."""

    class StuckMedia(LocalMediaStore):
        def delete(self, key: str) -> None:
            raise PermissionError(f"cannot remove {key}")

    media = StuckMedia(tmp_path)
    owner = (await db.run(guests.create_guest, display_name="Ada")).id
    room = await db.run(rooms.create_room, owner_id=owner, name="Photos")
    await messages.send_image(db=db, media=media, room_slug=room.slug, author_id=owner, data=_png(), max_bytes=1 << 20)
    async with bus.subscribe(room_channel(room.slug)) as in_room, bus.subscribe(ROOMS_CHANNEL) as in_list:
        await db.run(moderation.delete_room, media=media, slug=room.slug, by=ADMIN)  # no exception
        for subscription in (in_room, in_list):
            assert decode(await subscription.get(timeout=2)).type == "room.deleted"
            assert await nothing_arrives(subscription), "announced exactly once"
    with pytest.raises(NotFound):
        await db.run(rooms.get_room, slug=room.slug)
    assert "deleting the images of room 'photos' failed" in caplog.text


def test_a_synchronous_transaction_refuses_a_change_it_could_not_announce(db: Database) -> None:
    owner = db.transaction(guests.create_guest, display_name="Ada").id  # no event: allowed
    with pytest.raises(RuntimeError, match=r"Database\.run"):
        db.transaction(rooms.create_room, owner_id=owner, name="Unannounced")
    assert db.transaction(rooms.page_rooms).rooms == []  # refused before the commit


async def test_room_list_subscribers_hear_of_new_rooms_and_joins(db: Database, bus: EventBus) -> None:
    owner = (await db.run(guests.create_guest, display_name="Ada")).id
    visitor = (await db.run(guests.create_guest, display_name="Bob")).id
    async with bus.subscribe(ROOMS_CHANNEL) as subscription:
        await db.run(rooms.create_room, owner_id=owner, name="Lobby")
        await db.run(rooms.join_room, slug="lobby", guest_id=visitor)
        created, joined = decode(await subscription.get(timeout=2)), decode(await subscription.get(timeout=2))
    assert created.type == "room.created" and created.room.name == "Lobby"
    assert joined.type == "room.updated" and joined.room.member_count == 2


def _png(width: int = 800, height: int = 600) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "PNG")
    return buffer.getvalue()


async def test_an_image_message_stores_the_image_and_its_thumbnail(db: Database, bus: EventBus, tmp_path) -> None:
    media = LocalMediaStore(tmp_path)
    owner = (await db.run(guests.create_guest, display_name="Ada")).id
    room = await db.run(rooms.create_room, owner_id=owner, name="Photos")
    async with bus.subscribe(room_channel(room.slug)) as subscription:
        message = await messages.send_image(
            db=db,
            media=media,
            room_slug=room.slug,
            author_id=owner,
            data=_png(),
            caption=" sunset ",
            max_bytes=1 << 20,
        )
        event = decode(await subscription.get(timeout=2))
    assert event.message == message and message.kind == "image" and message.text == "sunset"
    assert message.image is not None and (message.image.width, message.image.height) == (800, 600)
    thumbnail_key = message.image.thumbnail_url.removeprefix("/media/")
    with Image.open(io.BytesIO(media.read(thumbnail_key))) as thumbnail:
        assert max(thumbnail.size) == 400
    assert media.read(message.image.url.removeprefix("/media/")).startswith(b"\x89PNG")


async def test_a_refused_image_leaves_no_files_and_no_message(db: Database, tmp_path) -> None:
    media = LocalMediaStore(tmp_path)
    owner = (await db.run(guests.create_guest, display_name="Ada")).id
    room = await db.run(rooms.create_room, owner_id=owner, name="Photos")
    send = partial(messages.send_image, db=db, media=media, max_bytes=1 << 20)
    with pytest.raises(UnsupportedMedia):
        await send(room_slug=room.slug, author_id=owner, data=b"not an image")
    with pytest.raises(NotFound):
        await send(room_slug="nope", author_id=owner, data=_png())
    # An author that does not exist (or is banned) is refused before any file is written.
    with pytest.raises(Forbidden):
        await send(room_slug=room.slug, author_id=999_999, data=_png())
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []
    assert (await db.run(messages.page_messages, room_slug=room.slug)).messages == []


def test_the_postgresql_pool_is_sized_by_the_setting(postgres_url: str) -> None:
    database = Database(postgres_url, bus=make_bus(None), pool_size=3)
    try:
        assert database.engine.pool.size() == 3  # type: ignore[attr-defined]
        assert database.engine.pool._max_overflow == 3  # type: ignore[attr-defined]  # bursts: as many again
    finally:
        database.dispose()

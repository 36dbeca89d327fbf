"""Rooms: create, list by latest activity, get, join, leave. (Moderating them: services/moderation.py.)

Each action is one function that checks, writes and queues its event in the caller's transaction;
run it with `Database.run`, which publishes the event once the transaction has committed.
"""

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, delete, select

from models.message import Message
from models.room import (
    ROOM_DESCRIPTION_MAX,
    ROOM_NAME_MAX,
    ROOM_PAGE_DEFAULT,
    ROOM_PAGE_MAX,
    Membership,
    Room,
    RoomPage,
    RoomRemoval,
    RoomState,
)
from services import access

# Found through access, which words "no room" once for missing and unreadable rooms alike;
# re-exported, as the other services look rooms up through this module.
from services.access import room_by_slug as room_by_slug
from services.database import send_event_on_commit
from services.errors import Conflict, Forbidden, InvalidInput
from services.events import MemberLeft, RoomCreated, RoomUpdated
from services.guests import check_may_write
from services.text import checked_text

SLUG_MAX_BASE = 60


def validate_room_name(raw: str) -> str:
    return checked_text(raw, what="room name", max_length=ROOM_NAME_MAX, single_line=True)


def validate_description(raw: str) -> str:
    return checked_text(raw, what="description", max_length=ROOM_DESCRIPTION_MAX, allow_empty=True)


def name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_MAX_BASE].strip("-")
    return slug or "room"


def create_room(
    *, session: Session, owner_id: int, name: str, description: str = "", is_private: bool = False
) -> RoomState:
    """A new room, its creator its first member and owner. A private one is seen by its members
    only (services.access); its `room.created` still goes to the room list's channel, where each
    list shows it only to members, as it does with every later `room.updated`.

    Names are unique across all rooms, private ones included (one unique index, and the contract's
    409): a taken name says that some room has it, never which or where, as in Slack."""
    name = validate_room_name(name)
    description = validate_description(description)
    check_may_write(session, owner_id)
    key = name_key(name)
    if session.exec(select(Room.id).where(Room.name_key == key)).first() is not None:
        raise Conflict(f"a room named {name!r} exists already")
    room = Room(
        slug=_free_slug(session, slugify(name)),
        name=name,
        name_key=key,
        description=description,
        is_private=is_private,
    )
    room.owner_id = owner_id
    session.add(room)
    try:
        session.flush()
    except IntegrityError:  # another request took the same name, or the same address, a moment ago
        raise Conflict(f"a room named {name!r} (or with the address /rooms/{room.slug}) was just created") from None
    assert room.id is not None
    session.add(Membership(room_id=room.id, guest_id=owner_id))
    session.flush()
    state = _state(room, member_count=1)
    send_event_on_commit(session, RoomCreated(room=state))
    return state


def rooms_of(session: Session, *, guest_id: int) -> list[RoomState]:
    """The rooms a guest belongs to, private ones too, most recent activity first."""
    member_count = select(func.count()).where(Membership.room_id == Room.id).correlate(Room).scalar_subquery()
    rows = session.exec(
        select(Room, member_count)
        .join(Membership, col(Membership.room_id) == Room.id)
        .where(Membership.guest_id == guest_id)
        .order_by(col(Room.last_activity_at).desc(), col(Room.id).desc())
    ).all()
    return [_state(room, member_count=count) for room, count in rows]


def page_rooms(
    *,
    session: Session,
    limit: int = ROOM_PAGE_DEFAULT,
    before: str | None = None,
    query: str = "",
    reader_id: int | None = None,
    count_unread: bool = True,
) -> RoomPage:
    """A page of the rooms `reader_id` may read (the public ones, and the private ones they belong
    to; anonymous: the public ones), most recent activity first (ties: newest id first), whose
    names contain `query` (ignoring case), older than the cursor `before`; with `reader_id`,
    `unread` filled in the rooms the reader belongs to (one more query for the whole page), unless
    `count_unread` is False (the room list page has the counts already, from MyRooms).

    Keyset paging on (last_activity_at, id): a room that gets a message while someone pages moves
    above the cursor, so paging on shows no room twice and skips none of the others (OFFSET would
    do both)."""
    if not 1 <= limit <= ROOM_PAGE_MAX:
        raise InvalidInput(f"limit must be between 1 and {ROOM_PAGE_MAX}")
    if "\x00" in query:  # PostgreSQL cannot even receive it
        raise InvalidInput("the filter must not contain a NUL character")
    member_count = select(func.count()).where(Membership.room_id == Room.id).correlate(Room).scalar_subquery()
    statement = select(Room, member_count).where(access.readable_rooms(reader_id))
    if key := name_key(query.strip()):
        statement = statement.where(col(Room.name_key).contains(key, autoescape=True))
    if before is not None:
        activity, room_id = parse_room_cursor(before)
        statement = statement.where(
            or_(
                col(Room.last_activity_at) < activity,
                and_(col(Room.last_activity_at) == activity, col(Room.id) < room_id),
            )
        )
    rows = session.exec(
        statement.order_by(col(Room.last_activity_at).desc(), col(Room.id).desc()).limit(limit + 1)
    ).all()
    shown = rows[:limit]
    last = shown[-1][0] if len(rows) > limit else None
    states = [_state(room, member_count=count) for room, count in shown]
    return RoomPage(
        rooms=with_unread(session, states, reader_id=reader_id) if count_unread else states,
        next_cursor=room_cursor(last) if last is not None else None,
    )


def with_unread(session: Session, states: list[RoomState], *, reader_id: int | None) -> list[RoomState]:
    """The rooms, `unread` filled for those `reader_id` belongs to (None in the others)."""
    if reader_id is None or not states:
        return states
    counts = unread_counts(session, guest_id=reader_id, room_ids=[state.id for state in states])
    return [state.model_copy(update={"unread": counts.get(state.id)}) for state in states]


def unread_counts(session: Session, *, guest_id: int, room_ids: list[int]) -> dict[int, int]:
    """Unread messages per room the guest belongs to, among `room_ids`: the non-deleted messages of
    others after their last read one; rooms they are not in are absent. One query for them all.

    A count correlated with each membership row, not a GROUP BY over a join: PostgreSQL cannot
    estimate `id > last_read_id` across a join and hashed the whole message table (80 ms for a page
    of 50 rooms at 200,000 messages), while per membership it is a range scan of the (room_id, id)
    index from the read position on (0.5 ms for the page), costing what is actually unread."""
    unread = (
        select(func.count())
        .where(
            col(Message.room_id) == Membership.room_id,
            col(Message.id) > Membership.last_read_id,
            col(Message.deleted_at).is_(None),
            col(Message.author_id) != guest_id,
        )
        .correlate(Membership)
        .scalar_subquery()
    )
    rows = session.exec(
        select(Membership.room_id, unread).where(  # type: ignore[call-overload]
            Membership.guest_id == guest_id, col(Membership.room_id).in_(room_ids)
        )
    ).all()
    return {room_id: count for room_id, count in rows}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"(\d{1,18})_(\d{1,19})")


def room_cursor(room: Room) -> str:
    """`<last activity in microseconds since 1970>_<id>`: exact (no rounding through text), and
    safe in a URL without escaping."""
    assert room.id is not None
    micros = (room.last_activity_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{room.id}"


def parse_room_cursor(cursor: str) -> tuple[datetime, int]:
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise InvalidInput("before must be a cursor from X-Next-Cursor (or the Link header) of the previous page")
    micros, room_id = int(match[1]), int(match[2])
    try:
        if room_id >= 2**63:
            raise OverflowError
        return _EPOCH + timedelta(microseconds=micros), room_id
    except OverflowError:
        raise InvalidInput("before is out of range: use the cursor of the previous page") from None


def get_room(*, session: Session, slug: str, reader_id: int | None = None) -> RoomState:
    """The room; with `reader_id`, its `unread` for them if they belong to it."""
    return with_unread(session, [room_state(session, room_by_slug(session, slug))], reader_id=reader_id)[0]


def get_readable_room(*, session: Session, slug: str, reader_id: int | None) -> RoomState:
    """The room if `reader_id` may read it, else NotFound as for no room (a private room they do
    not belong to); without `unread`."""
    return room_state(session, access.readable_room(session, slug, reader_id))


def join_room(*, session: Session, slug: str, guest_id: int) -> RoomState:
    """Join a public room (again: harmless). A private room is joined by an invitation only
    (services.invites): to anyone else it does not exist, so joining it is NotFound."""
    check_may_write(session, guest_id)
    room = access.readable_room(session, slug, guest_id, for_update=True)
    assert room.id is not None
    check_not_removed(session, room, guest_id)
    ensure_membership(session, room_id=room.id, guest_id=guest_id)
    return room_updated(session, room)


def leave_room(*, session: Session, slug: str, guest_id: int) -> RoomState:
    """Leave the room. Leaving a private room one is not in is NotFound: it cannot be seen. Leaving
    a private room closes the guest's open views of it (MemberLeft): they may no longer read it."""
    room = access.readable_room(session, slug, guest_id)
    remove_membership(session, room=room, guest_id=guest_id)
    if room.is_private:
        send_event_on_commit(session, MemberLeft(room=room.slug, guest_id=guest_id))
    return room_updated(session, room)


def room_updated(session: Session, room: Room) -> RoomState:
    """The room as it is now, announced to its views and the room list once the change commits."""
    state = room_state(session, room)
    send_event_on_commit(session, RoomUpdated(room=state))
    return state


def remove_membership(session: Session, *, room: Room, guest_id: int) -> None:
    session.exec(  # type: ignore[call-overload]
        delete(Membership).where(col(Membership.room_id) == room.id, col(Membership.guest_id) == guest_id)
    )


def check_not_removed(session: Session, room: Room, guest_id: int) -> None:
    """Forbidden for a guest a moderator removed; a public room stays readable to them, a private
    one does not (reading it needs the membership they lost), so the words say which."""
    if session.get(RoomRemoval, (room.id, guest_id)) is not None:
        if room.is_private:
            raise Forbidden("you were removed from this room by a moderator")
        raise Forbidden("you were removed from this room by a moderator; you can still read it")


def ensure_membership(session: Session, *, room_id: int, guest_id: int) -> None:
    """Insert the membership unless it exists; safe when two requests race. A newcomer has read
    what was said before they came: their read position starts at the room's newest message, so
    joining does not greet them with the whole history as unread."""
    insert_unless_present(
        session,
        Membership,
        room_id=room_id,
        guest_id=guest_id,
        joined_at=Membership().joined_at,
        last_read_id=newest_message_id(room_id),
    )


def newest_message_id(room_id: int) -> Any:
    """The id of the room's newest message (0 in an empty room), as a subquery: one index lookup."""
    newest = select(func.coalesce(func.max(Message.id), 0)).where(Message.room_id == room_id)
    return newest.scalar_subquery()


def insert_unless_present(session: Session, table: type[SQLModel], **values: Any) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: a row that exists already (or is being inserted by a
    concurrent request) stays as it is."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.exec(dialect.insert(table).values(**values).on_conflict_do_nothing())  # type: ignore[call-overload]


def _free_slug(session: Session, base: str) -> str:
    taken = set(session.exec(select(Room.slug).where(col(Room.slug).startswith(base, autoescape=True))).all())
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def room_state(session: Session, room: Room) -> RoomState:
    member_count = session.exec(select(func.count()).where(Membership.room_id == room.id)).one()
    return _state(room, member_count=member_count)


def _state(room: Room, *, member_count: int) -> RoomState:
    assert room.id is not None
    return RoomState(
        id=room.id,
        slug=room.slug,
        name=room.name,
        description=room.description,
        is_private=room.is_private,
        created_at=room.created_at,
        member_count=member_count,
        last_message_at=room.last_message_at,
        owner_id=room.owner_id,
        locked=room.locked_at is not None,
    )

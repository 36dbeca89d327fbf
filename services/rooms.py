"""Rooms: create, list by latest activity, get, join, leave. (Moderating them: services/moderation.py.)"""

import re
import unicodedata
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, delete, select

from models.room import ROOM_DESCRIPTION_MAX, ROOM_NAME_MAX, Membership, Room, RoomRemoval, RoomState
from services.bus import EventBus
from services.database import Database
from services.errors import Conflict, Forbidden, NotFound
from services.events import ROOMS_CHANNEL, RoomCreated, RoomUpdated, encode
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


def create_room(*, session: Session, owner_id: int, name: str, description: str = "") -> RoomState:
    name = validate_room_name(name)
    description = validate_description(description)
    key = name_key(name)
    if session.exec(select(Room.id).where(Room.name_key == key)).first() is not None:
        raise Conflict(f"a room named {name!r} exists already")
    room = Room(slug=_free_slug(session, slugify(name)), name=name, name_key=key, description=description)
    room.owner_id = owner_id
    session.add(room)
    try:
        session.flush()
    except IntegrityError:  # another request took the same name, or the same address, a moment ago
        raise Conflict(f"a room named {name!r} (or with the address /rooms/{room.slug}) was just created") from None
    assert room.id is not None
    session.add(Membership(room_id=room.id, guest_id=owner_id))
    session.flush()
    return _public(room, member_count=1)


def list_rooms(*, session: Session) -> list[RoomState]:
    """Public rooms, most recent activity first."""
    member_count = select(func.count()).where(Membership.room_id == Room.id).correlate(Room).scalar_subquery()
    rows = session.exec(
        select(Room, member_count)
        .where(col(Room.is_private).is_(False))
        .order_by(col(Room.last_activity_at).desc(), col(Room.id).desc())
    ).all()
    return [_public(room, member_count=count) for room, count in rows]


def get_room(*, session: Session, slug: str) -> RoomState:
    room = room_by_slug(session, slug)
    return _public(room, member_count=_member_count(session, room))


def join_room(*, session: Session, slug: str, guest_id: int) -> RoomState:
    room = room_by_slug(session, slug)
    assert room.id is not None
    check_not_removed(session, room, guest_id)
    ensure_membership(session, room_id=room.id, guest_id=guest_id)
    return _public(room, member_count=_member_count(session, room))


def leave_room(*, session: Session, slug: str, guest_id: int) -> RoomState:
    room = room_by_slug(session, slug)
    session.exec(  # type: ignore[call-overload]
        delete(Membership).where(col(Membership.room_id) == room.id, col(Membership.guest_id) == guest_id)
    )
    return _public(room, member_count=_member_count(session, room))


def room_by_slug(session: Session, slug: str) -> Room:
    room = session.exec(select(Room).where(Room.slug == slug)).first()
    if room is None:
        raise NotFound(f"no room {slug!r}")
    return room


def check_not_removed(session: Session, room: Room, guest_id: int) -> None:
    if session.get(RoomRemoval, (room.id, guest_id)) is not None:
        raise Forbidden("you were removed from this room by a moderator; you can still read it")


def ensure_membership(session: Session, *, room_id: int, guest_id: int) -> None:
    """Insert the membership unless it exists; safe when two requests race."""
    insert_unless_present(session, Membership, room_id=room_id, guest_id=guest_id, joined_at=Membership().joined_at)


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


def _member_count(session: Session, room: Room) -> int:
    return session.exec(select(func.count()).where(Membership.room_id == room.id)).one()


def _public(room: Room, *, member_count: int) -> RoomState:
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


# Check, do, notify: the functions the UI and API call. Each validates and writes in one
# transaction (the functions above), and only after the commit tells the room list.


async def create(*, db: Database, bus: EventBus, owner_id: int, name: str, description: str = "") -> RoomState:
    room = await db.run(create_room, owner_id=owner_id, name=name, description=description)
    await bus.publish(ROOMS_CHANNEL, encode(RoomCreated(room=room)))
    return room


async def join(*, db: Database, bus: EventBus, slug: str, guest_id: int) -> RoomState:
    room = await db.run(join_room, slug=slug, guest_id=guest_id)
    await bus.publish(ROOMS_CHANNEL, encode(RoomUpdated(room=room)))
    return room


async def leave(*, db: Database, bus: EventBus, slug: str, guest_id: int) -> RoomState:
    room = await db.run(leave_room, slug=slug, guest_id=guest_id)
    await bus.publish(ROOMS_CHANNEL, encode(RoomUpdated(room=room)))
    return room

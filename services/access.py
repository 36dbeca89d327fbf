"""Who may see a room: everyone a public room, only its members a private one (CONTRACT §7).

To anyone else a private room does not exist: every check here answers NotFound with the same
words as for a room that was never made, so that nothing tells the two apart.
"""

from typing import Any, NoReturn

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from models.room import Membership, Room
from services.errors import NotFound
from services.rooms import room_by_slug


def may_read(session: Session, room: Room, reader_id: int | None) -> bool:
    if not room.is_private:
        return True
    if reader_id is None:
        return False
    return session.get(Membership, (room.id, reader_id)) is not None


def readable_room(session: Session, slug: str, reader_id: int | None, *, for_update: bool = False) -> Room:
    """The room if `reader_id` (None: an anonymous reader) may see it; else NotFound, as for a room
    that does not exist."""
    room = room_by_slug(session, slug, for_update=for_update)
    if not may_read(session, room, reader_id):
        raise_not_found(slug)
    return room


def check_readable(*, session: Session, slug: str, reader_id: int | None) -> None:
    """`readable_room` as a service call (Database.run_read): for routes and pages that only need
    to know, before doing their own work."""
    readable_room(session, slug, reader_id)


def readable_rooms(reader_id: int | None) -> Any:
    """A WHERE clause on Room: the rooms `reader_id` may read (public ones, and private ones they
    belong to). One EXISTS on the membership's primary key per private room."""
    if reader_id is None:
        return col(Room.is_private).is_(False)
    member = exists(select(Membership.room_id).where(Membership.room_id == Room.id, Membership.guest_id == reader_id))
    return or_(col(Room.is_private).is_(False), member)


def raise_not_found(slug: str) -> NoReturn:
    raise NotFound(f"no room {slug!r}")  # the words of services.rooms.room_by_slug, on purpose

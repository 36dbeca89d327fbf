"""Who may see a room: everyone a public room, only its members a private one (CONTRACT §7).

To anyone else a private room does not exist: every check here answers NotFound with the same
words as for a room that was never made, so that nothing tells the two apart. The room lookup by
slug lives here for that reason (services.rooms re-exports it): one place says "no room".

The API applies `check_readable_for_token` to every route on a room (api.deps.hide_unreadable_room),
the pages `check_readable`; services.rooms filters lists with `readable_rooms`, and a private
room's images are served by `may_see_private_image`.
"""

from typing import Any, NoReturn

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from models.base import ID_MAX
from models.image import Image
from models.room import Membership, Room
from services.errors import NotFound
from services.guests import guest_for_token


def room_by_slug(session: Session, slug: str, *, for_update: bool = False) -> Room:
    """The room, or NotFound. With `for_update`, its row stays locked until the transaction ends
    (PostgreSQL): take it before inserting rows that refer to the room, so that a concurrent
    deletion either waits for us or has happened already (a clear 404), never turning our insert
    into a foreign-key error. SQLite serialises writers, so there it changes nothing."""
    if "\x00" in slug:  # no slug holds one, and PostgreSQL refuses it in a query (a 500 for /rooms/%00)
        raise_not_found(slug)
    query = select(Room).where(Room.slug == slug)
    room = session.exec(query.with_for_update() if for_update else query).first()
    if room is None:
        raise_not_found(slug)
    return room


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


def check_readable_for_token(*, session: Session, slug: str, token: str | None) -> None:
    """`check_readable` for a caller known by a guest token (None, or one that names nobody: an
    anonymous reader). The token is looked up only for a private room, so a public room costs its
    one indexed lookup by slug. An unknown token is anonymous here, not a 401: a private room must
    answer exactly as a missing one, which is found missing before any token is looked at."""
    room = room_by_slug(session, slug)
    if not room.is_private:
        return
    reader = guest_for_token(session=session, token=token) if token else None
    if not may_read(session, room, reader.id if reader else None):
        raise_not_found(slug)


def readable_rooms(reader_id: int | None) -> Any:
    """A WHERE clause on Room: the rooms `reader_id` may read (public ones, and private ones they
    belong to). One EXISTS on the membership's primary key per private room."""
    if reader_id is None:
        return col(Room.is_private).is_(False)
    member = exists(select(Membership.room_id).where(Membership.room_id == Room.id, Membership.guest_id == reader_id))
    return or_(col(Room.is_private).is_(False), member)


def may_see_private_image(*, session: Session, room_id: int, key: str, token: str | None) -> bool:
    """Whether the guest with `token` may see the image stored under `key` in the private room
    `room_id` (services.media names the room in such a key, and the file lies at the key's path, so
    a key cannot borrow another room's id): they belong to the room, and the image still exists
    (a deleted room's files may outlive its rows for a moment). Index lookups only: the token's
    hash, the membership's primary key, the image's key."""
    if room_id > ID_MAX:  # a key we never made; PostgreSQL would refuse the lookup (a 500)
        return False
    reader = guest_for_token(session=session, token=token) if token else None
    if reader is None or session.get(Membership, (room_id, reader.id)) is None:
        return False
    image = select(Image.id).where(or_(col(Image.key) == key, col(Image.thumbnail_key) == key))
    return session.exec(image).first() is not None


def raise_not_found(slug: str) -> NoReturn:
    raise NotFound(f"no room {slug!r}")

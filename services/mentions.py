"""Mentions: `@` followed by a room member's display name (CONTRACT §6).

A name matches ignoring case, and where several members' names fit at one `@` (Ada, Ada Lovelace)
the longest wins. A name that runs on into a letter or digit does not fit: "@Adams" does not
mention Ada, "@Ada's" and "@Ada," do. Only members of the room count: naming anyone else is text.
"""

from collections.abc import Iterable

from sqlmodel import Session, col, delete, select

from models.guest import Guest, GuestPublic
from models.message import Mention
from models.room import Membership, Room
from services.rooms import room_by_slug


def room_members(*, session: Session, room_slug: str) -> list[GuestPublic]:
    """The room's members, sorted by name (ignoring case): the composer's @ suggestions."""
    room = room_by_slug(session, room_slug)
    return _members(session, room_id=_id(room))


def find_mentions(text: str, members: Iterable[GuestPublic]) -> list[int]:
    """The ids of the members `text` mentions, in the order they are first mentioned."""
    if "@" not in text:
        return []
    by_name: dict[str, list[int]] = {}
    for member in members:
        by_name.setdefault(member.display_name.casefold(), []).append(member.id)
    # Names are at most 32 characters: at each @ only a handful of lengths need a look-up.
    lengths = sorted({len(name) for name in by_name}, reverse=True)
    found: dict[int, None] = {}  # ordered set
    start = text.find("@")
    while start != -1:
        for guest_id in _named_at(text, start + 1, by_name, lengths):
            found.setdefault(guest_id)
        start = text.find("@", start + 1)
    return list(found)


def _named_at(text: str, index: int, by_name: dict[str, list[int]], lengths: list[int]) -> list[int]:
    """The members whose name is the longest that fits at text[index:]."""
    for length in lengths:
        end = index + length
        if end > len(text) or (end < len(text) and text[end].isalnum() and text[end - 1].isalnum()):
            continue
        ids = by_name.get(text[index:end].casefold())
        if ids:
            return ids
    return []


def store_mentions(
    session: Session, *, message_id: int, room_id: int, text: str, replacing: bool = True
) -> tuple[int, ...]:
    """Store the mentions of `text` for the message, instead of those it had (`replacing`, on an
    edit; a new message has none to remove); the ids, sorted."""
    if replacing:
        session.exec(delete(Mention).where(col(Mention.message_id) == message_id))  # type: ignore[call-overload]
    if "@" not in text:  # most messages: no query for the members
        return ()
    mentioned = sorted(find_mentions(text, _members(session, room_id=room_id)))
    session.add_all(Mention(message_id=message_id, guest_id=guest_id) for guest_id in mentioned)
    return tuple(mentioned)


def _members(session: Session, *, room_id: int) -> list[GuestPublic]:
    rows = session.exec(
        select(Guest.id, Guest.display_name)
        .join(Membership, col(Membership.guest_id) == Guest.id)
        .where(Membership.room_id == room_id)
    ).all()
    members = [GuestPublic(id=guest_id, display_name=name) for guest_id, name in rows]
    return sorted(members, key=lambda member: (member.display_name.casefold(), member.id))


def _id(room: Room) -> int:
    assert room.id is not None
    return room.id

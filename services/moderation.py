"""Moderation: admins (with the admin token) and room owners keep rooms healthy.

Every action takes `by`: None for an admin, or the id of the guest acting, who must own the
room (or, to delete a message, have written it). Each is written to the audit log in the same
transaction, and the async functions at the end tell the open views after the commit.
"""

import anyio.to_thread
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.audit import AuditEntry, AuditEntryPublic
from models.base import utcnow
from models.guest import Guest, GuestPublic
from models.image import Image
from models.message import Message
from models.room import Room, RoomRemoval, RoomState, RoomUpdate
from services import guests, rooms
from services.bus import EventBus
from services.database import Database
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.events import (
    ROOMS_CHANNEL,
    GuestRemoved,
    MessageDeleted,
    RoomDeleted,
    RoomUpdated,
    encode,
    room_channel,
)
from services.media import MediaStore

Moderator = int | None  # None: an admin; otherwise the id of the guest who acts


def actor_name(by: Moderator) -> str:
    return "admin" if by is None else f"guest:{by}"


def record(session: Session, *, by: Moderator, action: str, target: str, detail: str = "") -> None:
    """An audit entry, written in the same transaction as the action it records."""
    session.add(AuditEntry(actor=actor_name(by), action=action, target=target, detail=detail[:500]))


def audit_log(*, session: Session, limit: int = 100) -> list[AuditEntryPublic]:
    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()
    return [AuditEntryPublic.model_validate(entry, from_attributes=True) for entry in entries]


def moderated_room(session: Session, slug: str, by: Moderator) -> Room:
    """The room, if `by` may moderate it: an admin, or the guest who created it."""
    room = rooms.room_by_slug(session, slug)
    if by is not None and room.owner_id != by:
        raise Forbidden("only the room's owner or an admin can do that")
    return room


def set_locked(*, session: Session, slug: str, locked: bool, by: Moderator = None) -> RoomState:
    room = moderated_room(session, slug, by)
    locked_by_admin = room.locked_at is not None and room.locked_by == actor_name(None)
    if locked_by_admin and by is not None:
        if not locked:
            raise Forbidden("an admin locked this room: only an admin can unlock it")
        return rooms.get_room(session=session, slug=slug)  # locked already, and it stays the admin's lock
    room.locked_at = (room.locked_at or utcnow()) if locked else None
    room.locked_by = actor_name(by) if locked else None
    session.add(room)
    record(session, by=by, action="room.lock" if locked else "room.unlock", target=f"room:{slug}")
    return rooms.get_room(session=session, slug=slug)


def edit_room(*, session: Session, slug: str, update: RoomUpdate, by: Moderator = None) -> RoomState:
    """Rename a room or change its description. Its address (slug) stays: links keep working."""
    room = moderated_room(session, slug, by)
    changes = []
    if update.name is not None:
        name = rooms.validate_room_name(update.name)
        key = rooms.name_key(name)
        if session.exec(select(Room.id).where(Room.name_key == key, Room.id != room.id)).first() is not None:
            raise Conflict(f"a room named {name!r} exists already")
        changes.append(f"name: {room.name} -> {name}")
        room.name, room.name_key = name, key
    if update.description is not None:
        room.description = rooms.validate_description(update.description)
        changes.append("description")
    if not changes:
        raise InvalidInput("nothing to change: give a name or a description")
    session.add(room)
    try:
        session.flush()
    except IntegrityError:  # another rename took the same name a moment ago
        raise Conflict(f"a room named {update.name!r} exists already") from None
    record(session, by=by, action="room.edit", target=f"room:{slug}", detail="; ".join(changes))
    return rooms.get_room(session=session, slug=slug)


def delete_message(*, session: Session, message_id: int, by: Moderator = None, room_slug: str | None = None) -> str:
    """Mark the message deleted (its id is never reused or paged again); returns its room's slug.
    Its author may delete it too. With `room_slug`, a message of another room is not found."""
    row = session.exec(
        select(Message, Room).join(Room, col(Room.id) == Message.room_id).where(Message.id == message_id)
    ).first()
    if row is None or row[0].deleted_at is not None or room_slug not in (None, row[1].slug):
        raise NotFound(f"no message {message_id}" + (f" in {room_slug!r}" if room_slug else ""))
    message, room = row
    if by is not None and by not in (room.owner_id, message.author_id):
        raise Forbidden("only its author, the room's owner or an admin can delete a message")
    message.deleted_at = utcnow()
    session.add(message)
    record(session, by=by, action="message.delete", target=f"message:{message_id}", detail=message.text[:200])
    return room.slug


def delete_room(*, session: Session, slug: str, by: Moderator = None) -> list[str]:
    """Delete the room with its messages and memberships; returns the media keys to remove."""
    if by is not None:
        raise Forbidden("only an admin can delete a room")
    room = rooms.room_by_slug(session, slug)
    images = session.exec(
        select(Image).join(Message, col(Message.image_id) == Image.id).where(Message.room_id == room.id)
    ).all()
    keys = [key for image in images for key in (image.key, image.thumbnail_key)]
    session.delete(room)  # messages, memberships and removals go with it (ON DELETE CASCADE)
    session.flush()
    for image in images:
        session.delete(image)
    record(session, by=by, action="room.delete", target=f"room:{slug}", detail=room.name)
    return keys


def remove_guest(*, session: Session, slug: str, guest_id: int, by: Moderator = None) -> RoomState:
    """Take a guest out of a room: they can still read it, but not post in it or join it again."""
    room = moderated_room(session, slug, by)
    if guest_id == room.owner_id:
        raise InvalidInput("the room's owner cannot be removed from it")
    guests.get_guest(session=session, guest_id=guest_id)  # 404 for a guest who does not exist
    rooms.insert_unless_present(  # removed already: the first removal (and who made it) stands
        session, RoomRemoval, room_id=room.id, guest_id=guest_id, removed_at=utcnow(), removed_by=actor_name(by)
    )
    record(session, by=by, action="room.remove_guest", target=f"room:{slug}", detail=f"guest:{guest_id}")
    return rooms.leave_room(session=session, slug=slug, guest_id=guest_id)


def readmit_guest(*, session: Session, slug: str, guest_id: int, by: Moderator = None) -> RoomState:
    """Undo a removal: the guest may post in the room and join it again."""
    room = moderated_room(session, slug, by)
    removal = session.get(RoomRemoval, (room.id, guest_id))
    if removal is None:
        raise NotFound(f"guest {guest_id} was not removed from {slug!r}")
    if removal.removed_by == actor_name(None) and by is not None:
        raise Forbidden("an admin removed this guest: only an admin can let them back in")
    session.delete(removal)
    record(session, by=by, action="room.readmit_guest", target=f"room:{slug}", detail=f"guest:{guest_id}")
    return rooms.get_room(session=session, slug=slug)


def set_banned(*, session: Session, guest_id: int, banned: bool, by: Moderator = None) -> GuestPublic:
    """A banned guest can read every room but post in none."""
    if by is not None:
        raise Forbidden("only an admin can ban a guest")
    guest = session.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"no guest with id {guest_id}")
    guest.banned_at = (guest.banned_at or utcnow()) if banned else None
    session.add(guest)
    record(session, by=by, action="guest.ban" if banned else "guest.unban", target=f"guest:{guest_id}")
    return guests.get_guest(session=session, guest_id=guest_id)


def rename_guest(*, session: Session, guest_id: int, display_name: str, by: Moderator = None) -> GuestPublic:
    if by is not None:
        raise Forbidden("only an admin can rename another guest")
    old = guests.get_guest(session=session, guest_id=guest_id)
    renamed = guests.rename_guest(session=session, guest_id=guest_id, display_name=display_name)
    record(
        session,
        by=by,
        action="guest.rename",
        target=f"guest:{guest_id}",
        detail=f"{old.display_name} -> {renamed.display_name}",
    )
    return renamed


# Check, do, notify: what the pages and the API call.


async def remove_message(
    *, db: Database, bus: EventBus, message_id: int, by: Moderator = None, room_slug: str | None = None
) -> None:
    slug = await db.run(delete_message, message_id=message_id, by=by, room_slug=room_slug)
    await bus.publish(room_channel(slug), encode(MessageDeleted(room=slug, message_id=message_id)))


async def remove_room(*, db: Database, bus: EventBus, media: MediaStore, slug: str) -> None:
    keys = await db.run(delete_room, slug=slug)
    await anyio.to_thread.run_sync(lambda: [media.delete(key) for key in keys])
    event = encode(RoomDeleted(room=slug))
    await bus.publish(room_channel(slug), event)
    await bus.publish(ROOMS_CHANNEL, event)


async def lock(*, db: Database, bus: EventBus, slug: str, locked: bool, by: Moderator = None) -> RoomState:
    room = await db.run(set_locked, slug=slug, locked=locked, by=by)
    await _room_updated(bus, room)
    return room


async def edit(*, db: Database, bus: EventBus, slug: str, update: RoomUpdate, by: Moderator = None) -> RoomState:
    room = await db.run(edit_room, slug=slug, update=update, by=by)
    await _room_updated(bus, room)
    return room


async def remove_from_room(*, db: Database, bus: EventBus, slug: str, guest_id: int, by: Moderator = None) -> RoomState:
    room = await db.run(remove_guest, slug=slug, guest_id=guest_id, by=by)
    await bus.publish(room_channel(slug), encode(GuestRemoved(room=slug, guest_id=guest_id)))
    await _room_updated(bus, room)
    return room


async def _room_updated(bus: EventBus, room: RoomState) -> None:
    """Open views of the room and the room list both show what changed."""
    event = encode(RoomUpdated(room=room))
    await bus.publish(room_channel(room.slug), event)
    await bus.publish(ROOMS_CHANNEL, event)

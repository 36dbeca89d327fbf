"""Moderation: delete messages and rooms, ban and unban guests. Each notifies after its commit."""

import anyio.to_thread
from sqlmodel import Session, col, select

from models.audit import AuditEntry, AuditEntryPublic
from models.base import utcnow
from models.guest import Guest, GuestPublic
from models.image import Image
from models.message import Message
from models.room import Room
from services.bus import EventBus
from services.database import Database
from services.errors import NotFound
from services.events import ROOMS_CHANNEL, MessageDeleted, RoomDeleted, encode, room_channel
from services.media import MediaStore


def record(session: Session, *, actor: str, action: str, target: str, detail: str = "") -> None:
    """An audit entry, written in the same transaction as the action it records."""
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail[:500]))


def audit_log(*, session: Session, limit: int = 100) -> list[AuditEntryPublic]:
    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()
    return [AuditEntryPublic.model_validate(entry, from_attributes=True) for entry in entries]


def set_locked(*, session: Session, slug: str, locked: bool, actor: str) -> None:
    room = session.exec(select(Room).where(Room.slug == slug)).first()
    if room is None:
        raise NotFound(f"no room {slug!r}")
    room.locked_at = (room.locked_at or utcnow()) if locked else None
    session.add(room)
    record(session, actor=actor, action="room.lock" if locked else "room.unlock", target=f"room:{slug}")


def delete_message(*, session: Session, message_id: int, actor: str = "admin") -> str:
    """Mark the message deleted (its id is never reused or paged again); returns its room's slug."""
    row = session.exec(
        select(Message, Room.slug).join(Room, col(Room.id) == Message.room_id).where(Message.id == message_id)
    ).first()
    if row is None or row[0].deleted_at is not None:
        raise NotFound(f"no message {message_id}")
    message, slug = row
    message.deleted_at = utcnow()
    session.add(message)
    record(session, actor=actor, action="message.delete", target=f"message:{message_id}", detail=message.text[:200])
    return slug


def delete_room(*, session: Session, slug: str, actor: str = "admin") -> list[str]:
    """Delete the room with its messages and memberships; returns the media keys to remove."""
    room = session.exec(select(Room).where(Room.slug == slug)).first()
    if room is None:
        raise NotFound(f"no room {slug!r}")
    images = session.exec(
        select(Image).join(Message, col(Message.image_id) == Image.id).where(Message.room_id == room.id)
    ).all()
    keys = [key for image in images for key in (image.key, image.thumbnail_key)]
    session.delete(room)  # messages and memberships go with it (ON DELETE CASCADE)
    session.flush()
    for image in images:
        session.delete(image)
    record(session, actor=actor, action="room.delete", target=f"room:{slug}", detail=room.name)
    return keys


def set_banned(*, session: Session, guest_id: int, banned: bool, actor: str = "admin") -> GuestPublic:
    guest = session.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"no guest with id {guest_id}")
    guest.banned_at = (guest.banned_at or utcnow()) if banned else None
    session.add(guest)
    record(session, actor=actor, action="guest.ban" if banned else "guest.unban", target=f"guest:{guest_id}")
    assert guest.id is not None
    return GuestPublic(id=guest.id, display_name=guest.display_name)


async def remove_message(*, db: Database, bus: EventBus, message_id: int) -> None:
    slug = await db.run(delete_message, message_id=message_id)
    await bus.publish(room_channel(slug), encode(MessageDeleted(room=slug, message_id=message_id)))


async def remove_room(*, db: Database, bus: EventBus, media: MediaStore, slug: str) -> None:
    keys = await db.run(delete_room, slug=slug)
    await anyio.to_thread.run_sync(lambda: [media.delete(key) for key in keys])
    event = encode(RoomDeleted(room=slug))
    await bus.publish(room_channel(slug), event)
    await bus.publish(ROOMS_CHANNEL, event)

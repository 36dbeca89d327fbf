"""Moderation: delete messages and rooms, ban and unban guests. Each notifies after its commit."""

import anyio.to_thread
from sqlmodel import Session, col, select

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


def delete_message(*, session: Session, message_id: int) -> str:
    """Mark the message deleted (its id is never reused or paged again); returns its room's slug."""
    row = session.exec(
        select(Message, Room.slug).join(Room, col(Room.id) == Message.room_id).where(Message.id == message_id)
    ).first()
    if row is None or row[0].deleted_at is not None:
        raise NotFound(f"no message {message_id}")
    message, slug = row
    message.deleted_at = utcnow()
    session.add(message)
    return slug


def delete_room(*, session: Session, slug: str) -> list[str]:
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
    return keys


def set_banned(*, session: Session, guest_id: int, banned: bool) -> GuestPublic:
    guest = session.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"no guest with id {guest_id}")
    guest.banned_at = (guest.banned_at or utcnow()) if banned else None
    session.add(guest)
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

"""What the admin pages show: counts, and searchable lists of rooms, guests and messages."""

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.admin import GuestRow, MessageRow, Overview, RoomRow
from models.base import utcnow
from models.guest import Guest
from models.image import Image
from models.message import Message
from models.room import Membership, Room

LIST_LIMIT = 200


def overview(*, session: Session) -> Overview:
    since = utcnow() - timedelta(days=1)
    count = func.count()
    return Overview(
        rooms=session.exec(select(count).select_from(Room)).one(),
        guests=session.exec(select(count).select_from(Guest)).one(),
        messages_today=session.exec(
            select(count).select_from(Message).where(Message.created_at >= since, col(Message.deleted_at).is_(None))
        ).one(),
        images=session.exec(select(count).select_from(Image)).one(),
        image_bytes=session.exec(select(func.coalesce(func.sum(Image.size_bytes), 0))).one(),
    )


def find_rooms(*, session: Session, search: str = "") -> list[RoomRow]:
    members = select(func.count()).where(Membership.room_id == Room.id).correlate(Room).scalar_subquery()
    query = select(Room, members).order_by(col(Room.last_activity_at).desc()).limit(LIST_LIMIT)
    if search.strip():
        query = query.where(col(Room.name_key).contains(search.strip().casefold(), autoescape=True))
    return [
        RoomRow(
            slug=room.slug,
            name=room.name,
            description=room.description,
            members=count,
            locked=room.locked_at is not None,
            last_message_at=room.last_message_at.isoformat(timespec="seconds") if room.last_message_at else "",
        )
        for room, count in session.exec(query).all()
    ]


def find_guests(*, session: Session, search: str = "") -> list[GuestRow]:
    query = select(Guest).order_by(col(Guest.id).desc()).limit(LIST_LIMIT)
    if search.strip():
        query = query.where(func.lower(Guest.display_name).contains(search.strip().lower(), autoescape=True))
    return [
        GuestRow(
            id=guest.id or 0,
            display_name=guest.display_name,
            banned=guest.banned_at is not None,
            created_at=guest.created_at.isoformat(timespec="seconds"),
        )
        for guest in session.exec(query).all()
    ]


def find_messages(*, session: Session, room: str = "", author: str = "", text: str = "") -> list[MessageRow]:
    query = (
        select(Message, Room.slug, Guest.display_name)
        .join(Room, col(Room.id) == Message.room_id)
        .join(Guest, col(Guest.id) == Message.author_id)
        .where(col(Message.deleted_at).is_(None))
        .order_by(col(Message.id).desc())
        .limit(LIST_LIMIT)
    )
    if room.strip():
        query = query.where(col(Room.slug).contains(room.strip().lower(), autoescape=True))
    if author.strip():
        query = query.where(func.lower(Guest.display_name).contains(author.strip().lower(), autoescape=True))
    if text.strip():
        query = query.where(func.lower(Message.text).contains(text.strip().lower(), autoescape=True))
    return [
        MessageRow(
            id=message.id or 0,
            room=slug,
            author=name,
            text=message.text,
            created_at=message.created_at.isoformat(timespec="seconds"),
        )
        for message, slug, name in session.exec(query).all()
    ]

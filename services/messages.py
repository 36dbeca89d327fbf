"""Messages: send text or an image, and page through a room's history by id (keyset)."""

import time
from functools import partial

import anyio.to_thread
from sqlalchemy import update
from sqlmodel import Session, col, select

from models.guest import Guest, GuestPublic
from models.image import Image, ImagePublic
from models.message import MESSAGE_TEXT_MAX, Message, MessagePage, MessagePublic
from models.room import Room
from services import media as media_keys
from services.bus import EventBus
from services.database import Database
from services.errors import Forbidden, InvalidInput, NotFound
from services.events import ROOMS_CHANNEL, MessageCreated, RoomActivity, encode, room_channel
from services.images import ProcessedImage, check_size, process_image
from services.media import MediaStore
from services.rate_limit import NoLimit, RateLimiter
from services.rooms import check_not_removed, ensure_membership, room_by_slug
from services.text import checked_text

NO_LIMIT = NoLimit()
PAGE_LIMIT_MAX = 100
PAGE_LIMIT_DEFAULT = 50


def validate_text(raw: str, *, allow_empty: bool = False) -> str:
    return checked_text(raw, what="message", max_length=MESSAGE_TEXT_MAX, allow_empty=allow_empty)


def create_text_message(*, session: Session, room_slug: str, author_id: int, text: str) -> MessagePublic:
    text = validate_text(text)
    return _insert(session, room_slug=room_slug, author_id=author_id, kind="text", text=text)


def create_image_message(
    *, session: Session, room_slug: str, author_id: int, caption: str, image: Image
) -> MessagePublic:
    caption = validate_text(caption, allow_empty=True)
    session.add(image)
    session.flush()
    return _insert(session, room_slug=room_slug, author_id=author_id, kind="image", text=caption, image=image)


def _insert(
    session: Session, *, room_slug: str, author_id: int, kind: str, text: str, image: Image | None = None
) -> MessagePublic:
    # Lock the room's row first (PostgreSQL; SQLite serialises writers anyway): concurrent senders
    # in one room then take ids and times in commit order, so a reader catching up with
    # ?after=<last id> never misses a message that commits late with a smaller id.
    room, author = check_may_post(session=session, room_slug=room_slug, author_id=author_id, lock_room=True)
    assert room.id is not None
    message = Message(room_id=room.id, author_id=author_id, kind=kind, text=text, image_id=image and image.id)
    session.exec(  # type: ignore[call-overload]
        update(Room)
        .where(col(Room.id) == room.id)
        .values(last_message_at=message.created_at, last_activity_at=message.created_at)
    )
    ensure_membership(session, room_id=room.id, guest_id=author_id)  # posting in a room joins it
    session.add(message)
    session.flush()
    assert author is not None
    return _public(message, room_slug=room.slug, author=author, image=image)


def page_messages(
    *,
    session: Session,
    room_slug: str,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_LIMIT_DEFAULT,
) -> MessagePage:
    """A page of messages, oldest first.

    Newest page by default; with `before`, the newest `limit` older than it; with `after`,
    the oldest `limit` newer than it. has_more says whether the walk can go on that way.
    """
    if before is not None and after is not None:
        raise InvalidInput("use either before or after, not both")
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {PAGE_LIMIT_MAX}")
    # One round trip with plain columns: the room is found in a subquery, and rows are not turned
    # into ORM objects (at a page of 50 that was most of the time; see docs/PERFORMANCE.md).
    room_id = select(Room.id).where(Room.slug == room_slug).scalar_subquery()
    query = (
        select(
            Message.id,
            Message.kind,
            Message.text,
            Message.created_at,
            Guest.id,
            Guest.display_name,
            Image.key,
            Image.thumbnail_key,
            Image.width,
            Image.height,
        )
        .join(Guest, col(Guest.id) == Message.author_id)
        .outerjoin(Image, col(Image.id) == Message.image_id)
        .where(Message.room_id == room_id, col(Message.deleted_at).is_(None))
    )
    if after is not None:
        query = query.where(col(Message.id) > after).order_by(col(Message.id).asc())
    else:
        if before is not None:
            query = query.where(col(Message.id) < before)
        query = query.order_by(col(Message.id).desc())
    rows = session.execute(query.limit(limit + 1)).all()
    if not rows:
        room_by_slug(session, room_slug)  # an empty page: is there such a room at all?
    has_more = len(rows) > limit
    rows = rows[:limit]
    if after is None:
        rows.reverse()
    messages = [
        MessagePublic(
            id=message_id,
            room=room_slug,
            author=GuestPublic(id=author_id, display_name=author_name),
            kind="image" if kind == "image" else "text",
            text=text,
            image=None if key is None else _image_public(key, thumbnail_key, width, height),
            created_at=created_at,
        )
        for message_id, kind, text, created_at, author_id, author_name, key, thumbnail_key, width, height in rows
    ]
    return MessagePage(messages=messages, has_more=has_more)


def _public(message: Message, *, room_slug: str, author: Guest, image: Image | None) -> MessagePublic:
    assert message.id is not None and author.id is not None
    return MessagePublic(
        id=message.id,
        room=room_slug,
        author=GuestPublic(id=author.id, display_name=author.display_name),
        kind="image" if message.kind == "image" else "text",
        text=message.text,
        image=_image_public(image.key, image.thumbnail_key, image.width, image.height) if image else None,
        created_at=message.created_at,
    )


def _image_public(key: str, thumbnail_key: str, width: int, height: int) -> ImagePublic:
    return ImagePublic(
        url=media_keys.public_url(key), thumbnail_url=media_keys.public_url(thumbnail_key), width=width, height=height
    )


# Check, do, notify: what the UI and the API call.


async def send_text(
    *, db: Database, bus: EventBus, room_slug: str, author_id: int, text: str, limiter: RateLimiter = NO_LIMIT
) -> MessagePublic:
    await limiter.hit(f"guest:{author_id}")
    message = await db.run(create_text_message, room_slug=room_slug, author_id=author_id, text=text)
    await _announce(bus, message)
    return message


async def send_image(
    *,
    db: Database,
    bus: EventBus,
    media: MediaStore,
    room_slug: str,
    author_id: int,
    data: bytes,
    caption: str = "",
    max_bytes: int,
    limiter: RateLimiter = NO_LIMIT,
) -> MessagePublic:
    # Check: cheap refusals first, before any decoding work.
    check_size(len(data), max_bytes=max_bytes)
    validate_text(caption, allow_empty=True)
    await limiter.hit(f"guest:{author_id}")
    await db.run(check_may_post, room_slug=room_slug, author_id=author_id)  # before any decoding work
    processed = await anyio.to_thread.run_sync(partial(process_image, data, max_bytes=max_bytes))
    # Do: the files first, then the rows; if the rows fail, the files go again.
    original_key, thumbnail_key = media_keys.new_image_keys(processed.extension)
    await anyio.to_thread.run_sync(_store_files, media, processed, original_key, thumbnail_key)
    image = Image(
        key=original_key,
        thumbnail_key=thumbnail_key,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.data) + len(processed.thumbnail),
    )
    try:
        message = await db.run(
            create_image_message, room_slug=room_slug, author_id=author_id, caption=caption, image=image
        )
    except BaseException:
        await anyio.to_thread.run_sync(_delete_files, media, original_key, thumbnail_key)
        raise
    await _announce(bus, message)
    return message


def check_may_post(
    *, session: Session, room_slug: str, author_id: int, lock_room: bool = False
) -> tuple[Room, Guest | None]:
    """The room, if it exists and is open, and the author, unless banned; else the reason."""
    query = select(Room).where(Room.slug == room_slug)
    room = session.exec(query.with_for_update() if lock_room else query).first()
    if room is None:
        raise NotFound(f"no room {room_slug!r}")
    if room.locked_at is not None:
        raise Forbidden("this room is locked by a moderator: it can be read, not written to")
    author = session.get(Guest, author_id)
    if author is not None and author.banned_at is not None:
        raise Forbidden("you have been banned from posting; you can still read")
    check_not_removed(session, room, author_id)
    return room, author


async def _announce(bus: EventBus, message: MessagePublic) -> None:
    await bus.publish(room_channel(message.room), encode(MessageCreated(room=message.room, message=message)))
    if _activity_throttle.due(message.room):
        activity = RoomActivity(room=message.room, last_message_at=message.created_at)
        await bus.publish(ROOMS_CHANNEL, encode(activity))


class _Throttle:
    """Room lists only need to know that a room is active, not of every message in it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: dict[str, float] = {}

    def due(self, key: str) -> bool:
        now = time.monotonic()
        if now - self._last.get(key, -self.seconds) < self.seconds:
            return False
        if len(self._last) > 10_000:  # forget rooms long quiet rather than grow without end
            self._last = {k: t for k, t in self._last.items() if now - t < self.seconds}
        self._last[key] = now
        return True


_activity_throttle = _Throttle(seconds=3.0)


def _store_files(media: MediaStore, processed: ProcessedImage, original_key: str, thumbnail_key: str) -> None:
    media.save(original_key, processed.data)
    media.save(thumbnail_key, processed.thumbnail)


def _delete_files(media: MediaStore, *keys: str) -> None:
    for key in keys:
        media.delete(key)

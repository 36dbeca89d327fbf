"""Messages: send text or an image, and page through a room's history by id (keyset).

`send_message` is one transaction: run it with `Database.run`, which publishes its
`message.created` once the message is committed. `send_image` has work outside the database
(decoding, storing files), so it takes the database and runs its transactions itself.
"""

import time
from functools import partial

import anyio.to_thread
from sqlalchemy import Select, update
from sqlmodel import Session, col, select

from models.guest import Guest, GuestPublic
from models.image import Image, ImagePublic
from models.message import MESSAGE_TEXT_MAX, Message, MessagePage, MessagePublic
from models.room import Room
from services import media as media_keys
from services.database import Database, send_event_on_commit
from services.errors import Forbidden, InvalidInput, NotFound
from services.events import MessageCreated, RoomActivity
from services.guests import check_may_write
from services.image_pool import ImageProcessor, ThreadImageProcessor
from services.images import ProcessedImage, check_header, check_size
from services.media import MediaStore
from services.rate_limit import NoLimit, RateLimiter
from services.rooms import check_not_removed, ensure_membership, room_by_slug
from services.text import checked_text

NO_LIMIT = NoLimit()
IN_THREAD = ThreadImageProcessor()  # for direct callers (tests, scripts); the app passes its pool
PAGE_LIMIT_MAX = 100
PAGE_LIMIT_DEFAULT = 50


def validate_text(raw: str, *, allow_empty: bool = False) -> str:
    return checked_text(raw, what="message", max_length=MESSAGE_TEXT_MAX, allow_empty=allow_empty)


def send_message(
    *, session: Session, room_slug: str, author_id: int, text: str, limiter: RateLimiter = NO_LIMIT
) -> MessagePublic:
    """Post a text message: the author joins the room by posting in it."""
    text = validate_text(text)
    limiter.hit(f"guest:{author_id}")  # before any query: a refusal costs no connection
    return _insert(session, room_slug=room_slug, author_id=author_id, kind="text", text=text)


async def send_image(
    *,
    db: Database,
    media: MediaStore,
    room_slug: str,
    author_id: int,
    data: bytes,
    caption: str = "",
    max_bytes: int,
    limiter: RateLimiter = NO_LIMIT,
    images: ImageProcessor = IN_THREAD,
) -> MessagePublic:
    """Post an image with an optional caption: cheap refusals first, then the decoding (by
    `images`: the app's pool of worker processes, which may answer Busy), then the files, then
    the message. If the message cannot be saved, the files go again."""
    check_size(len(data), max_bytes=max_bytes)
    caption = validate_text(caption, allow_empty=True)
    await db.run(_check_may_send, room_slug=room_slug, author_id=author_id, limiter=limiter)
    await anyio.to_thread.run_sync(partial(check_header, data, max_bytes=max_bytes))  # a bomb never queues
    processed = await images.process(data, max_bytes=max_bytes)
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
        return await db.run(_insert_image, room_slug=room_slug, author_id=author_id, caption=caption, image=image)
    except BaseException:
        await anyio.to_thread.run_sync(_delete_files, media, original_key, thumbnail_key)
        raise


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
    author = check_may_write(session, author_id)  # banned, or no such guest: Forbidden
    check_not_removed(session, room, author_id)
    return room, author


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
    query = _history_query(room_slug)
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
    return MessagePage(messages=[_row_message(room_slug, row) for row in rows], has_more=has_more)


def _history_query(room_slug: str) -> Select:  # type: ignore[type-arg]
    """One round trip with plain columns: the room is found in a subquery, and rows are not turned
    into ORM objects (at a page of 50 that was most of the time; see docs/PERFORMANCE.md)."""
    room_id = select(Room.id).where(Room.slug == room_slug).scalar_subquery()
    return (
        select(  # type: ignore[call-overload]
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


def _row_message(room_slug: str, row: tuple) -> MessagePublic:  # type: ignore[type-arg]
    message_id, kind, text, created_at, author_id, author_name, key, thumbnail_key, width, height = row
    return MessagePublic(
        id=message_id,
        room=room_slug,
        author=GuestPublic(id=author_id, display_name=author_name),
        kind="image" if kind == "image" else "text",
        text=text,
        image=None if key is None else _image_public(key, thumbnail_key, width, height),
        created_at=created_at,
    )


def _check_may_send(*, session: Session, room_slug: str, author_id: int, limiter: RateLimiter) -> None:
    limiter.hit(f"guest:{author_id}")
    check_may_post(session=session, room_slug=room_slug, author_id=author_id)


def _insert_image(*, session: Session, room_slug: str, author_id: int, caption: str, image: Image) -> MessagePublic:
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
    session.flush()  # an author that does not exist fails here, on the foreign key
    assert author is not None
    public = _public(message, room_slug=room.slug, author=author, image=image)
    send_event_on_commit(session, MessageCreated(room=room.slug, message=public))
    if _activity_throttle.due(room.slug):
        send_event_on_commit(session, RoomActivity(room=room.slug, last_message_at=message.created_at))
    return public


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

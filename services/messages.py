"""Messages: send text or an image, reply to one, edit one, and page through a room's history by
id (keyset).

`send_message` and `edit_message` are one transaction each: run them with `Database.run`, which
publishes their `message.created` / `message.updated` once the change is committed. `send_image`
has work outside the database (decoding, storing files), so it takes the database and runs its
transactions itself.

Every MessagePublic made here (sent, edited, paged, fetched) carries its conversation fields
(CONTRACT §6): `edited_at`, the `reply_to` quote, `reactions` and `mentions`. A page gets them
with a fixed number of queries whatever its size: the quote comes with the page's own query (a
self-join), then one query for the page's reactions and one for its mentions.
"""

import time
from collections.abc import Sequence
from functools import partial

import anyio.to_thread
from sqlalchemy import Row, Select, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models.base import utcnow
from models.guest import Guest, GuestPublic
from models.image import Image, ImagePublic
from models.message import (
    MESSAGE_TEXT_MAX,
    REPLY_QUOTE_MAX,
    Mention,
    Message,
    MessagePage,
    MessagePublic,
    MessageWindow,
    Reaction,
    ReactionPublic,
    ReplyQuote,
)
from models.room import Membership, Room
from services import media as media_keys
from services.access import may_read, raise_not_found
from services.database import Database, send_event_on_commit
from services.errors import Forbidden, InvalidInput, NotFound
from services.events import MessageCreated, MessageUpdated, ReadMarked, RoomActivity
from services.guests import check_may_write
from services.image_pool import ImageProcessor, ThreadImageProcessor
from services.images import ProcessedImage, check_header, check_size
from services.media import MediaStore
from services.mentions import store_mentions
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
    *,
    session: Session,
    room_slug: str,
    author_id: int,
    text: str,
    reply_to: int | None = None,
    limiter: RateLimiter = NO_LIMIT,
) -> MessagePublic:
    """Post a text message, perhaps replying to `reply_to` (a message of the same room that is not
    deleted, else InvalidInput). The author joins the room by posting in it, and has read it up
    to their own message; the members it names are mentioned."""
    text = validate_text(text)
    limiter.hit(f"guest:{author_id}")  # before any query: a refusal costs no connection
    return _insert(session, room_slug=room_slug, author_id=author_id, kind="text", text=text, reply_to=reply_to)


def edit_message(
    *,
    session: Session,
    room_slug: str,
    message_id: int,
    editor_id: int,
    text: str,
    limiter: RateLimiter = NO_LIMIT,
) -> MessagePublic:
    """Its author changes a message's text (an image's caption, which may become empty): the same
    rules as posting. Refused like posting (ban, lock, removal); a deleted or unknown message is
    NotFound, someone else's Forbidden. The mentions are found again. An unchanged text changes
    nothing and announces nothing."""
    text = validate_text(text, allow_empty=True)  # whether it may be empty depends on the kind
    room, _ = check_may_post(session=session, room_slug=room_slug, author_id=editor_id)
    message = live_message(session, room=room, message_id=message_id, for_update=True)
    if message.author_id != editor_id:
        raise Forbidden("only its author can edit a message")
    if not text and message.kind != "image":
        raise InvalidInput("the message must not be empty")
    if text == message.text:
        return get_message(session=session, room_slug=room_slug, message_id=message_id)
    limiter.hit(f"guest:{editor_id}")  # every edit reaches every view, like a new message
    message.text, message.edited_at = text, utcnow()
    session.add(message)
    session.flush()
    assert room.id is not None
    store_mentions(session, message_id=message_id, room_id=room.id, text=text)
    return announce_update(session, room_slug=room_slug, message_id=message_id)


def get_message(*, session: Session, room_slug: str, message_id: int) -> MessagePublic:
    """One message of the room as a page shows it, or NotFound (deleted, unknown, another room's)."""
    rows = session.execute(_history_query(room_slug).where(col(Message.id) == message_id)).all()
    if not rows:
        raise NotFound(f"no message {message_id} in {room_slug!r}")
    return _complete(session, room_slug, rows)[0]


def announce_update(session: Session, *, room_slug: str, message_id: int) -> MessagePublic:
    """The message as it is now, sent to every view of its room once the change commits."""
    public = get_message(session=session, room_slug=room_slug, message_id=message_id)
    send_event_on_commit(session, MessageUpdated(room=room_slug, message=public))
    return public


def live_message(session: Session, *, room: Room, message_id: int, for_update: bool = False) -> Message:
    """The room's message, unless it is deleted: else NotFound. With `for_update` its row stays
    locked until the commit (PostgreSQL), so that a concurrent delete is either before (404) or
    after this change, never overwritten by it."""
    query = select(Message).where(Message.id == message_id, Message.room_id == room.id)
    message = session.exec(query.with_for_update() if for_update else query).first()
    if message is None or message.deleted_at is not None:
        raise NotFound(f"no message {message_id} in {room.slug!r}")
    return message


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
    reply_to: int | None = None,
) -> MessagePublic:
    """Post an image with an optional caption: cheap refusals first, then the decoding (by
    `images`: the app's pool of worker processes, which may answer Busy), then the files, then
    the message. If the message cannot be saved, the files go again."""
    check_size(len(data), max_bytes=max_bytes)
    caption = validate_text(caption, allow_empty=True)
    private_room = await db.run(
        _check_may_send, room_slug=room_slug, author_id=author_id, limiter=limiter, reply_to=reply_to
    )
    await anyio.to_thread.run_sync(partial(check_header, data, max_bytes=max_bytes))  # a bomb never queues
    processed = await images.process(data, max_bytes=max_bytes)
    # A private room's images get keys that the media route serves to its members only.
    original_key, thumbnail_key = media_keys.new_image_keys(processed.extension, private_room=private_room)
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
        return await db.run(
            _insert_image, room_slug=room_slug, author_id=author_id, caption=caption, image=image, reply_to=reply_to
        )
    except BaseException:
        await anyio.to_thread.run_sync(_delete_files, media, original_key, thumbnail_key)
        raise


def check_may_post(
    *, session: Session, room_slug: str, author_id: int, lock_room: bool = False
) -> tuple[Room, Guest | None]:
    """The room, if it exists and is open, and the author, unless banned; else the reason."""
    query = select(Room).where(Room.slug == room_slug)
    room = session.exec(query.with_for_update() if lock_room else query).first()
    if room is None or not may_read(session, room, author_id):  # posting would join a private room
        raise_not_found(room_slug)
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
    return MessagePage(messages=_complete(session, room_slug, rows), has_more=has_more)


def page_around(*, session: Session, room_slug: str, around: int, limit: int = PAGE_LIMIT_DEFAULT) -> MessageWindow:
    """The message `around` with up to `limit` messages in all around it, oldest first: as many
    older ones as newer ones where both sides have them, the other side's share where one runs
    short. NotFound unless `around` is a live message of the room. Two keyset walks of the
    (room_id, id) index, one each way from `around`, and the page's two completing queries."""
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {PAGE_LIMIT_MAX}")
    query = _history_query(room_slug)
    # The message itself and up to `limit` older ones, newest first; then up to `limit` newer ones.
    # Either side may take every place but the message's, and one row more than it takes tells
    # that more lie beyond.
    up_to = session.execute(
        query.where(col(Message.id) <= around).order_by(col(Message.id).desc()).limit(limit + 1)
    ).all()
    if not up_to or up_to[0].id != around:
        room_by_slug(session, room_slug)  # no such room says so; else the message is not there
        raise NotFound(f"no message {around} in {room_slug!r}")
    newer = session.execute(query.where(col(Message.id) > around).order_by(col(Message.id).asc()).limit(limit)).all()
    older = up_to[1:]
    places = limit - 1
    older_taken = min(len(older), max((places + 1) // 2, places - len(newer)))
    newer_taken = min(len(newer), places - older_taken)
    rows = [*reversed(older[:older_taken]), up_to[0], *newer[:newer_taken]]
    return MessageWindow(
        messages=_complete(session, room_slug, rows),
        has_more=len(older) > older_taken,
        has_newer=len(newer) > newer_taken,
    )


def messages_by_ids(*, session: Session, ids: Sequence[int]) -> list[MessagePublic]:
    """The live messages among `ids`, from any rooms, in the order of `ids`, as history shows them
    (search results): one query for the rows with their rooms' slugs, two for the reactions and
    mentions. A deleted or unknown id is left out."""
    if not ids:
        return []
    query = _live_messages().add_columns(col(Room.slug).label("room_slug")).join(Room, col(Room.id) == Message.room_id)
    by_id = {row.id: row for row in session.execute(query.where(col(Message.id).in_(ids))).all()}
    return _complete(session, None, [by_id[message_id] for message_id in ids if message_id in by_id])


_Quoted = aliased(Message, name="quoted")
_QuotedAuthor = aliased(Guest, name="quoted_author")


def _history_query(room_slug: str) -> Select:  # type: ignore[type-arg]
    """One round trip with plain columns: the room is found in a subquery, the quoted message of a
    reply and its author by outer self-joins, and rows are not turned into ORM objects (at a page
    of 50 that was most of the time; see docs/PERFORMANCE.md)."""
    room_id = select(Room.id).where(Room.slug == room_slug).scalar_subquery()
    return _live_messages().where(Message.room_id == room_id)


def _live_messages() -> Select:  # type: ignore[type-arg]
    """_history_query's columns and joins, in any room."""
    return (
        select(  # type: ignore[call-overload]
            Message.id,
            Message.kind,
            Message.text,
            Message.created_at,
            Message.edited_at,
            col(Guest.id).label("author_id"),
            col(Guest.display_name).label("author_name"),
            Image.key,
            Image.thumbnail_key,
            Image.width,
            Image.height,
            col(_Quoted.id).label("quoted_id"),
            col(_Quoted.kind).label("quoted_kind"),
            func.substr(_Quoted.text, 1, REPLY_QUOTE_MAX).label("quoted_text"),
            col(_Quoted.deleted_at).label("quoted_deleted_at"),
            col(_QuotedAuthor.id).label("quoted_author_id"),
            col(_QuotedAuthor.display_name).label("quoted_author_name"),
        )
        .join(Guest, col(Guest.id) == Message.author_id)
        .outerjoin(Image, col(Image.id) == Message.image_id)
        .outerjoin(_Quoted, col(_Quoted.id) == Message.reply_to_id)
        .outerjoin(_QuotedAuthor, col(_QuotedAuthor.id) == _Quoted.author_id)
        .where(col(Message.deleted_at).is_(None))
    )


def _complete(session: Session, room_slug: str | None, rows: Sequence[Row]) -> list[MessagePublic]:  # type: ignore[type-arg]
    """The rows of _history_query as messages, with their reactions and mentions: two queries
    for the whole page, never one per message. Rows from several rooms (room_slug None) carry
    their own room's slug as `room_slug`."""
    ids = [row.id for row in rows]
    reactions = _reactions(session, ids)
    mentions = _mentions(session, ids)
    return [
        _row_message(
            room_slug or row.room_slug, row, reactions=reactions.get(row.id, ()), mentions=mentions.get(row.id, ())
        )
        for row in rows
    ]


def _row_message(
    room_slug: str,
    row: Row,  # type: ignore[type-arg]
    *,
    reactions: tuple[ReactionPublic, ...],
    mentions: tuple[int, ...],
) -> MessagePublic:
    return MessagePublic(
        id=row.id,
        room=room_slug,
        author=GuestPublic(id=row.author_id, display_name=row.author_name),
        kind="image" if row.kind == "image" else "text",
        text=row.text,
        image=None if row.key is None else _image_public(row.key, row.thumbnail_key, row.width, row.height),
        created_at=row.created_at,
        edited_at=row.edited_at,
        reply_to=_row_quote(row),
        reactions=reactions,
        mentions=mentions,
    )


def _row_quote(row: Row) -> ReplyQuote | None:  # type: ignore[type-arg]
    # A reply whose original is gone altogether (its author's guest was erased) shows no quote.
    if row.quoted_id is None or row.quoted_author_id is None:
        return None
    deleted = row.quoted_deleted_at is not None
    return ReplyQuote(
        id=row.quoted_id,
        author=GuestPublic(id=row.quoted_author_id, display_name=row.quoted_author_name),
        kind="image" if row.quoted_kind == "image" else "text",
        text="" if deleted else row.quoted_text,
        deleted=deleted,
    )


def _reactions(session: Session, message_ids: list[int]) -> dict[int, tuple[ReactionPublic, ...]]:
    """Each message's reactions, emoji in the order of their first use, guests in theirs (a
    reaction joining an emoji takes the created_at of its first use: services/reactions.py)."""
    if not message_ids:
        return {}
    rows = session.execute(
        select(Reaction.message_id, Reaction.emoji, Reaction.guest_id)
        .where(col(Reaction.message_id).in_(message_ids))
        .order_by(col(Reaction.created_at), col(Reaction.id))
    ).all()
    grouped: dict[int, dict[str, list[int]]] = {}
    for message_id, emoji, guest_id in rows:
        grouped.setdefault(message_id, {}).setdefault(emoji, []).append(guest_id)  # dicts keep first use first
    return {message_id: tuple(_reaction(emoji, ids) for emoji, ids in by.items()) for message_id, by in grouped.items()}


def _reaction(emoji: str, guest_ids: list[int]) -> ReactionPublic:
    return ReactionPublic(emoji=emoji, count=len(guest_ids), guest_ids=tuple(guest_ids))


def _mentions(session: Session, message_ids: list[int]) -> dict[int, tuple[int, ...]]:
    if not message_ids:
        return {}
    rows = session.execute(
        select(Mention.message_id, Mention.guest_id)
        .where(col(Mention.message_id).in_(message_ids))
        .order_by(col(Mention.message_id), col(Mention.guest_id))
    ).all()
    grouped: dict[int, list[int]] = {}
    for message_id, guest_id in rows:
        grouped.setdefault(message_id, []).append(guest_id)
    return {message_id: tuple(guest_ids) for message_id, guest_ids in grouped.items()}


def _check_may_send(
    *, session: Session, room_slug: str, author_id: int, limiter: RateLimiter, reply_to: int | None = None
) -> int | None:
    """Before an image is decoded: everything that would refuse it anyway. The room's id if it is
    private (its images' keys name it), else None."""
    limiter.hit(f"guest:{author_id}")
    room, _ = check_may_post(session=session, room_slug=room_slug, author_id=author_id)
    if reply_to is not None:
        _reply_quote(session, room=room, reply_to=reply_to)
    return room.id if room.is_private else None


def _insert_image(
    *, session: Session, room_slug: str, author_id: int, caption: str, image: Image, reply_to: int | None = None
) -> MessagePublic:
    session.add(image)
    session.flush()
    return _insert(
        session, room_slug=room_slug, author_id=author_id, kind="image", text=caption, image=image, reply_to=reply_to
    )


def _insert(
    session: Session,
    *,
    room_slug: str,
    author_id: int,
    kind: str,
    text: str,
    image: Image | None = None,
    reply_to: int | None = None,
) -> MessagePublic:
    # Lock the room's row first (PostgreSQL; SQLite serialises writers anyway): concurrent senders
    # in one room then take ids and times in commit order, so a reader catching up with
    # ?after=<last id> never misses a message that commits late with a smaller id.
    room, author = check_may_post(session=session, room_slug=room_slug, author_id=author_id, lock_room=True)
    assert room.id is not None and author is not None
    quote = _reply_quote(session, room=room, reply_to=reply_to) if reply_to is not None else None
    message = Message(
        room_id=room.id, author_id=author_id, kind=kind, text=text, image_id=image and image.id, reply_to_id=reply_to
    )
    session.exec(  # type: ignore[call-overload]
        update(Room)
        .where(col(Room.id) == room.id)
        .values(last_message_at=message.created_at, last_activity_at=message.created_at)
    )
    ensure_membership(session, room_id=room.id, guest_id=author_id)  # posting in a room joins it
    session.add(message)
    session.flush()  # an author that does not exist fails here, on the foreign key
    assert message.id is not None
    mentions = store_mentions(session, message_id=message.id, room_id=room.id, text=text, replacing=False)
    _read_own_message(session, room=room, author_id=author_id, message_id=message.id)
    public = _public(message, room_slug=room.slug, author=author, image=image, reply_to=quote, mentions=mentions)
    send_event_on_commit(session, MessageCreated(room=room.slug, message=public))
    if _activity_throttle.due(room.slug):
        send_event_on_commit(session, RoomActivity(room=room.slug, last_message_at=message.created_at))
    return public


def _reply_quote(session: Session, *, room: Room, reply_to: int) -> ReplyQuote:
    """The quote of the message replied to; InvalidInput unless it is a live message of `room`."""
    row = session.exec(
        select(Message, Guest).join(Guest, col(Guest.id) == Message.author_id).where(Message.id == reply_to)
    ).first()
    if row is None or row[0].room_id != room.id:
        raise InvalidInput(f"reply_to: there is no message {reply_to} in this room")
    original, author = row
    if original.deleted_at is not None:
        raise InvalidInput(f"reply_to: message {reply_to} was deleted")
    assert author.id is not None
    return ReplyQuote(
        id=reply_to,
        author=GuestPublic(id=author.id, display_name=author.display_name),
        kind="image" if original.kind == "image" else "text",
        text=original.text[:REPLY_QUOTE_MAX],
    )


def _read_own_message(session: Session, *, room: Room, author_id: int, message_id: int) -> None:
    """The author has read the room up to their own message: it never counts as unread for them,
    and their other pages hear that nothing in the room is unread now (the room's row is locked,
    so nothing newer than this message can be committed before it)."""
    session.exec(  # type: ignore[call-overload]
        update(Membership)
        .where(
            col(Membership.room_id) == room.id,
            col(Membership.guest_id) == author_id,
            col(Membership.last_read_id) < message_id,
        )
        .values(last_read_id=message_id)
    )
    send_event_on_commit(session, ReadMarked(guest_id=author_id, room=room.slug, last_read_id=message_id, unread=0))


def _public(
    message: Message,
    *,
    room_slug: str,
    author: Guest,
    image: Image | None,
    reply_to: ReplyQuote | None,
    mentions: tuple[int, ...],
) -> MessagePublic:
    assert message.id is not None and author.id is not None
    return MessagePublic(
        id=message.id,
        room=room_slug,
        author=GuestPublic(id=author.id, display_name=author.display_name),
        kind="image" if message.kind == "image" else "text",
        text=message.text,
        image=_image_public(image.key, image.thumbnail_key, image.width, image.height) if image else None,
        created_at=message.created_at,
        reply_to=reply_to,
        mentions=mentions,
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

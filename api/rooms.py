"""Rooms and their messages."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.datastructures import UploadFile

from api.deps import Context, CurrentGuest, OptionalGuest, SendLimiter
from api.errors import AUTHENTICATED, COMMON, responses
from api.params import ID_MAX, AfterId, BeforeId, GuestId, MessageId, Slug
from models.message import MessageCreate, MessageEdit, MessagePage, MessagePublic, MessageWindow
from models.room import ROOM_PAGE_DEFAULT, ROOM_PAGE_MAX, RoomCreate, RoomPublic
from services import messages, moderation, reactions, rooms
from services.errors import InvalidInput
from services.messages import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX

# Every route here on a room (`{slug}`) answers 404 for a private room the caller may not read:
# api.deps.hide_unreadable_room, applied where the routers join the app (api/__init__.py).
router = APIRouter(prefix="/rooms", tags=["rooms"])

# No length or pattern here: a path parameter that fails validation is answered 404 (api.errors),
# and the contract wants 422 for anything that is not one emoji; services.reactions says which.
Emoji = Annotated[
    str,
    Path(
        description="one emoji (a single grapheme: ZWJ sequences, flags, keycaps and skin tones count as one), "
        "URL-encoded, e.g. %F0%9F%91%8D for 👍",
        examples=["👍"],
    ),
]


_NEXT_PAGE_HEADERS = {
    "X-Next-Cursor": {
        "description": "present when more rooms follow: pass it as `before` for the next page",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'the next page\'s URL, `<...>; rel="next"`, when more follow',
        "schema": {"type": "string"},
    },
}


@router.get(
    "", response_model=list[RoomPublic], responses={200: {"headers": _NEXT_PAGE_HEADERS}, **responses(401, *COMMON)}
)
async def list_rooms(
    request: Request,
    response: Response,
    context: Context,
    guest: OptionalGuest,
    limit: Annotated[int, Query(ge=1, le=ROOM_PAGE_MAX, description="rooms per page")] = ROOM_PAGE_DEFAULT,
    before: Annotated[
        str | None, Query(max_length=40, description="the X-Next-Cursor of the previous page: the rooms after it")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="only rooms whose name contains this, ignoring case")
    ] = None,
) -> list[RoomPublic]:
    """Public rooms, and with a guest token the private rooms the caller belongs to among them,
    most recent activity first (rooms without messages by creation time), a page at a time. The
    body stays a plain list; when more rooms follow, the `X-Next-Cursor` header holds the cursor
    to pass as `before`, and `Link` the next page's URL (rel="next"). Paging is by
    cursor, so rooms that get messages meanwhile never make another room repeat or go missing.
    With a guest token, `unread` counts the messages after the caller's last read one in the rooms
    they belong to (`null` in the others, and for everyone without a token); a token that names
    nobody is 401."""
    reader_id = guest.id if guest else None
    page = await context.db.run_read(rooms.page_rooms, limit=limit, before=before, query=q or "", reader_id=reader_id)
    if page.next_cursor is not None:
        query = {"limit": limit, **({"q": q} if q else {}), "before": page.next_cursor}
        response.headers["X-Next-Cursor"] = page.next_cursor
        response.headers["Link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'
    return list(page.rooms)


@router.post("", status_code=201, response_model=RoomPublic, responses=responses(*AUTHENTICATED, 409))
async def create_room(body: RoomCreate, guest: CurrentGuest, context: Context) -> RoomPublic:
    """A new room; its creator joins and owns it. 409 if the name (ignoring case) is taken. A
    private room (`is_private`) is seen by its members only: to anyone else, every route on it
    answers 404, as for a room that does not exist; others join it through an invitation."""
    return await context.db.run(
        rooms.create_room,
        owner_id=guest.id,
        name=body.name,
        description=body.description,
        is_private=body.is_private,
    )


@router.get("/{slug}", response_model=RoomPublic, responses=responses(401, 404, *COMMON))
async def get_room(slug: Slug, context: Context, guest: OptionalGuest) -> RoomPublic:
    """The room. With a guest token, `unread` as in list_rooms; a token that names nobody is 401."""
    return await context.db.run_read(rooms.get_room, slug=slug, reader_id=guest.id if guest else None)


@router.post("/{slug}/join", response_model=RoomPublic, responses=responses(*AUTHENTICATED, 404, 409))
async def join_room(slug: Slug, guest: CurrentGuest, context: Context) -> RoomPublic:
    return await context.db.run(rooms.join_room, slug=slug, guest_id=guest.id)


@router.post("/{slug}/leave", response_model=RoomPublic, responses=responses(*AUTHENTICATED, 404))
async def leave_room(slug: Slug, guest: CurrentGuest, context: Context) -> RoomPublic:
    return await context.db.run(rooms.leave_room, slug=slug, guest_id=guest.id)


# Room owners moderate their own room (admins everything, under /api/v1/admin).


@router.delete("/{slug}/messages/{message_id}", status_code=204, responses=responses(*AUTHENTICATED, 404))
async def delete_message(slug: Slug, message_id: MessageId, guest: CurrentGuest, context: Context) -> Response:
    """Its author or the room's owner deletes a message: it leaves every open view, and replies
    quoting it show the quote as deleted. 403 for anyone else."""
    await context.db.run(moderation.delete_message, message_id=message_id, by=guest.id, room_slug=slug)
    return Response(status_code=204)


@router.post("/{slug}/lock", status_code=204, responses=responses(*AUTHENTICATED, 404))
async def lock_room(slug: Slug, guest: CurrentGuest, context: Context) -> Response:
    """The owner makes the room read-only: everyone can read, posting answers 403."""
    await context.db.run(moderation.lock_room, slug=slug, by=guest.id)
    return Response(status_code=204)


@router.delete("/{slug}/lock", status_code=204, responses=responses(*AUTHENTICATED, 404))
async def unlock_room(slug: Slug, guest: CurrentGuest, context: Context) -> Response:
    await context.db.run(moderation.unlock_room, slug=slug, by=guest.id)
    return Response(status_code=204)


@router.delete("/{slug}/members/{guest_id}", response_model=RoomPublic, responses=responses(*AUTHENTICATED, 404, 409))
async def remove_guest(slug: Slug, guest_id: GuestId, guest: CurrentGuest, context: Context) -> RoomPublic:
    """The owner takes a guest out of the room: they can still read it, not post in it or join it again."""
    return await context.db.run(moderation.remove_guest_from_room, slug=slug, guest_id=guest_id, by=guest.id)


@router.delete("/{slug}/removals/{guest_id}", response_model=RoomPublic, responses=responses(*AUTHENTICATED, 404, 409))
async def readmit_guest(slug: Slug, guest_id: GuestId, guest: CurrentGuest, context: Context) -> RoomPublic:
    """The owner undoes a removal: the guest may post in the room and join it again."""
    return await context.db.run(moderation.readmit_guest, slug=slug, guest_id=guest_id, by=guest.id)


# A message with the messages around it: a search result's context, a link to one message.
AroundId = Annotated[
    int | None,
    Query(ge=1, le=ID_MAX, description="this message with the messages around it; not with before or after"),
]


@router.get(
    "/{slug}/messages",
    # A window (around) first: a generated client then parses it with has_newer, a page without.
    response_model=MessageWindow | MessagePage,
    responses=responses(404, *COMMON),
)
async def list_messages(
    slug: Slug,
    context: Context,
    before: BeforeId = None,
    after: AfterId = None,
    around: AroundId = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = PAGE_LIMIT_DEFAULT,
) -> MessagePage:
    """A page of messages, oldest first. has_more: more remain in the direction walked.

    With `around`: that message and up to `limit` messages in all around it (about half older,
    half newer; the other side fills in where one runs short), with `has_more` for older ones and
    `has_newer` for newer ones; 404 unless it is a live message of the room. A private room
    answers its members only (a bearer token, or the browser's session; api.deps.hide_unreadable_room)."""
    if around is not None and (before is not None or after is not None):
        raise InvalidInput("around: use it alone, without before or after")
    if around is not None:
        return await context.db.run_read(messages.page_around, room_slug=slug, around=around, limit=limit)
    return await context.db.run_read(messages.page_messages, room_slug=slug, before=before, after=after, limit=limit)


@router.post(
    "/{slug}/messages", status_code=201, response_model=MessagePublic, responses=responses(*AUTHENTICATED, 404)
)
async def post_message(
    slug: Slug, body: MessageCreate, guest: CurrentGuest, context: Context, limiter: SendLimiter
) -> MessagePublic:
    """Text of 1-4000 characters after trimming. `reply_to`: the id of the message this one
    answers, in the same room and not deleted (else 422); the answer quotes it. Members named as
    `@display name` are in `mentions`."""
    return await context.db.run(
        messages.send_message,
        room_slug=slug,
        author_id=guest.id,
        text=body.text,
        reply_to=body.reply_to,
        limiter=limiter,
    )


@router.get("/{slug}/messages/{message_id}", response_model=MessagePublic, responses=responses(404, *COMMON))
async def get_message(slug: Slug, message_id: MessageId, context: Context) -> MessagePublic:
    """One message of the room, as history shows it; 404 once it is deleted."""
    return await context.db.run_read(messages.get_message, room_slug=slug, message_id=message_id)


@router.patch("/{slug}/messages/{message_id}", response_model=MessagePublic, responses=responses(*AUTHENTICATED, 404))
async def edit_message(
    slug: Slug, message_id: MessageId, body: MessageEdit, guest: CurrentGuest, context: Context, limiter: SendLimiter
) -> MessagePublic:
    """Its author changes a message's text (an image's caption, which may be emptied; a text
    message's text may not), by the same rules as posting: the answer has `edited_at` set, and
    every open view shows the change. 403 for anyone else; 404 for a deleted or unknown message."""
    return await context.db.run(
        messages.edit_message,
        room_slug=slug,
        message_id=message_id,
        editor_id=guest.id,
        text=body.text,
        limiter=limiter,
    )


@router.put(
    "/{slug}/messages/{message_id}/reactions/{emoji}",
    response_model=MessagePublic,
    responses=responses(*AUTHENTICATED, 404, 409),
)
async def add_reaction(
    slug: Slug, message_id: MessageId, emoji: Emoji, guest: CurrentGuest, context: Context, limiter: SendLimiter
) -> MessagePublic:
    """React to a message with one emoji: the message with its reactions. Reacting twice with one
    emoji counts once; anything but one emoji is 422; a 21st different emoji on one message 409."""
    return await context.db.run(
        reactions.add_reaction, room_slug=slug, message_id=message_id, guest_id=guest.id, emoji=emoji, limiter=limiter
    )


@router.delete(
    "/{slug}/messages/{message_id}/reactions/{emoji}",
    response_model=MessagePublic,
    responses=responses(*AUTHENTICATED, 404),
)
async def remove_reaction(
    slug: Slug, message_id: MessageId, emoji: Emoji, guest: CurrentGuest, context: Context, limiter: SendLimiter
) -> MessagePublic:
    """Take back one's reaction: the message without it (the same answer when there was none)."""
    return await context.db.run(
        reactions.remove_reaction,
        room_slug=slug,
        message_id=message_id,
        guest_id=guest.id,
        emoji=emoji,
        limiter=limiter,
    )


_UPLOAD_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "caption": {"type": "string", "maxLength": 4000},
                        "reply_to": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": ID_MAX,
                            "description": "the id of the message this one answers, in the same room",
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/{slug}/images",
    status_code=201,
    response_model=MessagePublic,
    openapi_extra=_UPLOAD_SCHEMA,
    responses=responses(*AUTHENTICATED, 404, 413, 415),
)
async def post_image(slug: Slug, request: Request, guest: CurrentGuest, context: Context, limiter: SendLimiter) -> Any:
    """A JPEG, PNG, GIF or WebP image with an optional caption, sent as multipart form data;
    `reply_to` as for a text message."""
    max_bytes = context.settings.max_upload_bytes
    # Oversized bodies never get here (api.body_limit refuses them as they arrive); the form is
    # parsed here rather than by FastAPI so that a missing file is a clear 422, not a generic one.
    async with request.form(max_files=1, max_fields=4) as form:
        upload, caption = form.get("file"), form.get("caption") or ""
        if not isinstance(upload, UploadFile):
            raise InvalidInput("send the image as the multipart field 'file'")
        if not isinstance(caption, str):
            raise InvalidInput("the caption must be text")
        reply_to = _form_id(form.get("reply_to"), name="reply_to")
        data = await upload.read(max_bytes + 1)
    return await messages.send_image(
        db=context.db,
        media=context.media,
        room_slug=slug,
        author_id=guest.id,
        data=data,
        caption=caption,
        max_bytes=max_bytes,
        limiter=limiter,
        images=context.images,
        reply_to=reply_to,
    )


def _form_id(value: object, *, name: str) -> int | None:
    """An optional id in a multipart form, bounded as ids in JSON bodies are; else a clear 422."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or not 1 <= int(value) <= ID_MAX:
        raise InvalidInput(f"{name}: must be a message id, a whole number from 1 to {ID_MAX}")
    return int(value)

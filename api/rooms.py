"""Rooms and their messages."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from api.deps import Context, CurrentGuest
from models.message import MessageCreate, MessagePage, MessagePublic
from models.room import RoomCreate, RoomPublic
from services import messages, moderation, rooms
from services.errors import InvalidInput
from services.messages import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX

router = APIRouter(prefix="/rooms", tags=["rooms"])


@router.get("", response_model=list[RoomPublic])
async def all_rooms(context: Context) -> list[RoomPublic]:
    """Public rooms, most recent activity first."""
    return await context.db.run(rooms.list_rooms)


@router.post("", status_code=201, response_model=RoomPublic)
async def create_room(body: RoomCreate, guest: CurrentGuest, context: Context) -> RoomPublic:
    """A new public room; its creator joins and owns it. 409 if the name (ignoring case) is taken."""
    return await context.db.run(rooms.create_room, owner_id=guest.id, name=body.name, description=body.description)


@router.get("/{slug}", response_model=RoomPublic)
async def one_room(slug: str, context: Context) -> RoomPublic:
    return await context.db.run(rooms.get_room, slug=slug)


@router.post("/{slug}/join", response_model=RoomPublic)
async def join(slug: str, guest: CurrentGuest, context: Context) -> RoomPublic:
    return await context.db.run(rooms.join_room, slug=slug, guest_id=guest.id)


@router.post("/{slug}/leave", response_model=RoomPublic)
async def leave(slug: str, guest: CurrentGuest, context: Context) -> RoomPublic:
    return await context.db.run(rooms.leave_room, slug=slug, guest_id=guest.id)


# Room owners moderate their own room (admins everything, under /api/v1/admin).


@router.delete("/{slug}/messages/{message_id}", status_code=204)
async def delete_message(slug: str, message_id: int, guest: CurrentGuest, context: Context) -> Response:
    """Its author or the room's owner deletes a message: it leaves every open view. 403 for anyone else."""
    await context.db.run(moderation.delete_message, message_id=message_id, by=guest.id, room_slug=slug)
    return Response(status_code=204)


@router.post("/{slug}/lock", status_code=204)
async def lock_room(slug: str, guest: CurrentGuest, context: Context) -> Response:
    """The owner makes the room read-only: everyone can read, posting answers 403."""
    await context.db.run(moderation.lock_room, slug=slug, by=guest.id)
    return Response(status_code=204)


@router.delete("/{slug}/lock", status_code=204)
async def unlock_room(slug: str, guest: CurrentGuest, context: Context) -> Response:
    await context.db.run(moderation.unlock_room, slug=slug, by=guest.id)
    return Response(status_code=204)


@router.delete("/{slug}/members/{guest_id}", response_model=RoomPublic)
async def remove_guest(slug: str, guest_id: int, guest: CurrentGuest, context: Context) -> RoomPublic:
    """The owner takes a guest out of the room: they can still read it, not post in it or join it again."""
    return await context.db.run(moderation.remove_guest_from_room, slug=slug, guest_id=guest_id, by=guest.id)


@router.delete("/{slug}/removals/{guest_id}", response_model=RoomPublic)
async def readmit_guest(slug: str, guest_id: int, guest: CurrentGuest, context: Context) -> RoomPublic:
    """The owner undoes a removal: the guest may post in the room and join it again."""
    return await context.db.run(moderation.readmit_guest, slug=slug, guest_id=guest_id, by=guest.id)


@router.get("/{slug}/messages", response_model=MessagePage)
async def history(
    slug: str,
    context: Context,
    before: Annotated[int | None, Query(description="newest messages older than this id")] = None,
    after: Annotated[int | None, Query(description="oldest messages newer than this id")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = PAGE_LIMIT_DEFAULT,
) -> MessagePage:
    """A page of messages, oldest first. has_more: more remain in the direction walked."""
    return await context.db.run_read(messages.page_messages, room_slug=slug, before=before, after=after, limit=limit)


@router.post("/{slug}/messages", status_code=201, response_model=MessagePublic)
async def post_message(slug: str, body: MessageCreate, guest: CurrentGuest, context: Context) -> MessagePublic:
    """Text of 1-4000 characters after trimming."""
    return await context.db.run(
        messages.send_message, room_slug=slug, author_id=guest.id, text=body.text, limiter=context.limiter
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
    responses={413: {"description": "over CHAT_MAX_UPLOAD_MB"}, 415: {"description": "not an image"}},
)
async def post_image(slug: str, request: Request, guest: CurrentGuest, context: Context) -> Any:
    """A JPEG, PNG, GIF or WebP image with an optional caption, sent as multipart form data."""
    max_bytes = context.settings.max_upload_bytes
    # Oversized bodies never get here (api.body_limit refuses them as they arrive); the form is
    # parsed here rather than by FastAPI so that a missing file is a clear 422, not a generic one.
    async with request.form(max_files=1, max_fields=4) as form:
        upload, caption = form.get("file"), form.get("caption") or ""
        if not isinstance(upload, UploadFile):
            raise InvalidInput("send the image as the multipart field 'file'")
        if not isinstance(caption, str):
            raise InvalidInput("the caption must be text")
        data = await upload.read(max_bytes + 1)
    return await messages.send_image(
        db=context.db,
        media=context.media,
        room_slug=slug,
        author_id=guest.id,
        data=data,
        caption=caption,
        max_bytes=max_bytes,
        limiter=context.limiter,
        images=context.images,
    )

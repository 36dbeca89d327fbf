"""What people do in a room besides posting: typing, having it open (presence), reading it."""

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from api.deps import Context, CurrentGuest
from api.errors import AUTHENTICATED, COMMON, responses
from api.params import ID_MAX, Slug
from models.guest import GuestPublic
from models.room import RoomPublic
from services import typing, unread

# Like api/rooms.py, hidden for a private room the caller may not read (api/__init__.py).
router = APIRouter(prefix="/rooms", tags=["rooms"])


class ReadMark(BaseModel):
    last_read_id: int = Field(
        ge=0,
        le=ID_MAX,
        description="the newest message id read; an id past the room's newest message marks all of it read",
    )


class RoomPresence(BaseModel):
    online: list[GuestPublic]  # by display name


@router.post("/{slug}/typing", status_code=204, responses=responses(*AUTHENTICATED, 404))
async def announce_typing(slug: Slug, guest: CurrentGuest, context: Context) -> Response:
    """The caller is typing: the room's other views show it for about 5 s. Call it again while
    typing goes on; repeats within 2 s are answered 204 and announced once. 403 where the caller
    could not post (banned, removed from the room, the room locked)."""
    await context.db.run(typing.announce_typing, room_slug=slug, guest_id=guest.id)
    return Response(status_code=204)


@router.get("/{slug}/presence", response_model=RoomPresence, responses=responses(404, *COMMON))
async def list_present_guests(slug: Slug, context: Context) -> RoomPresence:
    """The guests who have the room open in a page, on any instance, by name: someone opening or
    closing it shows here within seconds."""
    # A room that does not exist (or that the caller may not read) was answered 404 already, by
    # the dependency every route on a room has (api.deps.hide_unreadable_room).
    return RoomPresence(online=await context.presence.online(slug))


@router.post("/{slug}/read", response_model=RoomPublic, responses=responses(*AUTHENTICATED, 404))
async def mark_room_read(slug: Slug, body: ReadMark, guest: CurrentGuest, context: Context) -> RoomPublic:
    """Everything up to `last_read_id` is read for the caller, a member of the room (403 otherwise);
    the answer is the room with its new `unread`. A read position never moves back: an older id
    changes nothing. The caller's open pages update their unread counts."""
    return await context.db.run(unread.mark_read, room_slug=slug, guest_id=guest.id, last_read_id=body.last_read_id)

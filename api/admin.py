"""Admin API: enabled only when CHAT_ADMIN_TOKEN is set (otherwise every route answers 404)."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import Context
from models.audit import AuditEntryPublic
from models.guest import GuestPublic, GuestUpdate
from models.room import RoomPublic, RoomUpdate
from services import guests, moderation
from services.audit import ADMIN, audit_log

_bearer = HTTPBearer(auto_error=False, description="CHAT_ADMIN_TOKEN")


async def require_admin(
    context: Context, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    token = context.settings.admin_token
    if token is None:
        raise HTTPException(404, "Not Found")
    given = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise HTTPException(
            401, "send Authorization: Bearer <CHAT_ADMIN_TOKEN>", headers={"WWW-Authenticate": "Bearer"}
        )


router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


@router.delete("/messages/{message_id}", status_code=204)
async def delete_message(message_id: int, context: Context) -> Response:
    """The message leaves every open view live and never comes back through paging."""
    await context.db.run(moderation.delete_message, message_id=message_id, by=ADMIN)
    return Response(status_code=204)


@router.delete("/rooms/{slug}", status_code=204)
async def delete_room(slug: str, context: Context) -> Response:
    """The room, its messages and its images are gone."""
    await context.db.run(moderation.delete_room, media=context.media, slug=slug, by=ADMIN)
    return Response(status_code=204)


@router.patch("/rooms/{slug}", response_model=RoomPublic)
async def edit_room(slug: str, body: RoomUpdate, context: Context) -> RoomPublic:
    """Rename the room or change its description (its address stays). 409 if the name is taken."""
    return await context.db.run(moderation.edit_room, slug=slug, update=body, by=ADMIN)


@router.post("/rooms/{slug}/lock", status_code=204)
async def lock_room(slug: str, context: Context) -> Response:
    """The room becomes read-only: everyone can read, posting answers 403."""
    await context.db.run(moderation.lock_room, slug=slug, by=ADMIN)
    return Response(status_code=204)


@router.delete("/rooms/{slug}/lock", status_code=204)
async def unlock_room(slug: str, context: Context) -> Response:
    await context.db.run(moderation.unlock_room, slug=slug, by=ADMIN)
    return Response(status_code=204)


@router.delete("/rooms/{slug}/members/{guest_id}", response_model=RoomPublic)
async def remove_guest(slug: str, guest_id: int, context: Context) -> RoomPublic:
    """Take the guest out of the room: they can still read it, but not post in it or join it again."""
    return await context.db.run(moderation.remove_guest_from_room, slug=slug, guest_id=guest_id, by=ADMIN)


@router.delete("/rooms/{slug}/removals/{guest_id}", response_model=RoomPublic)
async def readmit_guest(slug: str, guest_id: int, context: Context) -> RoomPublic:
    """Undo a removal: the guest may post in the room and join it again."""
    return await context.db.run(moderation.readmit_guest, slug=slug, guest_id=guest_id, by=ADMIN)


@router.get("/audit", response_model=list[AuditEntryPublic])
async def audit(context: Context, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AuditEntryPublic]:
    """Who did what and when, newest first."""
    return await context.db.run(audit_log, limit=limit)


@router.post("/guests/{guest_id}/ban", response_model=GuestPublic)
async def ban(guest_id: int, context: Context) -> GuestPublic:
    """The guest can still read; posting answers 403."""
    return await context.db.run(moderation.ban_guest, guest_id=guest_id, by=ADMIN)


@router.delete("/guests/{guest_id}/ban", response_model=GuestPublic)
async def unban(guest_id: int, context: Context) -> GuestPublic:
    return await context.db.run(moderation.unban_guest, guest_id=guest_id, by=ADMIN)


@router.patch("/guests/{guest_id}", response_model=GuestPublic)
async def rename_guest(guest_id: int, body: GuestUpdate, context: Context) -> GuestPublic:
    """Change a guest's display name (say, one that offends)."""
    return await context.db.run(guests.rename_guest, guest_id=guest_id, display_name=body.display_name, by=ADMIN)

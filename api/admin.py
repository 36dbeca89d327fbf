"""Admin API: enabled only when CHAT_ADMIN_TOKEN is set (otherwise every route answers 404)."""

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import ClientAddress, Context
from api.errors import COMMON, responses
from api.params import GuestId, MessageId, Slug
from models.audit import AuditEntryPublic
from models.guest import GuestPublic, GuestUpdate
from models.room import RoomPublic, RoomUpdate
from services import guests, moderation
from services.audit import ADMIN, audit_log
from services.backoff import TooManyFailures, secret_matches

_bearer = HTTPBearer(auto_error=False, description="CHAT_ADMIN_TOKEN")


async def require_admin(
    context: Context,
    address: ClientAddress,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The admin token, compared in constant time; wrong ones back off per client address, as the
    admin page's sign-in does (services/backoff.py). While shut out the answer stays the 401 that
    CONTRACT §5 gives a wrong token, unjudged, with Retry-After saying when a try will count again."""
    token = context.settings.admin_token
    if token is None:
        raise HTTPException(404, "Not Found")
    given = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else None
    # No token at all is no guess: it gets its 401 without counting against the address.
    try:
        matches = given is not None and await anyio.to_thread.run_sync(
            lambda: secret_matches(
                given=given, expected=token.get_secret_value(), address=address, backoff=context.admin_backoff
            )
        )
    except TooManyFailures as refused:
        headers = {"WWW-Authenticate": "Bearer", "Retry-After": str(refused.retry_after)}
        raise HTTPException(401, refused.detail, headers=headers) from None
    if not matches:
        raise HTTPException(
            401, "send Authorization: Bearer <CHAT_ADMIN_TOKEN>", headers={"WWW-Authenticate": "Bearer"}
        )


# Every admin route: 401 for a wrong token (with Retry-After while backing off after many), 404 while
# the admin API is off.
router = APIRouter(
    prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)], responses=responses(401, 404, *COMMON)
)


@router.delete("/messages/{message_id}", status_code=204)
async def admin_delete_message(message_id: MessageId, context: Context) -> Response:
    """The message leaves every open view live and never comes back through paging."""
    await context.db.run(moderation.delete_message, message_id=message_id, by=ADMIN)
    return Response(status_code=204)


@router.delete("/rooms/{slug}", status_code=204, responses=responses(409))
async def admin_delete_room(slug: Slug, context: Context) -> Response:
    """The room, its messages and its images are gone."""
    await context.db.run(moderation.delete_room, media=context.media, slug=slug, by=ADMIN)
    return Response(status_code=204)


@router.patch("/rooms/{slug}", response_model=RoomPublic, responses=responses(409))
async def admin_edit_room(slug: Slug, body: RoomUpdate, context: Context) -> RoomPublic:
    """Rename the room or change its description (its address stays). 409 if the name is taken."""
    return await context.db.run(moderation.edit_room, slug=slug, update=body, by=ADMIN)


@router.post("/rooms/{slug}/lock", status_code=204)
async def admin_lock_room(slug: Slug, context: Context) -> Response:
    """The room becomes read-only: everyone can read, posting answers 403."""
    await context.db.run(moderation.lock_room, slug=slug, by=ADMIN)
    return Response(status_code=204)


@router.delete("/rooms/{slug}/lock", status_code=204)
async def admin_unlock_room(slug: Slug, context: Context) -> Response:
    await context.db.run(moderation.unlock_room, slug=slug, by=ADMIN)
    return Response(status_code=204)


@router.delete("/rooms/{slug}/members/{guest_id}", response_model=RoomPublic, responses=responses(409))
async def admin_remove_guest(slug: Slug, guest_id: GuestId, context: Context) -> RoomPublic:
    """Take the guest out of the room: they can still read it, but not post in it or join it again."""
    return await context.db.run(moderation.remove_guest_from_room, slug=slug, guest_id=guest_id, by=ADMIN)


@router.delete("/rooms/{slug}/removals/{guest_id}", response_model=RoomPublic, responses=responses(409))
async def admin_readmit_guest(slug: Slug, guest_id: GuestId, context: Context) -> RoomPublic:
    """Undo a removal: the guest may post in the room and join it again."""
    return await context.db.run(moderation.readmit_guest, slug=slug, guest_id=guest_id, by=ADMIN)


@router.get("/audit", response_model=list[AuditEntryPublic])
async def admin_audit_log(context: Context, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AuditEntryPublic]:
    """Who did what and when, newest first."""
    return await context.db.run(audit_log, limit=limit)


@router.post("/guests/{guest_id}/ban", response_model=GuestPublic)
async def admin_ban_guest(guest_id: GuestId, context: Context) -> GuestPublic:
    """The guest can still read; posting answers 403."""
    return await context.db.run(moderation.ban_guest, guest_id=guest_id, by=ADMIN)


@router.delete("/guests/{guest_id}/ban", response_model=GuestPublic)
async def admin_unban_guest(guest_id: GuestId, context: Context) -> GuestPublic:
    return await context.db.run(moderation.unban_guest, guest_id=guest_id, by=ADMIN)


@router.patch("/guests/{guest_id}", response_model=GuestPublic)
async def admin_rename_guest(guest_id: GuestId, body: GuestUpdate, context: Context) -> GuestPublic:
    """Change a guest's display name (say, one that offends)."""
    return await context.db.run(guests.rename_guest, guest_id=guest_id, display_name=body.display_name, by=ADMIN)

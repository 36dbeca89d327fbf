"""Invitation links (CONTRACT §7): members make them, anyone holding one joins the room; the room's
owner sees the live ones and revokes them (as the link's creator may)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.deps import Context, CurrentGuest
from api.errors import AUTHENTICATED, responses
from api.params import Slug
from models.invite import (
    INVITE_CODE_MAX,
    INVITE_CODE_PATTERN,
    INVITE_PAGE_DEFAULT,
    INVITE_PAGE_MAX,
    InviteListed,
    InvitePublic,
)
from models.room import RoomPublic
from services import invites

router = APIRouter(tags=["invites"])

# Bounded like a slug: a code is what secrets.token_urlsafe makes; anything else names nothing (404).
Code = Annotated[
    str,
    Path(
        min_length=1,
        max_length=INVITE_CODE_MAX,
        pattern=INVITE_CODE_PATTERN,
        description="the invitation's code, the last part of its link",
    ),
]


def site_address(request: Request, context: Context) -> str:
    """Where the caller reaches the site: links in answers start with it (services.invites.site_address)."""
    settings = context.settings
    return invites.site_address(
        base_url=str(request.base_url),
        peer=request.client.host if request.client else None,
        headers=request.headers,
        trusted=settings.trusted_proxy_networks,
        public_url=settings.public_url,
    )


Site = Annotated[str, Depends(site_address)]


@router.post(
    "/rooms/{slug}/invites",
    status_code=201,
    response_model=InvitePublic,
    responses=responses(*AUTHENTICATED, 404, 409),
)
async def create_invite(slug: Slug, guest: CurrentGuest, context: Context, site: Site) -> InvitePublic:
    """A new invitation link to the room, valid for 7 days: whoever opens `url` (or accepts `code`)
    joins the room. Members only: a private room is 404 to anyone else, a public room 403 to a
    guest who has not joined it. 409 when the caller holds 100 live links to the room already."""
    return await context.db.run(invites.create_invite, slug=slug, by=guest.id, site=site)


@router.get("/rooms/{slug}/invites", response_model=list[InviteListed], responses=responses(*AUTHENTICATED, 404))
async def list_invites(
    slug: Slug,
    guest: CurrentGuest,
    context: Context,
    site: Site,
    limit: Annotated[int, Query(ge=1, le=INVITE_PAGE_MAX, description="links per page")] = INVITE_PAGE_DEFAULT,
    before: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=INVITE_CODE_MAX,
            pattern=INVITE_CODE_PATTERN,
            description="the code of the last link of the previous page: the older ones after it",
        ),
    ] = None,
) -> list[InviteListed]:
    """The room's live links (neither expired nor revoked), newest first, with who made each: for
    the room's owner only (403 for anyone else)."""
    return await context.db.run_read(
        invites.list_invites, slug=slug, by=guest.id, site=site, limit=limit, before=before
    )


@router.delete("/rooms/{slug}/invites/{code}", status_code=204, responses=responses(*AUTHENTICATED, 404))
async def revoke_invite(slug: Slug, code: Code, guest: CurrentGuest, context: Context) -> Response:
    """End a link at once: opening or accepting it answers 404 from now on. The room's owner or the
    link's creator may (403 for anyone else); revoking twice is fine."""
    await context.db.run(invites.revoke_invite, slug=slug, code=code, by=guest.id)
    return Response(status_code=204)


@router.post("/invites/{code}/accept", response_model=RoomPublic, responses=responses(*AUTHENTICATED, 404))
async def accept_invite(code: Code, guest: CurrentGuest, context: Context) -> RoomPublic:
    """Join the room of an invitation: the answer is the room, the caller a member of it (accepting
    again is fine). An unknown, expired or revoked code is 404, all three alike; a banned guest, or
    one a moderator removed from the room, 403."""
    accepted = await context.db.run(invites.accept_invite, code=code, guest_id=guest.id)
    return accepted.room

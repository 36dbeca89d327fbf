"""Guests: get a token to act as someone, see and change who you are."""

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Context, CurrentGuest
from models.guest import GuestPublic, GuestWithToken
from services import guests

router = APIRouter(prefix="/guests", tags=["guests"])


class GuestCreateIn(BaseModel):
    display_name: str | None = None  # None: a generated name like "Guest 4821"


class GuestRenameIn(BaseModel):
    display_name: str


@router.post("", status_code=201, response_model=GuestWithToken)
async def create_guest(body: GuestCreateIn, context: Context) -> GuestWithToken:
    """A new guest identity. Keep the token: it is shown once and acts as this guest."""
    return await context.db.run(guests.create_guest, display_name=body.display_name)


@router.get("/me", response_model=GuestPublic)
async def who_am_i(guest: CurrentGuest) -> GuestPublic:
    return guest


@router.patch("/me", response_model=GuestPublic)
async def rename(body: GuestRenameIn, guest: CurrentGuest, context: Context) -> GuestPublic:
    """Change the display name: 1-32 characters after trimming, no control characters."""
    return await context.db.run(guests.rename_guest, guest_id=guest.id, display_name=body.display_name)

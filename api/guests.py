"""Guests: get a token to act as someone, see and change who you are."""

from fastapi import APIRouter

from api.deps import Context, CurrentGuest
from models.guest import GuestCreate, GuestPublic, GuestUpdate, GuestWithToken
from services import guests

router = APIRouter(prefix="/guests", tags=["guests"])


@router.post("", status_code=201, response_model=GuestWithToken)
async def create_guest(body: GuestCreate, context: Context) -> GuestWithToken:
    """A new guest identity. Keep the token: it is shown once and acts as this guest."""
    return await context.db.run(guests.create_guest, display_name=body.display_name)


@router.get("/me", response_model=GuestPublic)
async def who_am_i(guest: CurrentGuest) -> GuestPublic:
    return guest


@router.patch("/me", response_model=GuestPublic)
async def rename(body: GuestUpdate, guest: CurrentGuest, context: Context) -> GuestPublic:
    """Change the display name: 1-32 characters after trimming, no control characters."""
    return await context.db.run(guests.rename_guest, guest_id=guest.id, display_name=body.display_name, by=guest.id)

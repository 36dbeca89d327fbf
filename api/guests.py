"""Guests: get a token to act as someone, see and change who you are."""

from fastapi import APIRouter

from api.deps import ClientAddress, Context, CurrentGuest
from api.errors import AUTHENTICATED, COMMON, responses
from models.guest import GuestCreate, GuestPublic, GuestUpdate, GuestWithToken
from services import guests

router = APIRouter(prefix="/guests", tags=["guests"])


@router.post("", status_code=201, response_model=GuestWithToken, responses=responses(429, *COMMON))
async def create_guest(body: GuestCreate, context: Context, address: ClientAddress) -> GuestWithToken:
    """A new guest identity. Keep the token: it is shown once and acts as this guest. One client
    address may create CHAT_GUEST_RATE_LIMIT guests (default 30 per 10 min); past that, 429."""
    return await context.db.run(
        guests.create_guest, display_name=body.display_name, address=address, limiter=context.guest_creation_limiter
    )


@router.get("/me", response_model=GuestPublic, responses=responses(401, *COMMON))
async def get_current_guest(guest: CurrentGuest) -> GuestPublic:
    return guest


@router.patch("/me", response_model=GuestPublic, responses=responses(*AUTHENTICATED))
async def rename_current_guest(body: GuestUpdate, guest: CurrentGuest, context: Context) -> GuestPublic:
    """Change the display name: 1-32 characters after trimming, no control characters."""
    return await context.db.run(guests.rename_guest, guest_id=guest.id, display_name=body.display_name, by=guest.id)

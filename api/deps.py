"""What every route needs: the app's parts, and the guest a bearer token names."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from models.guest import GuestPublic
from services import guests
from services.context import AppContext

_bearer = HTTPBearer(auto_error=False, description="a guest token from POST /api/v1/guests")


def get_context(request: Request) -> AppContext:
    return request.app.state.chat  # type: ignore[no-any-return]


Context = Annotated[AppContext, Depends(get_context)]


async def current_guest(
    context: Context, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> GuestPublic:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"})
    guest = await context.db.run(guests.guest_for_token, token=credentials.credentials)
    if guest is None:
        raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    return guest


CurrentGuest = Annotated[GuestPublic, Depends(current_guest)]

"""What every route needs: the app's parts, and the guest a bearer token names."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from models.guest import GuestPublic
from services import guests
from services.client_address import budget_address, client_address
from services.context import AppContext
from services.rate_limit import RateLimiter

_bearer = HTTPBearer(auto_error=False, description="a guest token from POST /api/v1/guests")


def get_context(request: Request) -> AppContext:
    return request.app.state.chat  # type: ignore[no-any-return]


Context = Annotated[AppContext, Depends(get_context)]


def get_client_address(request: Request, context: Context) -> str:
    """Whose budgets this request spends: the peer, or the client a trusted proxy names
    (CHAT_TRUSTED_PROXIES), an IPv6 client by its /64."""
    peer = request.client.host if request.client else None
    return budget_address(client_address(peer, request.headers, context.settings.trusted_proxy_networks))


ClientAddress = Annotated[str, Depends(get_client_address)]


def get_send_limiter(context: Context, address: ClientAddress) -> RateLimiter:
    """The budgets a message or an upload spends: its guest's and its client address's."""
    return context.send_limiter(address)


SendLimiter = Annotated[RateLimiter, Depends(get_send_limiter)]


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


async def optional_guest(
    context: Context, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> GuestPublic | None:
    """The caller, for routes that anyone may call and that say more to a guest (their unread
    counts). No Authorization header: None, an anonymous reader. A token that names nobody is a 401
    as everywhere else, not silently anonymous: a client with a stale token should hear so."""
    if credentials is None:
        return None
    return await current_guest(context, credentials)


OptionalGuest = Annotated[GuestPublic | None, Depends(optional_guest)]


async def reader_guest(
    request: Request, context: Context, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> GuestPublic | None:
    """Who reads: the bearer token's guest; without a token, the browser's own guest, known by the
    signed session cookie its pages use (so that an <img> or a download link works in a private
    room); else None, an anonymous reader. For reads only (GET): a cookie, which a browser sends
    along with requests that other sites make it send, must never authorise a change."""
    if credentials is not None:
        return await current_guest(context, credentials)
    token = request.session.get(guests.BROWSER_TOKEN_KEY) if "session" in request.scope else None
    if not isinstance(token, str) or not token:
        return None
    return await context.db.run_read(guests.guest_for_token, token=token)


ReaderGuest = Annotated[GuestPublic | None, Depends(reader_guest)]

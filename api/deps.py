"""What every route needs: the app's parts, and the guest a bearer token names."""

import re
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.params import SLUG_PATTERN
from models.guest import GuestPublic
from models.room import ROOM_SLUG_MAX
from services import access, guests
from services.client_address import budget_address, client_address
from services.context import AppContext
from services.rate_limit import RateLimiter

_bearer = HTTPBearer(auto_error=False, description="a guest token from POST /api/v1/guests")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]  # parsed only: no query


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


async def current_guest(context: Context, credentials: Bearer) -> GuestPublic:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"})
    guest = await context.db.run(guests.guest_for_token, token=credentials.credentials)
    if guest is None:
        raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    return guest


CurrentGuest = Annotated[GuestPublic, Depends(current_guest)]


async def optional_guest(context: Context, credentials: Bearer) -> GuestPublic | None:
    """The caller, for routes that anyone may call and that say more to a guest (their unread
    counts). No Authorization header: None, an anonymous reader. A token that names nobody is a 401
    as everywhere else, not silently anonymous: a client with a stale token should hear so."""
    if credentials is None:
        return None
    return await current_guest(context, credentials)


OptionalGuest = Annotated[GuestPublic | None, Depends(optional_guest)]


_READS = frozenset({"GET", "HEAD"})
_SLUG = re.compile(SLUG_PATTERN)


def reader_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The token a reader is known by: the bearer token; without one, on a read (GET, HEAD), the
    browser's own, from the signed session cookie its pages use (so that an <img> or a download
    link works in a private room); else None. A cookie, which a browser also sends along with
    requests that other sites make it send, must never authorise a change."""
    if credentials is not None:
        return credentials.credentials
    if request.method not in _READS or "session" not in request.scope:
        return None
    token = request.session.get(guests.BROWSER_TOKEN_KEY)
    return token if isinstance(token, str) and token else None


async def reader_guest(request: Request, context: Context, credentials: Bearer) -> GuestPublic | None:
    """Who reads (see reader_token): a bearer token that names nobody is a 401, as everywhere; a
    stale cookie is an anonymous reader. For reads only."""
    if credentials is not None:
        return await current_guest(context, credentials)
    token = reader_token(request, None)
    return await context.db.run_read(guests.guest_for_token, token=token) if token else None


ReaderGuest = Annotated[GuestPublic | None, Depends(reader_guest)]


async def hide_unreadable_room(request: Request, context: Context, credentials: Bearer) -> None:
    """A dependency of every router whose routes address a room (`{slug}` in the path; others pass
    through): a private room the caller may not read answers 404 with a missing room's very words,
    before the route does anything, whatever the method, body or its own checks. One place, so a
    route added later is covered without remembering to be (tests/test_private_rooms.py walks
    /openapi.json to make sure). It runs before the route's own dependencies: a missing room is
    now 404 before a missing token's 401 too, exactly as a hidden one is.

    Cost: a public room, one indexed lookup by slug; a private one, also the caller's token and
    membership. The caller is known as a reader is (reader_token): the cookie for GET only."""
    slug = request.path_params.get("slug")
    if slug is None or not _SLUG.fullmatch(slug) or len(slug) > ROOM_SLUG_MAX:
        # No room has such a slug (services.rooms.slugify makes them), so there is nothing to hide:
        # the route's own validation answers its 404, in its own words.
        return
    token = reader_token(request, credentials)
    await context.db.run_read(access.check_readable_for_token, slug=slug, token=token)

"""Who the visitor is: a guest token kept in the browser's signed session cookie."""

from nicegui import app
from sqlalchemy.exc import IntegrityError

from models.guest import GuestPublic
from services import guests
from services.database import Database

COOKIE_KEY = "guest_token"


def browser_token() -> str:
    """The token of this browser, minted on its first visit. Call before the page's first await:
    the signed cookie can only be written while the page's HTTP response is still being built."""
    token = app.storage.browser.get(COOKIE_KEY)
    if not isinstance(token, str) or not token:
        token = guests.new_token()
        app.storage.browser[COOKIE_KEY] = token
    return token


async def current_guest(db: Database, token: str) -> GuestPublic:
    try:
        return await db.run(guests.guest_for_browser, token=token)
    except IntegrityError:  # two tabs of a brand-new browser raced to create the same guest
        return await db.run(guests.guest_for_browser, token=token)

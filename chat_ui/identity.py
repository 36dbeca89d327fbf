"""Who the visitor is: a guest token kept in the browser's signed session cookie, and the client
address their page was requested from (for the per-address limits)."""

from nicegui import app, ui
from sqlalchemy.exc import IntegrityError

from chat_ui.notices import notify
from models.guest import GuestPublic
from services import guests
from services.client_address import budget_address, client_address
from services.context import AppContext
from services.rate_limit import RateLimited

COOKIE_KEY = guests.BROWSER_TOKEN_KEY

# A browser whose address has created too many guests lately reads as this visitor until the
# budget refills: reading is harmless and a shared NAT should not lock people out of the content,
# but no identity is minted, so a banned guest cannot get a fresh one by clearing cookies. Every
# write it attempts is refused by the services (no such guest), and the page says so.
READ_ONLY_VISITOR = GuestPublic(id=0, display_name="Visitor (read-only)")


def browser_token() -> str:
    """The token of this browser, minted on its first visit. Call before the page's first await:
    the signed cookie can only be written while the page's HTTP response is still being built."""
    token = app.storage.browser.get(COOKIE_KEY)
    if not isinstance(token, str) or not token:
        token = guests.new_token()
        app.storage.browser[COOKIE_KEY] = token
    return token


def page_address(context: AppContext) -> str:
    """The client address of the page being built: NiceGUI keeps the request of the page's first
    GET on its client, and the same rule as the API's applies to it (trusted proxies only)."""
    try:
        request = ui.context.client.request
    except RuntimeError:  # a client without a request (never for a page a browser opened)
        return "unknown"
    peer = request.client.host if request.client else None
    return budget_address(client_address(peer, request.headers, context.settings.trusted_proxy_networks))


async def current_guest(context: AppContext, token: str, address: str) -> GuestPublic:
    """The browser's guest, created on its first visit within the address's budget of browser
    guests (Settings.browser_guest_rate); past it, the read-only visitor and a notice saying why."""
    create = {"token": token, "address": address, "limiter": context.browser_guest_limiter}
    try:
        try:
            return await context.db.run(guests.guest_for_browser, **create)
        except IntegrityError:  # two tabs of a brand-new browser raced to create the same guest
            return await context.db.run(guests.guest_for_browser, **create)
    except RateLimited as refused:
        minutes = max(1, round(refused.retry_after / 60))
        notify(
            "Many new visitors came from your network just now, so you can read but not write yet. "
            f"Reload the page in about {minutes} min to join in.",
            type="warning",
            timeout=0,
            close_button=True,
        )
        return READ_ONLY_VISITOR

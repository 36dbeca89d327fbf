"""What every page starts with: the theme, the visitor's identity and the header."""

from dataclasses import dataclass

from nicegui import ui

from chat_ui import identity, theme
from chat_ui.feed import RoomFeeds
from chat_ui.layout import Header
from models.guest import GuestPublic
from services import guests
from services.context import AppContext


@dataclass
class UiContext:
    """The app's parts plus the UI's own: the process-wide room feeds."""

    app: AppContext
    feeds: RoomFeeds

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.app.db

    @property
    def bus(self):  # type: ignore[no-untyped-def]
        return self.app.bus


@dataclass
class PageFrame:
    context: UiContext
    guest: GuestPublic


async def open_frame(context: UiContext, title: str) -> PageFrame:
    """Call first thing in a page function: the cookie is written before the first await."""
    token = identity.browser_token()
    theme.apply()
    ui.page_title(f"{title} · {theme.PRODUCT_NAME}" if title != theme.PRODUCT_NAME else title)
    guest = await identity.current_guest(context.db, token)

    async def rename(name: str) -> GuestPublic:
        return await context.db.run(guests.rename_guest, guest_id=guest.id, display_name=name)

    Header(guest, on_rename=rename)
    return PageFrame(context=context, guest=guest)

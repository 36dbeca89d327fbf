"""What every page starts with: the theme, the visitor's identity and the header."""

from dataclasses import dataclass
from typing import Any

from nicegui import app, ui

from chat_ui import identity, theme
from chat_ui.feed import RoomFeeds
from chat_ui.layout import Header
from chat_ui.notices import NoticeType, notify
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
    # This visitor's server-side storage, taken while the page is built: later callbacks (bus
    # events) run in another request's context, where app.storage.user would be someone else's.
    user_storage: dict[str, Any]
    # The client address the page was requested from: the sends made in it spend its budget.
    address: str = "unknown"
    header: Header | None = None  # the page's header: its profile dialog and theme, for other parts

    def leave_with_notice(self, text: str, target: str = "/", *, type: NoticeType = "warning") -> None:
        """Go to `target` and say why there: a notice shown just before navigating would go with the page."""
        self.user_storage[NOTICE_KEY] = {"text": text, "type": type}
        ui.navigate.to(target)


NOTICE_KEY = "notice_for_next_page"


async def open_frame(context: UiContext, title: str) -> PageFrame:
    """Call first thing in a page function: the cookie is written before the first await."""
    token = identity.browser_token()
    theme.apply()
    ui.page_title(f"{title} · {theme.PRODUCT_NAME}" if title != theme.PRODUCT_NAME else title)
    address = identity.page_address(context.app)
    guest = await identity.current_guest(context.app, token, address)

    async def rename(name: str) -> GuestPublic:
        return await context.db.run(guests.rename_guest, guest_id=guest.id, display_name=name, by=guest.id)

    header = Header(guest, on_rename=rename)
    user_storage = app.storage.user
    notice = user_storage.pop(NOTICE_KEY, None)
    if isinstance(notice, dict):
        notify(str(notice.get("text", "")), type=notice.get("type", "warning"))
    elif notice:  # stored by a version before notices had a type
        notify(str(notice), type="warning")
    return PageFrame(context=context, guest=guest, user_storage=user_storage, address=address, header=header)

"""The invite dialog of a private room: a link that joins whoever opens it, to copy, with when it
expires; for the room's owner also the room's live links, each with Revoke.

Made on the first click on Invite, not with the page: most visitors never open it, and every open
page keeps its elements in the server's memory. The link comes then too (one service call): the
visitor's newest live link to the room while it has a day left, else a new one, so that neither
opening the dialog again nor loading the page again makes another; only New link does.
"""

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from nicegui import ui

from chat_ui.forms import sentence
from chat_ui.notices import notify
from chat_ui.page_frame import PageFrame
from chat_ui.timezone import browser_timezone
from models.base import utcnow
from models.invite import InviteListed, InvitePublic
from models.room import RoomState
from services import invites
from services.database import DATABASE_DOWN
from services.errors import ServiceError

log = logging.getLogger(__name__)
T = TypeVar("T")
LIVE_SHOWN = 20  # the owner's list shows the newest links; older ones are still revocable by the API

INVITE_CSS = """
.chat-invite-card { width: 30rem; max-width: 94vw; padding: 1.25rem; gap: .75rem; }
.chat-invite-section { font-size: .6875rem; font-weight: 600; letter-spacing: .05em; text-transform: uppercase;
  color: var(--chat-muted); padding-top: .5rem; border-top: 1px solid var(--chat-border); width: 100%; }
.chat-invite-live { display: flex; align-items: center; gap: .5rem; width: 100%; padding: .375rem .5rem;
  border-radius: .5rem; background: var(--chat-hover); }
.chat-invite-live-text { flex: 1; min-width: 0; display: flex; flex-direction: column; }
.chat-invite-live-code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .8125rem;
  color: var(--chat-text); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.chat-invite-live-meta { font-size: .75rem; color: var(--chat-muted); }
.chat-invite-live.chat-invite-shown { box-shadow: inset 3px 0 0 var(--chat-accent); }
.chat-invite-live .chat-invite-revoke { color: var(--chat-danger); }
"""


def expiry_words(expires_at: datetime, *, now: datetime, zone: ZoneInfo) -> str:
    """'Expires in 7 days, on 10 Dec': how long, in the largest whole unit, and the reader's day."""
    left = expires_at - now
    if left <= timedelta(0):
        return "Expired"
    hours = left.total_seconds() / 3600
    if hours >= 24:
        count, unit = round(hours / 24), "day"
    elif hours >= 1:
        count, unit = round(hours), "hour"
    else:
        count, unit = max(1, round(hours * 60)), "minute"
    day = expires_at.astimezone(zone)
    return f"Expires in {count} {unit}{'' if count == 1 else 's'}, on {day.day} {day:%b}"


class InviteDialog:
    def __init__(self, frame: PageFrame, room: RoomState) -> None:
        self._frame, self._room = frame, room
        self._owner = room.owner_id == frame.guest.id
        self._link: InvitePublic | None = None  # the link the dialog shows
        self._zone = ZoneInfo("UTC")
        self._site = site_of(frame)
        self._dialog: ui.dialog | None = None
        self._making = False  # a second click while the first link is being made waits for it

    async def open(self) -> None:
        """The first time, make the link, then the dialog around it: its field is never seen empty."""
        if self._dialog is None:
            if self._making:
                return
            self._making = True
            try:
                self._zone = await browser_timezone()
                link = await self._make_link(invites.current_invite)
            finally:
                self._making = False
            if link is None:  # refused or failed: a notice said why
                return
            self._dialog = self._build()
            self._show_link(link)
        self._dialog.open()
        if self._owner:
            await self._show_live()

    def _build(self) -> ui.dialog:
        with ui.dialog().props("aria-label='Invite people'") as dialog, ui.card().classes("chat-invite-card"):
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                ui.icon("person_add", size="22px").classes("text-primary")
                ui.label("Invite people").classes("text-lg font-semibold flex-1 min-w-0")
                ui.button(icon="close", on_click=dialog.close, color=None).props(
                    "flat round dense aria-label=Close title=Close"
                ).classes("chat-muted")
            ui.label(f"Anyone with this link can join {self._room.name} and read its messages.").classes(
                "text-sm chat-muted break-words w-full"
            )
            self._link_row()
            self._expiry = ui.label().classes("text-sm chat-muted").props("data-testid=invite-expiry")
            self._live = ui.column().classes("w-full gap-1.5") if self._owner else None
            with ui.row().classes("w-full justify-between items-center"):
                ui.button("New link", icon="add_link", on_click=self.new_link).props(
                    "flat no-caps data-testid=invite-new title='Make another link'"
                )
                ui.button("Done", on_click=dialog.close).props("unelevated no-caps")
        return dialog

    def _link_row(self) -> None:
        with ui.row().classes("w-full items-center no-wrap gap-2"):
            self._field = (
                ui.input()
                .props("outlined dense readonly data-testid=invite-link aria-label='Invitation link'")
                .mark("invite-link")
                .classes("flex-1 min-w-0")
            )
            self._copy = (
                ui.button("Copy", icon="content_copy", on_click=self._copy_link)
                .props("unelevated no-caps data-testid=invite-copy")
                .mark("invite-copy")
            )

    async def _make_link(self, how: Callable[..., InvitePublic] = invites.create_invite) -> InvitePublic | None:
        making = self._frame.context.db.run(how, slug=self._room.slug, by=self._frame.guest.id, site=self._site)
        return await _attempt("The link", making, failed="could not be made")

    async def new_link(self) -> None:
        made = await self._make_link()
        if made is not None:
            self._show_link(made)
        if self._owner:
            await self._show_live()

    def _show_link(self, link: InvitePublic | None) -> None:
        self._link = link
        self._field.set_value(link.url if link else "")
        if link is None:
            self._expiry.set_text("This link was revoked: make a new one to invite people.")
            self._copy.disable()
            return
        self._expiry.set_text(expiry_words(link.expires_at, now=utcnow(), zone=self._zone))
        self._copy.enable()

    def _copy_link(self) -> None:
        if self._link is not None:
            ui.clipboard.write(self._link.url)
            notify("Link copied", type="positive")

    async def _show_live(self) -> None:
        """The owner's list of the room's live links, newest first, rebuilt (it is a few rows)."""
        listed = await _attempt(
            "The room's links",
            self._frame.context.db.run_read(
                invites.list_invites, slug=self._room.slug, by=self._frame.guest.id, site=self._site, limit=LIVE_SHOWN
            ),
            failed="could not be loaded",
        )
        if listed is None or self._live is None:
            return
        self._live.clear()
        with self._live:
            ui.label(f"Live links ({len(listed)}{'+' if len(listed) == LIVE_SHOWN else ''})").classes(
                "chat-invite-section"
            )
            if not listed:
                ui.label("No live links: every link has expired or was revoked.").classes("text-sm chat-muted")
            for item in listed:
                self._live_row(item)

    def _live_row(self, item: InviteListed) -> None:
        maker = "someone who left" if item.created_by is None else item.created_by.display_name
        if item.created_by is not None and item.created_by.id == self._frame.guest.id:
            maker = "you"
        shown = self._link is not None and self._link.code == item.code
        this = " · the link above" if shown else ""
        row = ui.element("div").classes("chat-invite-live" + (" chat-invite-shown" if shown else ""))
        with row.props("data-testid=invite-live"):
            with ui.element("div").classes("chat-invite-live-text"):
                code = ui.label(f"…/invite/{item.code}").classes("chat-invite-live-code")
                code.props["title"] = item.url
                ui.label(
                    f"By {maker} · {_lower_first(expiry_words(item.expires_at, now=utcnow(), zone=self._zone))}{this}"
                ).classes("chat-invite-live-meta")
            revoke = ui.button("Revoke", on_click=lambda code=item.code: self._revoke(code), color=None)
            revoke.props("flat dense no-caps data-testid=invite-revoke").classes("chat-invite-revoke")
            revoke.props["aria-label"] = f"Revoke the link made by {maker}"  # a name is text, never parsed as props

    async def _revoke(self, code: str) -> None:
        async def revoking() -> bool:  # revoke_invite answers None, which _attempt keeps for a failure
            await self._frame.context.db.run(
                invites.revoke_invite, slug=self._room.slug, code=code, by=self._frame.guest.id
            )
            return True

        if not await _attempt("The link", revoking(), failed="could not be revoked"):
            return
        notify("Link revoked: it no longer lets anyone join", type="positive")
        if self._link is not None and self._link.code == code:
            self._show_link(None)
        await self._show_live()


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def site_of(frame: PageFrame) -> str:
    """Where this visitor reaches the site, from the request their page came with: CHAT_PUBLIC_URL,
    trusted proxies and Host as for the API's links (services.invites.site_address)."""
    request = ui.context.client.request
    settings = frame.context.app.settings
    return invites.site_address(
        base_url=str(request.base_url),
        peer=request.client.host if request.client else None,
        headers=request.headers,
        trusted=settings.trusted_proxy_networks,
        public_url=settings.public_url,
    )


async def _attempt(what: str, call: Awaitable[T], *, failed: str) -> T | None:
    """The call's result; if it is refused or fails, a notice saying why, and None."""
    try:
        return await call
    except ServiceError as error:
        notify(sentence(error.detail), type="negative")
    except DATABASE_DOWN as error:
        log.warning("%s %s: %s", what, failed, str(error).splitlines()[0])
        notify(f"{what} {failed}: the server cannot reach its database.", type="negative")
    except Exception:
        log.exception("%s %s", what, failed)
        notify(f"{what} {failed}. Please try again.", type="negative")
    return None

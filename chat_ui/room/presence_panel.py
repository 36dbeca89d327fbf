"""Who has the room open: an "N online" chip in the room header and the list it opens.

The list is an HTML popover (`popover=auto`) opened by the chip's `popovertarget`, as the image
viewer is: the browser opens it and closes it (Escape, a click outside) without a script or a
round trip, and the list stays in the page while closed, so it is current the moment it opens.
The chip only ever opens it (`popovertargetaction=show`), so a second click does not hide it.

`track_presence` enters the room for the page and leaves it when the page goes (tab closed,
navigated away); the presence service (services/presence.py) publishes PresenceChanged on
the room's channel, which LiveRoom hands to `PresencePanel.show`.
"""

import itertools

from nicegui import context as ui_context
from nicegui import ui

from chat_ui.page_frame import PageFrame
from models.guest import GuestPublic

_panel_ids = itertools.count(1)


class PresencePanel:
    """Built inside the header row: the chip where it is created, the popover beside it."""

    def __init__(self) -> None:
        self.reader_id: int | None = None  # shown as "you"; set by track_presence
        self._online: list[GuestPublic] = []
        panel_id = f"presence-panel-{next(_panel_ids)}"
        with (
            ui.element("button")
            .props(f"type=button popovertarget={panel_id} popovertargetaction=show data-testid=presence-count")
            .props("aria-label='Who is online'")
            .mark("presence-count")
            .classes(
                "flex items-center gap-1.5 shrink-0 rounded-full px-3 py-1 text-xs font-medium cursor-pointer "
                "border border-slate-500/25 hover:bg-slate-500/10 bg-transparent text-inherit"
            )
        ):
            ui.element("span").classes("inline-block w-2 h-2 rounded-full bg-emerald-500")
            self._count = ui.label("").classes("whitespace-nowrap")
        with (
            ui.element("div")
            .props(f"id={panel_id} popover=auto data-testid=presence-panel")
            .mark("presence-panel")
            .classes(
                "chat-surface fixed inset-auto top-28 right-4 m-0 w-72 max-w-[calc(100vw-2rem)] max-h-[60vh] "
                "overflow-y-auto rounded-xl border border-slate-500/25 p-0 shadow-xl"
            )
        ):
            ui.label("In this room now").classes("text-xs font-semibold uppercase tracking-wide chat-muted px-4 pt-3")
            self._list = ui.column().classes("w-full gap-0 py-2").props("data-testid=presence-list")
            self._list.mark("presence-list")
        self.show([])

    def show(self, online: list[GuestPublic]) -> None:
        """Replace the list (PresenceChanged carries the whole of it)."""
        self._online = sorted(online, key=lambda guest: (guest.id != self.reader_id, guest.display_name.casefold()))
        self._count.set_text(f"{len(online)} online")
        self._list.clear()
        with self._list:
            for guest in self._online:
                self._item(guest)
            if not self._online:
                ui.label("Nobody else is here right now.").classes("text-sm chat-muted px-4 py-1")

    def _item(self, guest: GuestPublic) -> None:
        with (
            ui.row()
            .classes("w-full items-center no-wrap gap-3 px-4 py-1.5")
            .props("data-testid=presence-item")
            .mark("presence-item")
        ):
            with ui.avatar(color="primary", text_color="white", size="28px"):
                ui.label(guest.display_name[:1].upper()).classes("text-xs")
            ui.label(guest.display_name).classes("text-sm truncate flex-1 min-w-0").props(
                "data-testid=presence-name"
            ).mark("presence-name")
            if guest.id == self.reader_id:
                ui.label("you").classes("text-xs chat-muted shrink-0")
            ui.element("span").classes("inline-block w-2 h-2 rounded-full bg-emerald-500 shrink-0")


async def track_presence(frame: PageFrame, slug: str, panel: PresencePanel) -> None:
    """Enter the room for this page and show who is here. The page leaves when its socket goes
    (a closed tab is gone at once, not after the reconnect grace period) and enters again if
    the same page reconnects; deleting the client leaves too, for a socket that never said goodbye."""
    panel.reader_id = frame.guest.id
    tracker = _PresenceTracker(frame, slug)
    client = ui_context.client
    await tracker.enter()
    client.on_disconnect(tracker.leave)
    client.on_connect(tracker.enter)
    client.on_delete(tracker.leave)
    if client.is_deleted:  # closed while entering: the handlers came too late to fire
        await tracker.leave()
        return
    panel.show(await frame.context.app.presence.online(slug))


class _PresenceTracker:
    """In or out, once each: the presence service counts a guest's pages, so a leave must match an enter."""

    def __init__(self, frame: PageFrame, slug: str) -> None:
        self._presence, self._guest, self._slug = frame.context.app.presence, frame.guest, slug
        self._inside = False

    async def enter(self) -> None:
        if not self._inside:
            self._inside = True
            await self._presence.enter(self._slug, self._guest)

    async def leave(self) -> None:
        if self._inside:
            self._inside = False
            await self._presence.leave(self._slug, self._guest.id)

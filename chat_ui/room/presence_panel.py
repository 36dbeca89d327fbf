"""Who has the room open: an "N online" chip in the room header and the list it opens.

The list is an HTML popover (`popover=auto`) opened by the chip's `popovertarget`, as the image
viewer is: the browser opens it and closes it (Escape, a click outside) without a script or a
round trip, and the list stays in the page while closed, so it is current the moment it opens.
The chip only ever opens it (`popovertargetaction=show`), so a second click does not hide it.

`track_presence` enters the room for the page and leaves it when the page goes (tab closed,
navigated away); the presence service (services/presence.py) publishes PresenceChanged on
the room's channel, which LiveRoom hands to `PresencePanel.show`.
"""

import asyncio
import itertools
from html import escape

from nicegui import context as ui_context
from nicegui import ui

from chat_ui.page_frame import PageFrame
from models.guest import GuestPublic

_panel_ids = itertools.count(1)
UPDATE_INTERVAL = 0.5  # seconds: the most often a view redraws the list
# Names listed; beyond them the list says how many more. A room of a thousand viewers would
# otherwise send each of them ~250 KB of names at every change while it fills (#17).
LISTED_MAX = 100


CHIP_CSS = """
.chat-presence-chip { display: flex; align-items: center; gap: .375rem; flex-shrink: 0; cursor: pointer;
  border-radius: 9999px; padding: .25rem .75rem; font-size: .75rem; line-height: 1rem; font-weight: 500;
  border: 1px solid var(--chat-border); background: transparent; color: var(--chat-muted); }
.chat-presence-chip:hover { background: var(--chat-hover); color: var(--chat-text); }
@media (max-width: 640px) {
  .chat-presence-chip { padding: .25rem .5rem; }
  .chat-presence-chip .chat-presence-word { display: none; }
  .chat-presence-chip + [popover] { top: 3.5rem; right: .5rem; }  /* under the phone's one bar */
}
"""


class PresencePanel:
    """Built inside the header row: the chip where it is created, the popover beside it."""

    def __init__(self) -> None:
        panel_id = f"presence-panel-{next(_panel_ids)}"
        with (
            ui.element("button")  # its name says the count even where the word "online" is hidden
            .props(f"type=button popovertarget={panel_id} popovertargetaction=show data-testid=presence-count")
            .props("aria-label='Who is online'")
            .mark("presence-count")
            .classes("chat-presence-chip") as self._chip
        ):
            ui.element("span").classes("chat-presence-dot")
            # "3 online"; a phone shows "3" (CHIP_CSS), the word hidden but still the chip's text.
            self._count = ui.html("", sanitize=False).classes("whitespace-nowrap")
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
            self._list = ui.html("", sanitize=False).classes("w-full py-2").props("data-testid=presence-list")
            self._list.mark("presence-list")
        self._latest: list[GuestPublic] | None = None
        self._cooling_down = False

    def show(self, online: list[GuestPublic]) -> None:
        """Replace the list (PresenceChanged carries the whole of it). While a room fills up, every
        arrival changes the list in every view: a view applies at most one change every half second, the
        latest, so that N arrivals cost each view a few updates, not N; a change still shows within a
        second, like every other change in the room."""
        self._latest = online
        if self._cooling_down:
            return
        self._apply()

    def _apply(self) -> None:
        online, self._latest = self._latest, None
        if online is None or self._list.is_deleted:
            self._cooling_down = False
            return
        self._count.content = f'{len(online)}<span class="chat-presence-word"> online</span>'
        self._chip.props["aria-label"] = f"{len(online)} online: who is here"
        self._list.content = presence_html(online)
        self._cooling_down = True
        asyncio.get_running_loop().call_later(UPDATE_INTERVAL, self._apply)


def presence_html(online: list[GuestPublic]) -> str:
    """The list as HTML, made once per process for every view: an event's list is decoded once and
    the same object reaches every view (the last one is kept by identity; hashing hundreds of
    guests per view would cost more than making the HTML). Which item is the reader's is marked by
    one CSS rule per page (see `you_css`), so the HTML stays shared."""
    global _last_rendered
    if _last_rendered is not None and _last_rendered[0] is online:
        return _last_rendered[1]
    html = _presence_html(online)
    _last_rendered = (online, html)  # the list is kept, so its identity cannot be reused meanwhile
    return html


_last_rendered: tuple[list[GuestPublic], str] | None = None


def _presence_html(online: list[GuestPublic]) -> str:
    if not online:
        return '<div class="text-sm chat-muted px-4 py-1">Nobody is here right now.</div>'
    listed = sorted(online, key=lambda guest: guest.display_name.casefold())[:LISTED_MAX]
    items = []
    for guest in listed:
        name = escape(guest.display_name)
        items.append(
            f'<div class="chat-presence-item" data-testid="presence-item" data-guest="g{guest.id}">'
            f'<span class="chat-presence-avatar" aria-hidden="true">{escape(guest.display_name[:1].upper())}</span>'
            f'<span class="chat-presence-name" data-testid="presence-name">{name}</span>'
            '<span class="chat-presence-you">you</span><span class="chat-presence-dot"></span></div>'
        )
    if len(online) > len(listed):
        items.append(f'<div class="text-sm chat-muted px-4 py-1">and {len(online) - len(listed):,} more</div>')
    return "".join(items)


def you_css(guest_id: int) -> str:
    return f'.chat-presence-item[data-guest="g{int(guest_id)}"] .chat-presence-you {{ display: inline; }}'


async def track_presence(frame: PageFrame, slug: str, panel: PresencePanel) -> None:
    """Enter the room for this page and show who is here. The page leaves when its socket goes
    (a closed tab is gone at once, not after the reconnect grace period) and enters again if
    the same page reconnects; deleting the client leaves too, for a socket that never said goodbye."""
    ui.add_css(you_css(frame.guest.id))
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

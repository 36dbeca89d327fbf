"""The room's bar: back to the list, the name (a lock by a private room's) and description, who
is online, and the room's actions (Leave, and for the owner Lock / Unlock).

On a phone (up to 640 px) it is the page's only bar (chat_ui/layout.py hides the app's header on a
page holding this bar): back, the name, the online count and a "⋮" button. The actions are
one set of elements in an HTML popover (`popover=auto`) that the "⋮" button opens (`popovertarget`):
the browser opens and closes it without a script or a round trip, Escape and a click outside close
it. There the menu also offers the profile and the theme, which the hidden app header would. At
wider widths the same popover element is laid out inline in the bar (a closed popover is only
`display: none` by the browser's own style, which ours overrides) and the "⋮" button is not shown,
so each action exists once in the page, with its test marker, at every width.
"""

import itertools
from collections.abc import Awaitable, Callable, Sequence

from nicegui import ui

from chat_ui.layout import PHONE_MAX, THEME_ICONS, THEME_LABELS, THEME_MODES, Header, ThemeMode
from chat_ui.my_rooms import private_room_icon
from chat_ui.room.presence_panel import PresencePanel
from models.room import RoomState

_menu_ids = itertools.count(1)

ROOM_BAR_CSS = f"""
.chat-room-bar {{ min-height: 56px; }}
.chat-room-title {{ font-size: 1.0625rem; line-height: 1.4rem; }}
.chat-room-description {{ font-size: 0.75rem; line-height: 1rem; color: var(--chat-muted); }}
.chat-room-bar .q-btn {{ color: var(--chat-muted); }}
.chat-room-bar .q-btn:hover {{ color: var(--chat-text); }}
.chat-room-bar .chat-room-leave:hover {{ color: var(--chat-danger); }}
.chat-room-menu-label {{ font-size: 0.6875rem; font-weight: 600; letter-spacing: .05em; text-transform: uppercase;
  color: var(--chat-muted); padding: .5rem .75rem .25rem; }}
.chat-room-menu-rule {{ height: 1px; margin: .25rem .5rem; background: var(--chat-border); }}
.chat-room-bar .chat-theme-choice[aria-pressed="true"] {{ background: var(--chat-accent-soft);
  color: var(--chat-accent-text); }}
@media (min-width: {PHONE_MAX + 1}px) {{
  .chat-room-actions {{ display: flex; align-items: center; gap: .25rem; position: static; inset: auto; margin: 0;
    padding: 0; border: 0; background: transparent; color: inherit; overflow: visible; width: auto; height: auto; }}
  .chat-room-bar .chat-phone-only {{ display: none !important; }}
}}
@media (max-width: {PHONE_MAX}px) {{
  .chat-room-bar {{ min-height: 0; height: 52px; }}
  .chat-room-bar .chat-desktop-only {{ display: none !important; }}
  .chat-room-title {{ font-size: 1rem; }}
  .chat-room-actions {{ position: fixed; inset: 3.25rem .5rem auto auto; margin: 0; width: 15rem;
    max-width: calc(100vw - 1rem);
    padding: .375rem; border: 1px solid var(--chat-border); border-radius: .875rem; background: var(--chat-raised);
    color: var(--chat-text); box-shadow: 0 10px 30px var(--chat-shadow); }}
  .chat-room-actions:popover-open {{ display: flex; flex-direction: column; gap: 2px; }}
  .chat-room-actions > .q-btn {{ width: 100%; min-height: 44px; border-radius: .5rem; padding: 0 .75rem;
    color: var(--chat-text); font-size: .9375rem; }}
  .chat-room-actions > .q-btn .q-icon {{ margin-right: .75rem; }}
  .chat-theme-choices {{ display: grid; grid-template-columns: repeat(3, 1fr); gap: 4px; padding: 0 .25rem .25rem; }}
  .chat-theme-choice {{ min-height: 44px; border-radius: .5rem; }}
  .chat-room-actions > .chat-room-leave {{ color: var(--chat-danger); }}
}}
"""


class RoomHeader:
    """Shows the room (call `show` when it changes) and who is online (`presence.show`); reports
    Leave and Lock / Unlock as intents."""

    def __init__(
        self,
        room: RoomState,
        *,
        owner: bool,
        app_header: Header | None,
        on_leave: Callable[[], Awaitable[None]],
        on_lock: Callable[[bool], Awaitable[None]],
        extras: Sequence[Callable[[str], object]] = (),
    ) -> None:
        """`extras` build more of the room's actions (invite, export) among the others: each gets
        the props that make a click close the phone's menu."""
        self._locked = room.locked
        self._extras = extras
        self._app_header = app_header  # its profile and theme are offered in the phone's menu too
        self._theme_choices: dict[ThemeMode, ui.button] = {}
        with ui.row().classes(
            "chat-room-bar chat-border-bottom w-full items-center no-wrap gap-1 sm:gap-2 px-1 sm:px-3"
        ):
            ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to("/"), color=None).props(
                "flat round aria-label='All rooms' title='All rooms'"
            ).classes("chat-muted")
            with ui.column().classes("gap-0 min-w-0 flex-1 pl-1"):
                self._title = self._name(room)
                self._description = ui.label(room.description).classes(
                    "chat-room-description chat-desktop-only truncate w-full"
                )
            self.presence = PresencePanel()  # fed by track_presence and LiveRoom (presence.changed)
            menu_id = f"room-actions-{next(_menu_ids)}"
            ui.button(icon="more_vert", color=None).props(
                f"flat round popovertarget={menu_id} data-testid=room-menu-button aria-label='Room actions'"
                " title='Room actions'"
            ).mark("room-menu-button").classes("chat-phone-only chat-muted")
            with ui.element("div").classes("chat-room-actions").props(f"id={menu_id} popover=auto"):
                self._actions(menu_id, owner=owner, on_leave=on_leave, on_lock=on_lock)
        self._title.props("data-testid=room-title").mark("room-title")
        self.show(room)

    @staticmethod
    def _name(room: RoomState) -> ui.label:
        """The room's name; a private room's with a lock before it (a room stays what it was made)."""
        if not room.is_private:
            return ui.label(room.name).classes("chat-room-title font-semibold truncate w-full")
        with ui.row().classes("items-center no-wrap gap-1 w-full min-w-0"):
            private_room_icon(size="18px")
            return ui.label(room.name).classes("chat-room-title font-semibold truncate min-w-0")

    def _actions(
        self,
        menu_id: str,
        *,
        owner: bool,
        on_leave: Callable[[], Awaitable[None]],
        on_lock: Callable[[bool], Awaitable[None]],
    ) -> None:
        """Inline buttons on a wide screen, the menu's items on a phone; a click on an item closes
        the menu (`popovertargetaction=hide`), which does nothing where it is inline."""
        closes = f"popovertarget={menu_id} popovertargetaction=hide"
        self._lock = None
        if owner:
            self._lock = (
                ui.button(on_click=lambda: on_lock(not self._locked), color=None)
                .props(f"flat no-caps align=left {closes} data-testid=lock-room-button")
                .mark("lock-room-button")
            )
        for build in self._extras:
            build(closes)
        if self._app_header is not None:
            self._phone_items(self._app_header, closes)
        ui.element("div").classes("chat-room-menu-rule chat-phone-only")
        ui.button("Leave room", icon="logout", on_click=on_leave, color=None).props(
            f"flat no-caps align=left {closes} data-testid=leave-room-button title='Leave this room'"
        ).mark("leave-room-button").classes("chat-room-leave")

    def _phone_items(self, app_header: Header, closes: str) -> None:
        """What the app header offers, which a phone does not show on a room page."""
        if app_header.open_search is not None:  # the header's box, spread over this bar while in use
            ui.button("Search messages", icon="search", on_click=app_header.open_search, color=None).props(
                f"flat no-caps align=left {closes} data-testid=room-menu-search"
            ).classes("chat-phone-only")
        ui.button("Your profile", icon="account_circle", on_click=app_header.open_profile, color=None).props(
            f"flat no-caps align=left {closes} data-testid=room-menu-profile"
        ).classes("chat-phone-only")
        ui.label("Theme").classes("chat-room-menu-label chat-phone-only")
        with ui.element("div").classes("chat-theme-choices chat-phone-only").props("role=group aria-label=Theme"):
            for mode in THEME_MODES:
                self._theme_choices[mode] = (
                    ui.button(THEME_LABELS[mode], icon=THEME_ICONS[mode], color=None)
                    .on_click(lambda mode=mode: app_header.theme.choose(mode))
                    .props(f"flat no-caps stack dense data-testid=room-theme-{mode}")
                    .classes("chat-theme-choice text-xs")
                )
        self._show_theme(app_header.theme.mode)
        app_header.theme.on_change(self._show_theme)

    def _show_theme(self, mode: ThemeMode) -> None:
        for choice_mode, button in self._theme_choices.items():
            button.props["aria-pressed"] = "true" if choice_mode == mode else "false"

    def show(self, room: RoomState) -> None:
        self._locked = room.locked
        self._title.set_text(room.name)
        self._title.props["title"] = room.name  # the whole name, where the bar cuts it short
        self._description.set_text(room.description)
        self._description.props["title"] = room.description
        self._description.visible = bool(room.description)
        if self._lock is not None:
            self._lock.set_text("Unlock" if room.locked else "Lock")
            self._lock.props["icon"] = "lock_open" if room.locked else "lock"
            self._lock.props["title"] = "Let everyone post again" if room.locked else "Only you can post while locked"

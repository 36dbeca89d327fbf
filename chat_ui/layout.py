"""The frame of every page: the app's header (the product's name, the theme switch, the visitor's
name and profile) and the per-browser theme choice.

On a room page at phone widths the room's own bar replaces this header (chat_ui/room/header.py
holds a `.chat-room-bar`; the rule is in HEADER_CSS), so the messages get the height;
the header stays in the page, hidden, and the room's "⋮" menu offers its profile and theme.
"""

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from nicegui import app, ui

from chat_ui import theme
from chat_ui.forms import problem_of, sentence
from chat_ui.notices import notify
from models.guest import GuestPublic
from services.errors import ServiceError
from services.guests import validate_display_name

ThemeMode = Literal["light", "dark", "system"]
THEME_MODES: tuple[ThemeMode, ...] = ("light", "dark", "system")
THEME_DARK: dict[ThemeMode, bool | None] = {"light": False, "dark": True, "system": None}  # ui.dark_mode's value
THEME_ICONS: dict[ThemeMode, str] = {"light": "light_mode", "dark": "dark_mode", "system": "brightness_auto"}
THEME_LABELS: dict[ThemeMode, str] = {"light": "Light", "dark": "Dark", "system": "System"}
PHONE_MAX = 640  # px: up to this width a page is laid out for a phone

HEADER_CSS = f"""
.chat-app-header {{ height: 52px; border-bottom: 1px solid var(--chat-border); box-shadow: none; }}
.chat-app-header .q-btn {{ color: var(--chat-muted); }}
.chat-app-header .q-btn:hover, .chat-app-header .chat-user-name {{ color: var(--chat-text); }}
.chat-app-header .chat-user-name {{ max-width: 10rem; font-weight: 500; }}
/* Quasar's dark components take their surface from ui.colors (theme.apply); their text from ours. */
.q-dark {{ color: var(--chat-text); }}
/* A room page on a phone: its own bar is the only one (chat_ui/room/header.py), and the page's
   height no longer leaves room for this header (chat_ui/room/page.py reads --chat-header). */
@media (max-width: {PHONE_MAX}px) {{
  .chat-app-header .chat-user-name {{ max-width: 6rem; }}
  body:has(.chat-room-bar) .chat-app-header {{ display: none; }}
  body:has(.chat-room-bar) {{ --chat-header: 0px; }}
}}
.chat-theme-menu {{ min-width: 11rem; border: 1px solid var(--chat-border);
  box-shadow: 0 10px 30px var(--chat-shadow); }}
.chat-theme-menu .q-item {{ min-height: 40px; color: var(--chat-text); }}
.chat-theme-menu .q-item[aria-checked="true"] {{ color: var(--chat-accent); font-weight: 600; }}
.chat-theme-menu .q-item[aria-checked="false"] .chat-theme-check {{ visibility: hidden; }}
"""


def theme_label(mode: ThemeMode) -> str:
    return f"Theme: {mode}"


class ThemeSwitch:
    """The visitor's choice of light, dark or the system's scheme, kept per browser (the user
    storage's "dark": True, False, or None for the system) and applied by `ui.dark_mode`.
    Views of the choice register with `on_change` and are called with the new mode."""

    def __init__(self, storage: dict[str, Any]) -> None:
        # Taken while the page is built: the browser storage is read-only after the page is sent,
        # and later callbacks may run where app.storage.user is another visitor's.
        self._storage = storage
        self._dark = ui.dark_mode(value=storage.get("dark"))  # None: follow the system
        self._listeners: list[Callable[[ThemeMode], None]] = []

    @property
    def mode(self) -> ThemeMode:
        return next(mode for mode, dark in THEME_DARK.items() if dark is self._dark.value)

    def choose(self, mode: ThemeMode) -> None:
        self._dark.value = THEME_DARK[mode]
        self._storage["dark"] = THEME_DARK[mode]
        for listener in self._listeners:
            listener(mode)

    def on_change(self, listener: Callable[[ThemeMode], None]) -> None:
        self._listeners.append(listener)


class Header:
    """Shows who the visitor is; reports a rename through `on_rename`, which returns the new guest.
    The profile dialog and the theme menu are made when first opened: most visits never open them."""

    def __init__(self, guest: GuestPublic, *, on_rename: Callable[[str], Awaitable[GuestPublic]]) -> None:
        self._on_rename = on_rename
        self._guest_name = guest.display_name
        self._dialog: ui.dialog | None = None
        self._theme_menu: ui.menu | None = None
        self._theme_items: dict[ThemeMode, ui.menu_item] = {}
        self.theme = ThemeSwitch(app.storage.user)
        with ui.header().classes("chat-app-header chat-surface items-center no-wrap gap-2 px-3 sm:px-4 py-0"):
            with ui.link(target="/").classes("flex items-center gap-2 no-underline text-inherit min-w-0"):
                ui.icon("forum", size="26px").classes("text-primary")
                ui.label(theme.PRODUCT_NAME).classes("text-lg font-semibold tracking-tight")
            # The search box goes here once the page knows its visitor (chat_ui.search_box); it
            # tells how to open it, for the room bar's phone menu, where this header is hidden.
            self.search_slot = ui.element("div").classes("chat-search-slot flex-1 min-w-0 flex justify-center")
            self.open_search: Callable[[], None] | None = None
            self._theme_button = ui.button(on_click=self._open_theme_menu, color=None).props(
                "flat round dense data-testid=theme-button aria-haspopup=menu"
            )
            self._theme_button.mark("theme-button").classes("chat-muted")
            self._show_theme(self.theme.mode)
            self._profile_button(guest)
        self.theme.on_change(self._show_theme)

    def _profile_button(self, guest: GuestPublic) -> None:
        with (
            ui.button(on_click=self.open_profile, color=None)
            .props("flat no-caps rounded dense data-testid=profile-button aria-label='Your profile'")
            .mark("profile-button")
            .classes("text-inherit px-2")
        ):
            with ui.avatar(color="primary", text_color="white", size="28px"):
                self._initial = ui.label(_initial(guest.display_name)).classes("text-sm")
            self._name = (
                ui.label(guest.display_name)
                .props("data-testid=current-user-name")
                .mark("current-user-name")
                .classes("chat-user-name ml-2 truncate")
            )
            self._name.props["title"] = guest.display_name  # the whole name, where it is cut short

    # The theme

    def _show_theme(self, mode: ThemeMode) -> None:
        label = theme_label(mode)
        self._theme_button.props.update({"icon": THEME_ICONS[mode], "aria-label": label, "title": label})
        for item_mode, item in self._theme_items.items():
            item.props["aria-checked"] = "true" if item_mode == mode else "false"

    def _open_theme_menu(self) -> None:
        """The first click makes the menu and opens it; from then on Quasar opens it on a click."""
        if self._theme_menu is not None:
            return
        with self._theme_button, ui.menu().classes("chat-theme-menu").props("data-testid=theme-menu") as menu:
            for mode in THEME_MODES:
                with ui.menu_item(on_click=lambda mode=mode: self.theme.choose(mode)).props(
                    f"data-testid=theme-{mode} role=menuitemradio"
                ) as item:
                    with ui.item_section().props("avatar").classes("min-w-0 pr-3"):
                        ui.icon(THEME_ICONS[mode], size="20px")
                    ui.item_section(THEME_LABELS[mode])
                    with ui.item_section().props("side"):
                        ui.icon("check", size="18px").classes("chat-theme-check text-primary")
                self._theme_items[mode] = item
        self._theme_menu = menu
        self._show_theme(self.theme.mode)
        menu.open()

    # The profile

    def open_profile(self) -> None:
        if self._dialog is None:
            self._dialog = self._build_profile_dialog()
        self._input.value = self._guest_name
        self._dialog.open()

    def _build_profile_dialog(self) -> ui.dialog:
        with ui.dialog().props("aria-label='Your display name'") as dialog, ui.card().classes("w-80 max-w-full gap-4"):
            ui.label("Your display name").classes("text-lg font-semibold")
            ui.label("This is how others see you in every room.").classes("text-sm chat-muted")
            self._input = (
                ui.input("Display name", value=self._guest_name, validation=problem_of(validate_display_name))
                .props("outlined autofocus maxlength=40 data-testid=display-name-input")
                .mark("display-name-input")
                .classes("w-full")
                .on("keydown.enter", self._save)
            )
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Save", on_click=self._save).props("unelevated no-caps data-testid=display-name-save").mark(
                    "display-name-save"
                )
        return dialog

    async def _save(self) -> None:
        if self._dialog is None or not self._input.validate():
            return
        try:
            guest = await self._on_rename(self._input.value)
        except ServiceError as error:  # an invalid name, or a guest who may not write (banned)
            notify(sentence(error.detail), type="negative")
            return
        self._guest_name = guest.display_name
        self._name.set_text(guest.display_name)
        self._name.props["title"] = guest.display_name
        self._initial.set_text(_initial(guest.display_name))
        self._dialog.close()
        notify(f"You are now {guest.display_name}", type="positive")


def _initial(name: str) -> str:
    return name.strip()[:1].upper() or "?"

"""The frame of every page: header with the product's name, the visitor's name and profile."""

from collections.abc import Awaitable, Callable

from nicegui import app, ui

from chat_ui import theme
from chat_ui.forms import problem_of, sentence
from chat_ui.notices import notify
from models.guest import GuestPublic
from services.errors import ServiceError
from services.guests import validate_display_name


class Header:
    """Shows who the visitor is; reports a rename through `on_rename`, which returns the new guest."""

    def __init__(self, guest: GuestPublic, *, on_rename: Callable[[str], Awaitable[GuestPublic]]) -> None:
        self._on_rename = on_rename
        dark = ui.dark_mode(value=app.storage.user.get("dark"))  # None: follow the system
        with ui.header().classes("chat-surface items-center gap-3 px-4 py-2 shadow-sm"):
            with ui.link(target="/").classes("flex items-center gap-2 no-underline text-inherit"):
                ui.icon("forum", size="28px").classes("text-primary")
                ui.label(theme.PRODUCT_NAME).classes("text-lg font-semibold tracking-tight")
            ui.space()
            ui.button(icon="dark_mode", on_click=lambda: self._toggle_dark(dark)).props(
                "flat round dense aria-label='Toggle dark mode'"
            ).classes("chat-muted")
            with (
                ui.button(on_click=self._open_profile)
                .props("flat no-caps rounded data-testid=profile-button aria-label='Your profile'")
                .mark("profile-button")
                .classes("text-inherit")
            ):
                with ui.avatar(color="primary", text_color="white", size="28px"):
                    self._initial = ui.label(_initial(guest.display_name)).classes("text-sm")
                self._name = (
                    ui.label(guest.display_name)
                    .props("data-testid=current-user-name")
                    .mark("current-user-name")
                    .classes("ml-2 max-w-[10rem] truncate")
                )
        self._dialog = self._build_profile_dialog(guest)

    async def _toggle_dark(self, dark: ui.dark_mode) -> None:
        if dark.value is None:  # still following the system: ask the browser what it shows now
            # One of the three allowed reads of a browser fact (tests/test_no_javascript.py).
            shown_dark = await ui.run_javascript("return matchMedia('(prefers-color-scheme: dark)').matches")
            dark.value = not shown_dark
        else:
            dark.value = not dark.value
        # The browser storage is read-only after the page is sent; remember the choice per user instead.
        app.storage.user["dark"] = dark.value

    def _build_profile_dialog(self, guest: GuestPublic) -> ui.dialog:
        with ui.dialog() as dialog, ui.card().classes("w-80 max-w-full gap-4"):
            ui.label("Your display name").classes("text-lg font-semibold")
            ui.label("This is how others see you in every room.").classes("text-sm text-slate-500")
            self._input = (
                ui.input("Display name", value=guest.display_name, validation=problem_of(validate_display_name))
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

    def _open_profile(self) -> None:
        self._input.value = self._name.text
        self._dialog.open()

    async def _save(self) -> None:
        if not self._input.validate():
            return
        try:
            guest = await self._on_rename(self._input.value)
        except ServiceError as error:  # an invalid name, or a guest who may not write (banned)
            notify(sentence(error.detail), type="negative")
            return
        self._name.set_text(guest.display_name)
        self._initial.set_text(_initial(guest.display_name))
        self._dialog.close()
        notify(f"You are now {guest.display_name}", type="positive")


def _initial(name: str) -> str:
    return name.strip()[:1].upper() or "?"

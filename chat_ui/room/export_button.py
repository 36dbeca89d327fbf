"""The room bar's Export: the room's history as a zip, as a Markdown transcript or as JSON, with
its images (CONTRACT §7).

A click asks which format, in a small dialog made on the first click (most visits never export,
and every element costs memory for as long as the page is open); the choice has the browser
download the zip from the REST route (`ui.download`): the browser streams it to disk itself, and
its session cookie tells the route who is asking, which a private room needs. Nothing passes
through this page but the question.
"""

from urllib.parse import quote

from nicegui import ui
from nicegui.element import Element

from chat_ui.notices import notify
from chat_ui.page_frame import PageFrame
from models.room import RoomState
from services import access
from services.database import DATABASE_DOWN
from services.errors import NotFound
from services.transcript import ExportFormat

# The route of api/export.py (chat_ui does not import the API: they are two faces of the services).
EXPORT_URL = "/api/v1/rooms/{slug}/export?format={fmt}"
EXPORT_CSS = """
.chat-export-card { width: 24rem; max-width: calc(100vw - 2rem); }
.chat-export-choice { border: 1px solid var(--chat-border); border-radius: .75rem; color: var(--chat-text); }
.chat-export-choice + .chat-export-choice { margin-top: .5rem; }
.chat-export-choice:hover { background: var(--chat-accent-soft); }
.chat-export-choice .q-item__section--avatar { min-width: 2.5rem; }
.chat-export-choice .q-icon { color: var(--chat-accent); }
.chat-export-choice .q-item__label--caption { color: var(--chat-muted); }
"""


class ExportButton:
    def __init__(self, frame: PageFrame, room: RoomState) -> None:
        self._frame, self._room = frame, room
        # Where the dialog is made on the first click: the page's column, not the phone's menu
        # (`build` runs inside it), which is hidden again as soon as the button is tapped.
        self._parent: Element = ui.context.slot.parent
        self._dialog: ui.dialog | None = None

    def build(self, closes: str) -> None:
        """Called by the room bar among its actions; `closes` closes the phone's menu on a click."""
        ui.button("Export", icon="download", on_click=self._open, color=None).props(
            f"flat no-caps align=left {closes} data-testid=export-room-button title='Download the history of this room'"
        ).mark("export-room-button")

    def _open(self) -> None:
        if self._dialog is None:
            with self._parent:
                self._dialog = self._build_dialog()
        self._dialog.open()

    def _build_dialog(self) -> ui.dialog:
        with (
            ui.dialog().props("aria-label='Export this room'") as dialog,
            ui.card().classes("chat-export-card gap-3"),
        ):
            ui.label("Export this room").classes("text-base font-semibold")
            ui.label("Every message so far, with the room's images, in one zip file.").classes("text-sm chat-muted")
            with ui.list().classes("w-full"):
                self._choice("markdown", "article", "Markdown", "A transcript to read, times in UTC")
                self._choice("json", "data_object", "JSON", "Every detail, for scripts and apps")
            with ui.row().classes("justify-end w-full"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
        return dialog

    def _choice(self, fmt: ExportFormat, icon: str, label: str, caption: str) -> None:
        with (
            ui.item(on_click=lambda: self._download(fmt))
            .props(f"data-testid=export-{fmt}")
            .classes("chat-export-choice")
        ):
            with ui.item_section().props("avatar"):
                ui.icon(icon)
            with ui.item_section():
                ui.item_label(label).classes("font-medium")
                ui.item_label(caption).props("caption")

    async def _download(self, fmt: ExportFormat) -> None:
        """Ask first whether the room can still be read (it may have gone, or the reader been
        removed from a private room), so that a refusal is a notice and not a failed download."""
        slug, db = self._room.slug, self._frame.context.db
        try:
            await db.run_read(access.check_readable, slug=slug, reader_id=self._frame.guest.id)
        except NotFound:
            notify("This room cannot be exported: it is gone, or no longer open to you.", type="negative")
            return
        except DATABASE_DOWN:
            notify("The export cannot start: the server cannot reach its database.", type="negative")
            return
        ui.download.from_url(EXPORT_URL.format(slug=quote(slug), fmt=fmt))
        if self._dialog is not None:
            self._dialog.close()
        notify("Your browser is downloading the room's history.", type="positive")

"""The room's bar: back to the list, the name and description, who is online, Leave, and for the
owner Lock / Unlock."""

from collections.abc import Awaitable, Callable

from nicegui import ui

from chat_ui.room.presence_panel import PresencePanel
from models.room import RoomState


class RoomHeader:
    """Shows the room (call `show` when it changes) and who is online (`presence.show`); reports
    Leave and Lock / Unlock as intents."""

    def __init__(
        self,
        room: RoomState,
        *,
        owner: bool,
        on_leave: Callable[[], Awaitable[None]],
        on_lock: Callable[[bool], Awaitable[None]],
    ) -> None:
        self._locked = room.locked
        with ui.row().classes("chat-border-bottom w-full items-center no-wrap gap-3 px-4 py-2"):
            ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to("/")).props(
                "flat round dense aria-label='All rooms'"
            )
            with ui.column().classes("gap-0 min-w-0 flex-1"):
                self._title = (
                    ui.label(room.name)
                    .classes("text-lg font-semibold truncate w-full")
                    .props("data-testid=room-title")
                    .mark("room-title")
                )
                self._description = ui.label(room.description).classes("text-xs text-slate-500 truncate w-full")
            self.presence = PresencePanel()  # fed by track_presence and LiveRoom (presence.changed)
            self._lock = None
            if owner:
                self._lock = (
                    ui.button(on_click=lambda: on_lock(not self._locked))
                    .props("flat no-caps dense data-testid=lock-room-button")
                    .mark("lock-room-button")
                    .classes("text-slate-500")
                )
            ui.button("Leave", icon="logout", on_click=on_leave).props(
                "flat no-caps dense data-testid=leave-room-button"
            ).mark("leave-room-button").classes("text-slate-500")
        self.show(room)

    def show(self, room: RoomState) -> None:
        self._locked = room.locked
        self._title.set_text(room.name)
        self._description.set_text(room.description)
        self._description.visible = bool(room.description)
        if self._lock is not None:
            self._lock.set_text("Unlock" if room.locked else "Lock")
            self._lock.props(f"icon={'lock_open' if room.locked else 'lock'}")

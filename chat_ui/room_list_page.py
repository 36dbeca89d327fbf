"""`/`: every public room, live, and a form to create one."""

from collections.abc import Awaitable, Callable
from datetime import datetime

from nicegui import ui

from chat_ui.forms import problem_of, sentence
from chat_ui.page_frame import PageFrame
from models.room import ROOM_DESCRIPTION_MAX, ROOM_NAME_MAX, RoomPublic, RoomState
from services import rooms
from services.errors import Conflict, InvalidInput
from services.events import (
    ROOMS_CHANNEL,
    Resync,
    RoomActivity,
    RoomCreated,
    RoomDeleted,
    RoomEvent,
    RoomUpdated,
)


async def room_list_page(frame: PageFrame) -> None:
    context = frame.context

    async def create(name: str, description: str) -> None:
        room = await context.db.run(rooms.create_room, owner_id=frame.guest.id, name=name, description=description)
        ui.navigate.to(f"/rooms/{room.slug}")

    dialog = CreateRoomDialog(on_create=create)
    with ui.column().classes("w-full max-w-3xl mx-auto px-4 py-6 gap-4"):
        with ui.row().classes("w-full items-center"):
            with ui.column().classes("gap-0"):
                ui.label("Rooms").classes("text-2xl font-bold")
                ui.label("Pick a room and start talking — no sign-up needed.").classes("text-slate-500")
            ui.space()
            ui.button("New room", icon="add", on_click=dialog.open).props(
                "unelevated no-caps rounded data-testid=create-room-button"
            ).mark("create-room-button")
        cards = RoomCards(reload=lambda: context.db.run(rooms.list_rooms))
    await context.feeds.subscribe(ROOMS_CHANNEL, cards.apply)  # subscribe first, then load: nothing falls between
    cards.show(await context.db.run(rooms.list_rooms))


class RoomCards:
    """Every public room, most recent activity first, kept current by the room list's events.
    A few cards that change rarely (activity is throttled): re-rendered whole, which is cheaper than
    bookkeeping."""

    def __init__(self, *, reload: Callable[[], Awaitable[list[RoomState]]]) -> None:
        self._reload = reload
        self._known: dict[int, RoomPublic] = {}
        self._column = ui.column().classes("w-full gap-3").props("data-testid=room-list").mark("room-list")

    def show(self, listed: list[RoomState]) -> None:
        for room in listed:
            self._known.setdefault(room.id, room)  # an event that arrived during the load is newer
        self._render()

    async def apply(self, event: RoomEvent) -> None:
        known = self._known
        if isinstance(event, RoomCreated | RoomUpdated):
            known[event.room.id] = event.room
        elif isinstance(event, RoomActivity):
            room = next((room for room in known.values() if room.slug == event.room), None)
            if room is None:
                return
            known[room.id] = room.model_copy(update={"last_message_at": event.last_message_at})
        elif isinstance(event, RoomDeleted):
            for room_id in [room_id for room_id, room in known.items() if room.slug == event.room]:
                del known[room_id]
        elif isinstance(event, Resync):  # the bus had a gap: start again from the database
            known.clear()
            self.show(await self._reload())
            return
        self._render()

    def _render(self) -> None:
        self._column.clear()
        with self._column:
            if not self._known:
                with ui.card().classes("w-full items-center py-10 text-slate-500"):
                    ui.icon("forum", size="48px").classes("text-slate-300")
                    ui.label("No rooms yet. Create the first one!")
            for room in sorted(self._known.values(), key=_activity, reverse=True):
                _room_card(room)


def _room_card(room: RoomPublic) -> None:
    with (
        ui.link(target=f"/rooms/{room.slug}").classes("w-full no-underline text-inherit"),
        ui.card()
        .props("flat bordered data-testid=room-item")
        .mark("room-item")
        .classes("w-full cursor-pointer hover:shadow-md transition-shadow"),
        ui.row().classes("w-full items-center no-wrap gap-4"),
    ):
        with ui.avatar(color="primary", text_color="white", size="44px", rounded=True):
            ui.label(room.name[:1].upper())
        with ui.column().classes("gap-0 min-w-0 flex-1"):
            ui.label(room.name).classes("text-base font-semibold truncate w-full").props("data-testid=room-name").mark(
                "room-name"
            )
            if room.description:
                ui.label(room.description).classes("text-sm text-slate-500 truncate w-full")
        with ui.column().classes("items-end gap-0 text-xs text-slate-500 shrink-0"):
            members = "member" if room.member_count == 1 else "members"
            ui.label(f"{room.member_count} {members}")
            ui.label(_when(room.last_message_at) if room.last_message_at else "no messages yet")


class CreateRoomDialog:
    """Name and description; `on_create(name, description)` creates the room, and a refusal
    (a taken or invalid name) shows on the name field."""

    def __init__(self, *, on_create: Callable[[str, str], Awaitable[None]]) -> None:
        self._on_create = on_create
        with ui.dialog() as self._dialog, ui.card().classes("w-[28rem] max-w-full gap-3"):
            ui.label("Create a room").classes("text-lg font-semibold")
            self._name = (
                ui.input("Name", validation=problem_of(rooms.validate_room_name))
                .props(f"outlined autofocus maxlength={ROOM_NAME_MAX + 10} data-testid=room-name-input")
                .mark("room-name-input")
                .classes("w-full")
                .on("keydown.enter", self._submit)
            )
            self._description = (
                ui.textarea("Description (optional)")
                .props(f"outlined autogrow maxlength={ROOM_DESCRIPTION_MAX} data-testid=room-description-input")
                .mark("room-description-input")
                .classes("w-full")
            )
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=self._dialog.close).props("flat no-caps")
                ui.button("Create", on_click=self._submit).props(
                    "unelevated no-caps data-testid=create-room-submit"
                ).mark("create-room-submit")

    def open(self) -> None:
        self._dialog.open()

    async def _submit(self) -> None:
        self._name.error = None
        if not self._name.validate():
            return
        try:
            await self._on_create(self._name.value or "", self._description.value or "")
        except (Conflict, InvalidInput) as error:
            self._name.error = sentence(error.detail)
            return
        self._dialog.close()


def _activity(room: RoomPublic) -> datetime:
    return room.last_message_at or room.created_at


def _when(moment: datetime) -> str:
    seconds = (datetime.now(moment.tzinfo) - moment).total_seconds()
    if seconds < 60:
        return "active just now"
    if seconds < 3600:
        return f"active {int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"active {int(seconds // 3600)} h ago"
    return f"active {int(seconds // 86400)} d ago"

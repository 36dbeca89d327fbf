"""`/rooms/{slug}`: a room's messages, live, with the composer."""

import asyncio
import logging
from collections.abc import Awaitable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nicegui import background_tasks, ui
from nicegui import context as ui_context

from chat_ui.composer import Composer
from chat_ui.forms import sentence
from chat_ui.message_list import MessageList
from chat_ui.page_frame import PageFrame
from models.message import MessagePage
from models.room import RoomPublic
from services import messages, rooms
from services.database import DATABASE_DOWN
from services.errors import NotFound, ServiceError
from services.events import MessageCreated, MessageDeleted, Resync, RoomDeleted, RoomEvent, room_channel

log = logging.getLogger(__name__)
RETRY_SECONDS = 2.0


async def room_page(frame: PageFrame, slug: str) -> None:
    context = frame.context
    try:
        room = await context.db.run(rooms.get_room, slug=slug)
    except NotFound:
        _not_found(slug)
        return
    ui.page_title(room.name)
    ui.query(".nicegui-content").classes("p-0 h-[calc(100dvh-var(--chat-header,52px))] flex-nowrap gap-0")

    with ui.column().classes("chat-surface w-full max-w-4xl mx-auto h-full gap-0 no-wrap shadow-sm"):
        _room_bar(room, on_leave=lambda: leave())
        image_dialog, full_image = _image_dialog()

        def show_image(url: str) -> None:
            full_image.set_source(url)
            image_dialog.open()

        async def load(before: int | None, after: int | None) -> MessagePage:
            return await context.db.run(messages.page_messages, room_slug=slug, before=before, after=after)

        message_list = MessageList(load=load, on_image_click=show_image, room_name=room.name)

        async def send(text: str) -> bool:
            return await _attempt(
                "The message",
                messages.send_text(
                    db=context.db,
                    bus=context.bus,
                    room_slug=slug,
                    author_id=frame.guest.id,
                    text=text,
                    limiter=context.app.limiter,
                ),
            )  # when it works, the message appears through the bus, like everyone else's

        async def send_image(name: str, data: bytes) -> bool:
            notice = ui.notification(f"Sending {name}…", spinner=True, timeout=None)
            try:
                return await _attempt(
                    name,
                    messages.send_image(
                        db=context.db,
                        bus=context.bus,
                        media=context.app.media,
                        room_slug=slug,
                        author_id=frame.guest.id,
                        data=data,
                        max_bytes=context.app.settings.max_upload_bytes,
                        limiter=context.app.limiter,
                    ),
                    name_the_refusal=True,
                )
            finally:
                notice.dismiss()

        composer = Composer(on_send=send, on_image=send_image, max_upload_bytes=context.app.settings.max_upload_bytes)

    async def leave() -> None:
        await rooms.leave(db=context.db, bus=context.bus, slug=slug, guest_id=frame.guest.id)
        ui.navigate.to("/")

    # Subscribe first, then load history; events that arrive meanwhile wait, and duplicates are dropped.
    ready = False
    waiting: list[RoomEvent] = []

    # Synchronous on purpose: an async callback would cost a task per viewer per message.
    def on_event(event: RoomEvent) -> None:
        if not ready:
            waiting.append(event)
            return
        apply(event)

    def apply(event: RoomEvent) -> None:
        if isinstance(event, MessageCreated):
            message_list.add(event.message, own=event.message.author.id == frame.guest.id)
        elif isinstance(event, MessageDeleted):
            message_list.remove(event.message_id)
        elif isinstance(event, Resync):
            background_tasks.create(catch_up(), name="catch up after a bus gap", context=message_list.container)
        elif isinstance(event, RoomDeleted):
            ui.notify(f"{room.name} was deleted by a moderator", type="warning")
            ui.navigate.to("/")

    async def catch_up() -> None:
        """After a gap in the bus or the socket, fetch what was missed from the database."""
        await message_list.catch_up()

    await context.feeds.subscribe(room_channel(slug), on_event)
    client = ui_context.client
    await client.connected(timeout=15)
    message_list.timezone = await _browser_timezone()
    message_list.show_page(await _first_page(load))
    ready = True
    for event in waiting:
        apply(event)
    composer.focus()
    # A socket that dropped and came back may have missed events: NiceGUI replays what it queued,
    # and this closes any remaining gap from the database.
    client.on_connect(catch_up)


async def _attempt(what: str, sending: Awaitable[object], *, name_the_refusal: bool = False) -> bool:
    """Send; if it is refused or fails, say why in a notice and return False (the composer keeps
    what the user typed)."""
    try:
        await sending
    except ServiceError as error:
        ui.notify(f"{what}: {error.detail}" if name_the_refusal else sentence(error.detail), type="negative")
    except DATABASE_DOWN as error:
        log.warning("%s could not be saved: %s", what, str(error).splitlines()[0])
        ui.notify(f"{what} could not be sent: the server cannot reach its database.", type="negative")
    except Exception:
        log.exception("sending failed")
        ui.notify(f"{what} could not be sent. Please try again.", type="negative")
    else:
        return True
    return False


async def _first_page(load) -> MessagePage:  # type: ignore[no-untyped-def]
    """The newest messages; while the database is unreachable, say so and keep trying."""
    notice = None
    while True:
        try:
            page = await load(None, None)
        except DATABASE_DOWN as error:
            log.warning("cannot load a room's history: %s", str(error).splitlines()[0])
            if notice is None:
                notice = ui.notification(
                    "Cannot reach the database; retrying…", type="warning", spinner=True, timeout=None
                )
            await asyncio.sleep(RETRY_SECONDS)
            continue
        if notice is not None:
            notice.dismiss()
        return page


def _room_bar(room: RoomPublic, *, on_leave) -> None:  # type: ignore[no-untyped-def]
    with ui.row().classes("chat-border-bottom w-full items-center no-wrap gap-3 px-4 py-2"):
        ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to("/")).props(
            "flat round dense aria-label='All rooms'"
        )
        with ui.column().classes("gap-0 min-w-0 flex-1"):
            ui.label(room.name).classes("text-lg font-semibold truncate w-full").props("data-testid=room-title").mark(
                "room-title"
            )
            if room.description:
                ui.label(room.description).classes("text-xs text-slate-500 truncate w-full")
        ui.button("Leave", icon="logout", on_click=on_leave).props(
            "flat no-caps dense data-testid=leave-room-button"
        ).mark("leave-room-button").classes("text-slate-500")


def _image_dialog() -> tuple[ui.dialog, ui.image]:
    with ui.dialog().props("maximized=false") as dialog, ui.card().classes("p-0 max-w-[95vw] bg-black"):
        image = ui.image("").props("fit=contain").classes("w-[90vw] max-w-[1200px] h-[80vh]")
        ui.button(icon="close", on_click=dialog.close).props("flat round color=white").classes("absolute top-2 right-2")
    return dialog, image


async def _browser_timezone() -> ZoneInfo:
    """Times are shown in the reader's own zone; UTC if the browser does not say."""
    try:
        name = await ui.run_javascript("return Intl.DateTimeFormat().resolvedOptions().timeZone", timeout=3)
        return ZoneInfo(str(name))
    except (TimeoutError, ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _not_found(slug: str) -> None:
    ui.page_title("Room not found")
    with ui.column().classes("w-full items-center py-24 gap-3 text-center"):
        ui.icon("travel_explore", size="64px").classes("text-slate-300")
        ui.label("This room does not exist").classes("text-2xl font-semibold").props("data-testid=not-found").mark(
            "not-found"
        )
        ui.label(f"There is no room called “{slug}”. It may have been deleted, or the link is mistyped.").classes(
            "text-slate-500 max-w-md"
        )
        ui.button("Back to all rooms", icon="arrow_back", on_click=lambda: ui.navigate.to("/")).props(
            "unelevated no-caps rounded"
        )

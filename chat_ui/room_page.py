"""`/rooms/{slug}`: a room's messages, live, with the composer."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nicegui import background_tasks, ui
from nicegui import context as ui_context

from chat_ui.composer import Composer
from chat_ui.forms import confirm, sentence
from chat_ui.message_list import MessageList, RowModeration
from chat_ui.page_frame import PageFrame
from models.message import MessagePage
from models.room import RoomState
from services import guests, messages, moderation, rooms
from services.database import DATABASE_DOWN
from services.errors import NotFound, ServiceError
from services.events import (
    GuestRemoved,
    MessageCreated,
    MessageDeleted,
    Resync,
    RoomDeleted,
    RoomEvent,
    RoomUpdated,
    room_channel,
)

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

    me = frame.guest.id
    is_owner = room.owner_id == me

    with ui.column().classes("chat-surface w-full max-w-4xl mx-auto h-full gap-0 no-wrap shadow-sm"):
        bar = RoomBar(room, owner=is_owner, on_leave=lambda: leave(), on_lock=lambda locked: lock(locked))
        image_dialog, full_image = _image_dialog()

        def show_image(url: str) -> None:
            full_image.set_source(url)
            image_dialog.open()

        async def load(before: int | None, after: int | None) -> MessagePage:
            return await context.db.run_read(messages.page_messages, room_slug=slug, before=before, after=after)

        async def delete_message(message_id: int) -> None:
            if await confirm("Delete this message?", "It disappears for everyone.", "Delete", testid="confirm-delete"):
                await _attempt(
                    "The message",
                    moderation.remove_message(db=context.db, bus=context.bus, message_id=message_id, by=me),
                    failed="could not be deleted",
                )

        async def remove_author(guest_id: int) -> None:
            try:
                author = await context.db.run(guests.get_guest, guest_id=guest_id)
            except (ServiceError, *DATABASE_DOWN):
                ui.notify("That guest cannot be found right now. Please try again.", type="negative")
                return
            if await confirm(
                f"Remove {author.display_name} from {room.name}?",
                "They can still read this room, but not post in it or join it again.",
                "Remove",
                testid="confirm-remove",
            ):
                removing = moderation.remove_from_room(
                    db=context.db, bus=context.bus, slug=slug, guest_id=guest_id, by=me
                )
                if await _attempt(author.display_name, removing, failed="could not be removed"):
                    ui.notify(f"{author.display_name} was removed from {room.name}.", type="positive")

        row_moderation = RowModeration(
            may_delete=lambda message: is_owner or message.author.id == me,
            may_remove=lambda message: is_owner and message.author.id != me,
            delete=delete_message,
            remove_author=remove_author,
        )
        message_list = MessageList(load=load, on_image_click=show_image, room_name=room.name, moderation=row_moderation)

        async def send(text: str) -> bool:
            return await _attempt(
                "The message",
                messages.send_text(
                    db=context.db,
                    bus=context.bus,
                    room_slug=slug,
                    author_id=me,
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
                        author_id=me,
                        data=data,
                        max_bytes=context.app.settings.max_upload_bytes,
                        limiter=context.app.limiter,
                    ),
                    name_the_refusal=True,
                )
            finally:
                notice.dismiss()

        composer = Composer(on_send=send, on_image=send_image, max_upload_bytes=context.app.settings.max_upload_bytes)
        composer.set_locked(room.locked)

    async def lock(locked: bool) -> None:
        # Every view, this one included, shows the change when the room.updated event arrives.
        await _attempt(
            "The room",
            moderation.lock(db=context.db, bus=context.bus, slug=slug, locked=locked, by=me),
            failed="could not be locked" if locked else "could not be unlocked",
        )

    def show_room(updated: RoomState) -> None:
        nonlocal room  # later notices and questions use the room's current name
        room = updated
        bar.show(updated)
        composer.set_locked(updated.locked)
        ui.page_title(updated.name)

    async def leave() -> None:
        await rooms.leave(db=context.db, bus=context.bus, slug=slug, guest_id=me)
        ui.navigate.to("/")

    # Subscribe first, then load history; events that arrive meanwhile wait, and duplicates are dropped.
    ready = False
    room_updates = 0  # room.updated events applied, so that a slower reload never undoes one
    waiting: list[RoomEvent] = []

    # Synchronous on purpose: an async callback would cost a task per viewer per message.
    def on_event(event: RoomEvent) -> None:
        if not ready:
            waiting.append(event)
            return
        apply(event)

    def apply(event: RoomEvent) -> None:
        if isinstance(event, MessageCreated):
            message_list.add(event.message, own=event.message.author.id == me)
        elif isinstance(event, MessageDeleted):
            message_list.remove(event.message_id)
        elif isinstance(event, Resync):
            background_tasks.create(catch_up(), name="catch up after a bus gap", context=message_list.container)
        elif isinstance(event, RoomUpdated):
            nonlocal room_updates
            room_updates += 1
            show_room(event.room)
        elif isinstance(event, GuestRemoved) and event.guest_id == me:
            frame.leave_with_notice(f"You were removed from {room.name} by a moderator.")
        elif isinstance(event, RoomDeleted):
            frame.leave_with_notice(f"{room.name} was deleted by a moderator.")

    async def catch_up() -> None:
        """After a gap in the bus or the socket, fetch what was missed from the database: the
        messages, and the room itself (renamed or locked meanwhile; deleted: back to the list)."""
        updates_before = room_updates
        try:
            current = await context.db.run(rooms.get_room, slug=slug)
            if room_updates == updates_before:  # else a newer room.updated arrived during the read
                show_room(current)
        except NotFound:
            frame.leave_with_notice(f"{room.name} was deleted by a moderator.")
            return
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


async def _attempt(
    what: str, sending: Awaitable[object], *, name_the_refusal: bool = False, failed: str = "could not be sent"
) -> bool:
    """Send (or moderate); if it is refused or fails, say why in a notice and return False (the
    composer keeps what the user typed)."""
    try:
        await sending
    except ServiceError as error:
        ui.notify(f"{what}: {error.detail}" if name_the_refusal else sentence(error.detail), type="negative")
    except DATABASE_DOWN as error:
        log.warning("%s could not be saved: %s", what, str(error).splitlines()[0])
        ui.notify(f"{what} {failed}: the server cannot reach its database.", type="negative")
    except Exception:
        log.exception("%s %s", what, failed)
        ui.notify(f"{what} {failed}. Please try again.", type="negative")
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


class RoomBar:
    """The room's name and description, Leave, and for its owner a Lock / Unlock button."""

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

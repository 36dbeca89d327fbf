"""`/rooms/{slug}`: a room's messages, live, with the composer. Wiring only: data goes down into
the parts (header, message list, composer), intents come up to RoomActions, which calls the
services, and LiveRoom applies every change that arrives on the room's feed."""

from dataclasses import replace

from nicegui import ui

from chat_ui.my_rooms import MyRooms
from chat_ui.page_frame import PageFrame
from chat_ui.room.actions import RoomActions
from chat_ui.room.composer import Composer
from chat_ui.room.export_button import ExportButton
from chat_ui.room.header import RoomHeader
from chat_ui.room.invite_button import InviteButton
from chat_ui.room.live import LiveRoom
from chat_ui.room.message_list import MessageList
from chat_ui.room.message_menu import MessageMenu
from chat_ui.room.presence_panel import track_presence
from chat_ui.room.reaction_picker import ReactionPicker
from chat_ui.room.sidebar import RoomSidebar
from chat_ui.room.typing_indicator import TypingIndicator
from models.base import ID_MAX
from models.room import RoomState
from services import reactions, rooms, unread
from services.errors import NotFound


async def room_page(frame: PageFrame, slug: str, *, message: str | None = None) -> None:
    """The room; with `message` (?message=ID, a search result's link), opened at that message."""
    try:
        # One trip: the room, or NotFound alike for a missing one and a private one not for us.
        room = await frame.context.db.run_read(rooms.get_readable_room, slug=slug, reader_id=frame.guest.id)
    except NotFound:
        _not_found(slug)
        return
    ui.page_title(room.name)
    ui.query(".nicegui-content").classes("p-0 h-[calc(100dvh-var(--chat-header,52px))] flex-nowrap gap-0")
    actions = RoomActions(frame, room)
    # The visitor's rooms beside the room at desktop widths; their unread counts in the title.
    ui.query(".nicegui-content").style("flex-direction: row")
    my_rooms = MyRooms(frame, title=room.name, current=room.slug)
    RoomSidebar(my_rooms, current=room.slug)
    with ui.column().classes("chat-surface w-full max-w-4xl mx-auto h-full gap-0 no-wrap shadow-sm"):
        header = RoomHeader(
            room,
            owner=actions.is_owner,
            app_header=frame.header,
            on_leave=actions.leave,
            on_lock=actions.set_locked,
            extras=(InviteButton(frame, room).build, ExportButton(frame, room).build),
        )
        row_actions = actions.row_actions()
        # Touch screens' "⋯" menu of a row, made when first opened; it acts on the list's current copy.
        menu = MessageMenu(
            row_actions,
            current=lambda message_id: messages.message(message_id),
            quick=reactions.COMMON_REACTIONS[:6],
        )
        row_actions = replace(row_actions, menu=menu.open)
        messages = MessageList(
            load=actions.load_page, load_around=actions.load_around, room_name=room.name, actions=row_actions
        )
        typing = TypingIndicator(me=actions.me)
        composer = _composer(frame, room, actions)
    live = LiveRoom(frame, actions, header=header, messages=messages, composer=composer, typing=typing)
    # The unread divider where the visitor stopped reading; reading to the bottom marks read.
    live.unread_after = await frame.context.db.run_read(
        unread.read_position, room_slug=room.slug, guest_id=frame.guest.id
    )
    live.on_title = my_rooms.set_title
    messages.on_read = my_rooms.read
    # Once the reader moves on from a linked message, a reload opens the room as usual.
    messages.on_unmarked = lambda: ui.navigate.history.replace(f"/rooms/{room.slug}")
    await live.open(at_message=linked_message(message))
    await track_presence(frame, room.slug, header.presence)  # who has the room open
    await my_rooms.open()


def linked_message(raw: str | None) -> int | None:
    """`?message=` as a message id; anything else (not a whole number, 0, beyond the ids a
    database holds) is no link, and the room opens as usual."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(ID_MAX)):
        return None  # a long string of digits names no id either (and int() would refuse one of 5000)
    number = int(raw)
    return number if 1 <= number <= ID_MAX else None


def _composer(frame: PageFrame, room: RoomState, actions: RoomActions) -> Composer:
    """The composer, and the reaction picker; both answer intents from the rows too (edit, reply,
    react), so the actions hold them."""
    composer = Composer(
        me=actions.me,
        on_send=actions.send_text,
        on_image=actions.send_image,
        on_edit=actions.edit_message,
        on_edit_last=actions.edit_last,
        on_typing=actions.announce_typing,
        max_upload_bytes=frame.context.app.settings.max_upload_bytes,
    )
    composer.set_locked(room.locked)
    actions.composer = composer
    actions.picker = ReactionPicker(emoji=reactions.COMMON_REACTIONS, on_pick=actions.add_reaction)
    return composer


def _not_found(slug: str) -> None:
    ui.page_title("Room not found")
    with ui.column().classes("w-full items-center py-24 gap-3 text-center"):
        ui.icon("travel_explore", size="64px").classes("chat-faint")
        ui.label("This room does not exist").classes("text-2xl font-semibold").props("data-testid=not-found").mark(
            "not-found"
        )
        ui.label(f"There is no room called “{slug}”. It may have been deleted, or the link is mistyped.").classes(
            "chat-muted max-w-md"
        )
        ui.button("Back to all rooms", icon="arrow_back", on_click=lambda: ui.navigate.to("/")).props(
            "unelevated no-caps rounded"
        )

"""An open room page in step with the room: every change reaches it through the room's feed.

It subscribes before the history loads and holds what arrives meanwhile, then applies each
event to the page's parts; duplicates are dropped by id, so nothing falls between and nothing
shows twice. After a gap (a socket that came back, a bus that reconnected) it reloads what may
have been missed from the database.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from nicegui import background_tasks, ui
from nicegui import context as ui_context

from chat_ui.notices import notify
from chat_ui.page_frame import PageFrame
from chat_ui.room.actions import RoomActions, gone_words
from chat_ui.room.composer import Composer
from chat_ui.room.header import RoomHeader
from chat_ui.room.message_list import MessageList
from chat_ui.room.typing_indicator import TypingIndicator
from chat_ui.timezone import browser_timezone
from models.message import MessagePage
from models.room import RoomState
from services import rooms
from services.database import DATABASE_DOWN
from services.errors import NotFound
from services.events import (
    GuestRemoved,
    GuestRenamed,
    MemberLeft,
    MessageCreated,
    MessageDeleted,
    MessageUpdated,
    PresenceChanged,
    Resync,
    RoomDeleted,
    RoomEvent,
    RoomUpdated,
    TypingStarted,
    room_channel,
)

log = logging.getLogger(__name__)
RETRY_SECONDS = 2.0


class LiveRoom:
    def __init__(
        self,
        frame: PageFrame,
        actions: RoomActions,
        *,
        header: RoomHeader,
        messages: MessageList,
        composer: Composer,
        typing: TypingIndicator,
    ) -> None:
        self._frame, self._actions = frame, actions
        self._header, self._messages, self._composer, self._typing = header, messages, composer, typing
        self._waiting: list[RoomEvent] | None = []  # None once the history is shown
        self._room_updates = 0  # room.updated events applied, so that a slower reload never undoes one
        self.unread_after: int | None = None  # the reader's last read message, for the unread divider
        self.on_title: Callable[[str], None] | None = None  # re-adds the unread "(N) " prefix

    async def open(self, *, at_message: int | None = None) -> None:
        """Subscribe, load the newest messages (or those around `at_message`, a link to one), then
        apply what arrived meanwhile."""
        slug = self._actions.room.slug
        await self._frame.context.feeds.subscribe(room_channel(slug), self._receive)
        client = ui_context.client
        await client.connected(timeout=15)
        self._messages.timezone = await browser_timezone()
        self._messages.reader_id = self._actions.me
        await self.load_members()  # before the rows: they highlight the members' names
        await self._show_history(at_message)
        waiting, self._waiting = self._waiting or [], None
        for event in waiting:
            self._apply(event)
        self._composer.focus()
        # A socket that dropped and came back may have missed events: NiceGUI replays what it
        # queued, and this closes any remaining gap from the database.
        client.on_connect(self.catch_up)

    async def _show_history(self, at_message: int | None) -> None:
        """The window around `at_message`, that message in view and marked; else (none asked for,
        or it is gone: said so) the newest messages, where the room opens as usual."""
        window = None
        if at_message is not None:
            try:
                window = await self._actions.load_around(at_message)
            except DATABASE_DOWN as error:  # the newest page says the database is away, and keeps trying
                log.warning("cannot load the messages around %d: %s", at_message, str(error).splitlines()[0])
            else:
                if window is None:
                    notify("That message is no longer there.", type="warning")
        if window is not None and at_message is not None:
            self._messages.show_around(window, at_message, unread_after=self.unread_after)
        else:
            self._messages.show_page(await first_page(self._actions.load_page), unread_after=self.unread_after)

    def _receive(self, event: RoomEvent) -> None:
        # Synchronous on purpose: an async callback would cost a task per viewer per message.
        if self._waiting is not None:
            self._waiting.append(event)
        else:
            self._apply(event)

    def _apply(self, event: RoomEvent) -> None:
        me, room = self._actions.me, self._actions.room
        if isinstance(event, MessageCreated):
            self._typing.stop(event.message.author.id)  # what they were typing has arrived
            self._actions.note_message(event.message)
            self._messages.add(event.message, own=event.message.author.id == me)
        elif isinstance(event, MessageUpdated):
            self._messages.update(event.message)
        elif isinstance(event, TypingStarted):
            self._typing.show(event.guest)
        elif isinstance(event, GuestRenamed):
            self._messages.set_names({event.guest.id: event.guest.display_name})
        elif isinstance(event, MessageDeleted):
            self._actions.note_deleted(event.message_id)
            self._composer.message_gone(event.message_id)
            self._messages.remove(event.message_id)
        elif isinstance(event, PresenceChanged):
            self._header.presence.show(event.online)
        elif isinstance(event, RoomUpdated):
            self._room_updates += 1
            if event.room.member_count != room.member_count:  # someone joined or left: new @ suggestions
                background_tasks.create(self.load_members(), name="load members", context=self._messages.container)
            self._show_room(event.room)
        elif isinstance(event, Resync):
            background_tasks.create(self.catch_up(), name="catch up after a bus gap", context=self._messages.container)
        elif isinstance(event, GuestRemoved) and event.guest_id == me:
            self._frame.leave_with_notice(f"You were removed from {room.name} by a moderator.")
        elif isinstance(event, MemberLeft) and event.guest_id == me and not self._actions.leaving:
            self._frame.leave_with_notice(f"You left {room.name}.", type="info")  # in another page, or the API
        elif isinstance(event, RoomDeleted):
            self._frame.leave_with_notice(f"{room.name} was deleted by a moderator.")

    async def catch_up(self) -> None:
        """Fetch what was missed from the database: the messages, and the room itself (renamed or
        locked meanwhile; deleted, or a private room the reader left meanwhile: back to the list)."""
        updates_before, room = self._room_updates, self._actions.room
        try:  # as cheap as get_room for a public room: its readability needs no query
            current = await self._frame.context.db.run_read(
                rooms.get_readable_room, slug=room.slug, reader_id=self._actions.me
            )
        except NotFound:
            self._frame.leave_with_notice(
                gone_words(room.name) if room.is_private else f"{room.name} was deleted by a moderator."
            )
            return
        if self._room_updates == updates_before:  # else a newer room.updated arrived during the read
            self._show_room(current)
        await self._messages.catch_up()

    async def load_members(self) -> None:
        """The room's members: the composer suggests them after @, the rows highlight their names."""
        members = await self._actions.room_members()
        self._composer.set_members(members)
        self._messages.set_names(members)

    def _show_room(self, room: RoomState) -> None:
        self._actions.room = room
        self._header.show(room)
        self._messages.set_room_name(room.name)
        self._composer.set_locked(room.locked)
        ui.page_title(room.name)
        if self.on_title is not None:
            self.on_title(room.name)


async def first_page(load: Callable[[int | None, int | None], Awaitable[MessagePage]]) -> MessagePage:
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

"""The visitor's rooms and their unread counts, live for one page: what the room sidebar, the room
list's badges and the title's `(N) ` show, and the notice when someone mentions the visitor in
another of their rooms.

It listens on each of those rooms' channels (the process's feeds: one bus subscription per channel,
so a page costs one synchronous callback per message in its rooms) and on the guest's own channel,
where ReadMarked says what any of their pages, or the API, has marked read. A message from someone
else adds one; the room this page shows counts what arrived after what its reader has seen at the
bottom. Anything a count cannot follow by itself (a deletion, a join or leave, a bus gap) reloads
the list from the database, once, a moment later.

Display work is coalesced: several events in one tick cost one update of the badges and title.
"""

import asyncio
import logging
from collections.abc import Callable

from nicegui import background_tasks, ui
from nicegui import context as ui_context

from chat_ui.page_frame import PageFrame
from models.message import MessagePublic
from models.room import RoomState
from services import unread
from services.database import DATABASE_DOWN
from services.events import (
    GuestRemoved,
    MessageCreated,
    MessageDeleted,
    ReadMarked,
    Resync,
    RoomDeleted,
    RoomEvent,
    RoomUpdated,
    guest_channel,
    room_channel,
)

log = logging.getLogger(__name__)
RELOAD_DELAY = 1.0  # seconds: a burst of deletions or joins costs one reload, not one each
MENTION_SHOWN_SECONDS = 15.0
MENTIONS_SHOWN_MAX = 3
SNIPPET_MAX = 80


class MyRooms:
    """The visitor's rooms (most recent activity first) with `unread(slug)`, kept current.
    Components register with `on_change(callback)` and read `rooms` and `unread` when called."""

    def __init__(self, frame: PageFrame, *, title: str, current: str | None = None) -> None:
        self._frame, self._me, self._current = frame, frame.guest.id, current
        self._client = ui_context.client
        self._title = title
        self.rooms: list[RoomState] = []
        self._unread: dict[str, int] = {}
        self._loaded = False  # the rooms have been read once: membership is known
        self._listening: set[str] = set()
        self._listeners: list[Callable[[], None]] = []
        self._shown_title: str | None = None
        self._refresh_queued = False
        self._reload: asyncio.Task[None] | None = None
        # The room this page shows: the newest id its reader has seen at the bottom, and the ids
        # of others' messages that arrived while the page was open.
        self._read_here = 0
        self._arrived_here: list[int] = []
        # Fixed, so that a notice floats over whatever layout the page has.
        self._notices = ui.element("div").classes("fixed bottom-24 right-4 z-[5000] flex flex-col items-end gap-2")

    # What pages call

    async def open(self) -> None:
        """Listen, then load: the guest's channel first, so no read mark falls between."""
        await self._frame.context.feeds.subscribe(guest_channel(self._me), self._on_guest_event)
        if self._current is not None:  # joining it (by posting) shows as room.updated there
            await self._listen(self._current)
        await self._load()

    def on_change(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def unread(self, slug: str) -> int:
        return self._unread.get(slug, 0)

    @property
    def total(self) -> int:
        return sum(self._unread.values())

    def is_member(self, slug: str) -> bool:
        return slug in self._unread

    def set_title(self, title: str) -> None:
        """The page's own title (the room renamed): the unread prefix goes before it."""
        self._title = title
        self._shown_title = None
        self._refresh()

    def read(self, message_id: int) -> None:
        """The reader has seen the current room up to `message_id` at the bottom of its history
        (MessageList.on_read): written with the next batch of read marks, shown at once."""
        if self._current is None or message_id <= self._read_here:
            return
        if not self._client.has_socket_connection:  # a page left behind (reconnect grace) reads nothing
            return
        if self._loaded and not self.is_member(self._current):  # a visitor who has not joined: no position
            return
        self._read_here = message_id
        # Noted even before the rooms are loaded (the history shows first); a non-member's mark is
        # then dropped when the batch is written, without a query of its own.
        self._frame.context.app.read_marks.note(self._me, self._current, message_id)
        if not self.is_member(self._current):
            return
        self._arrived_here = [i for i in self._arrived_here if i > message_id]
        self._unread[self._current] = len(self._arrived_here)
        self._changed()

    # What arrives

    def _on_guest_event(self, event: RoomEvent) -> None:
        if isinstance(event, ReadMarked):
            if event.room not in self._unread:  # a room joined in another tab or through the API
                self._reload_soon()
                return
            unread = event.unread
            if event.room == self._current:  # what arrived after the mark is still unread
                self._arrived_here = [i for i in self._arrived_here if i > event.last_read_id]
                unread = min(unread, len(self._arrived_here)) if self._read_here else unread
            self._set_unread(event.room, unread)
        elif isinstance(event, Resync):
            self._reload_soon()

    def _on_room_event(self, event: RoomEvent) -> None:
        # Synchronous and cheap: every page of every member runs this for every message.
        if isinstance(event, MessageCreated):
            self._on_message(event.message)
        elif isinstance(event, MessageDeleted):
            if self._unread.get(event.room):  # only an unread message's deletion changes a count
                self._reload_soon()
        elif isinstance(event, RoomUpdated):
            self._on_room_updated(event.room)
        elif isinstance(event, RoomDeleted):
            self._forget(event.room)
        elif isinstance(event, Resync) or (isinstance(event, GuestRemoved) and event.guest_id == self._me):
            self._reload_soon()

    def _on_message(self, message: MessagePublic) -> None:
        slug = message.room
        if message.author.id == self._me and slug not in self._unread and self._loaded:
            self._unread[slug] = 0  # posting joined them: a member from now on (the reload brings the room)
            self._reload_soon()
        if slug not in self._unread or message.author.id == self._me:
            return  # the author's own read position moves to their message
        if slug == self._current:
            if message.id <= self._read_here:  # the list reported it read before this callback ran
                return
            self._arrived_here.append(message.id)
        elif self._me in message.mentions:
            self._show_mention(message)
        self._set_unread(slug, self._unread[slug] + 1)

    def _on_room_updated(self, room: RoomState) -> None:
        """Renamed: shown at once. Joined or left (by anyone; the event does not say who): reload."""
        self.rooms = [room.model_copy(update={"unread": r.unread}) if r.slug == room.slug else r for r in self.rooms]
        self._changed()
        self._reload_soon()

    def _forget(self, slug: str) -> None:
        self.rooms = [room for room in self.rooms if room.slug != slug]
        self._unread.pop(slug, None)
        self._changed()

    def _set_unread(self, slug: str, count: int) -> None:
        if self._unread.get(slug) != count:
            self._unread[slug] = count
            self._changed()

    # Loading

    def _reload_soon(self) -> None:
        if self._reload is None or self._reload.done():
            self._reload = background_tasks.create(self._reload_later(), name="reload my rooms", context=self._notices)

    async def _reload_later(self) -> None:
        await asyncio.sleep(RELOAD_DELAY)
        await self._load()

    async def _load(self) -> None:
        try:
            rooms = await self._frame.context.db.run_read(unread.my_rooms, guest_id=self._me)
        except DATABASE_DOWN as error:
            log.warning("cannot load a visitor's rooms: %s", str(error).splitlines()[0])
            return
        self.rooms = rooms
        self._loaded = True
        self._unread = {room.slug: room.unread or 0 for room in rooms}
        if self._current in self._unread and self._read_here:  # marks of this page not written yet
            here = len([i for i in self._arrived_here if i > self._read_here])
            self._unread[self._current] = min(self._unread[self._current], here)
        self._changed()
        for room in rooms:
            await self._listen(room.slug)

    async def _listen(self, slug: str) -> None:
        if slug not in self._listening:
            self._listening.add(slug)  # feeds end with the page: a room left stays heard, and ignored
            await self._frame.context.feeds.subscribe(room_channel(slug), self._on_room_event)

    # Display

    def _changed(self) -> None:
        """Coalesce: the listeners and the title run once after this tick's events."""
        if not self._refresh_queued:
            self._refresh_queued = True
            asyncio.get_running_loop().call_soon(self._refresh)

    def _refresh(self) -> None:
        self._refresh_queued = False
        if self._notices.is_deleted:
            return
        with self._notices:  # the page's context, for the title
            for listener in self._listeners:
                listener()
            total = self.total
            title = f"({total}) {self._title}" if total else self._title
            if title != self._shown_title:
                self._shown_title = title
                ui.page_title(title)

    def _show_mention(self, message: MessagePublic) -> None:
        room = next((room for room in self.rooms if room.slug == message.room), None)
        if room is None or self._notices.is_deleted:
            return
        for old in list(self._notices.default_slot.children)[: -MENTIONS_SHOWN_MAX + 1]:
            old.delete()
        with self._notices:
            MentionNotice(message, room_name=room.name)


class MentionNotice:
    """ "Ada mentioned you in #Lobby: …", with a button that opens the room; it goes by itself."""

    def __init__(self, message: MessagePublic, *, room_name: str) -> None:
        target = f"/rooms/{message.room}"
        text = message.text if message.kind == "text" else (message.text or "an image")
        snippet = text if len(text) <= SNIPPET_MAX else text[: SNIPPET_MAX - 1] + "…"
        with (
            ui.card()
            .props("data-testid=mention-notice role=status")
            .mark("mention-notice")
            .classes("chat-surface w-80 max-w-[calc(100vw-2rem)] gap-1 p-3 shadow-lg cursor-pointer")
            .on("click", lambda: ui.navigate.to(target)) as self.card
        ):
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                ui.icon("alternate_email", size="20px").classes("text-primary")
                ui.label(f"{message.author.display_name} mentioned you in #{room_name}").classes(
                    "text-sm font-semibold flex-1 min-w-0 truncate"
                )
                ui.button(icon="close").props("flat round dense size=sm aria-label='Dismiss'").on(
                    "click.stop", self.card.delete
                )
            ui.label(snippet).classes("text-sm chat-muted w-full break-words")
            ui.button("Open room", icon="arrow_forward").props(
                "flat dense no-caps color=primary data-testid=mention-notice-open"
            ).mark("mention-notice-open").classes("self-end").on("click.stop", lambda: ui.navigate.to(target))
            ui.timer(MENTION_SHOWN_SECONDS, self.card.delete, once=True)


class UnreadBadge:
    """`unread-count` while there is something unread; no element at all at 0 (CONTRACT §6)."""

    def __init__(self, count: int = 0, *, classes: str = "") -> None:
        self._holder = ui.element("span").classes(f"inline-flex {classes}")
        self._badge: ui.badge | None = None
        self.set(count)

    def set(self, count: int) -> None:
        if count <= 0:
            if self._badge is not None:
                self._badge.delete()
                self._badge = None
        elif self._badge is None:
            with self._holder:
                self._badge = (
                    ui.badge(str(count), color="primary")
                    .props("rounded data-testid=unread-count")
                    .mark("unread-count")
                    .classes("px-2 text-xs font-semibold")
                )
        elif self._badge.text != str(count):
            self._badge.set_text(str(count))


def private_room_icon(*, size: str, classes: str = "chat-muted") -> ui.icon:
    """The lock shown by a private room's name (room cards, the sidebar, the room's bar): an image
    named "Private room". Quasar hides its icons from screen readers (aria-hidden); this one says
    something the name does not, so it is shown to them."""
    icon = (
        ui.icon("lock", size=size)
        .classes(f"shrink-0 {classes}")
        .props('role=img aria-label="Private room" title="Private room" data-testid=private-room-icon')
        .mark("private-room-icon")
    )
    icon.props["aria-hidden"] = "false"
    return icon

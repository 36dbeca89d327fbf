"""`/`: the public rooms, most recent activity first, a page at a time as the visitor scrolls,
narrowed by a filter box, kept current live, with the visitor's unread counts on the rooms they
belong to (and in the title); and a form to create a room."""

from collections.abc import Awaitable, Callable
from datetime import datetime

from nicegui import ui

from chat_ui.forms import problem_of, sentence
from chat_ui.my_rooms import MyRooms, UnreadBadge, private_room_icon
from chat_ui.notices import notify
from chat_ui.page_frame import PageFrame
from chat_ui.theme import PRODUCT_NAME
from models.room import ROOM_DESCRIPTION_MAX, ROOM_NAME_MAX, RoomPage, RoomPublic, RoomState
from services import rooms
from services.database import DATABASE_DOWN
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.events import (
    ROOMS_CHANNEL,
    Resync,
    RoomActivity,
    RoomCreated,
    RoomDeleted,
    RoomEvent,
    RoomUpdated,
)

FILTER_DEBOUNCE_MS = 300  # the filter asks the server once typing pauses, not at every key

PageLoader = Callable[[str | None, str], Awaitable[RoomPage]]  # (cursor, filter) -> the next page
RoomFetcher = Callable[[str], Awaitable[RoomState]]  # slug -> the room as it is now


async def room_list_page(frame: PageFrame) -> None:
    context, me = frame.context, frame.guest.id

    async def create(name: str, description: str, private: bool) -> None:
        room = await context.db.run(
            rooms.create_room, owner_id=me, name=name, description=description, is_private=private
        )
        ui.navigate.to(f"/rooms/{room.slug}")

    # The visitor's private rooms are listed among the public ones (their counts come from MyRooms).
    async def load(before: str | None, query: str) -> RoomPage:
        return await context.db.run_read(rooms.page_rooms, before=before, query=query, reader_id=me, count_unread=False)

    async def fetch(slug: str) -> RoomState:  # NotFound for a private room the visitor is not in
        return await context.db.run_read(rooms.get_readable_room, slug=slug, reader_id=me)

    dialog = CreateRoomDialog(on_create=create)
    with ui.column().classes("w-full max-w-3xl mx-auto px-0 py-2 sm:px-4 sm:py-6 gap-4"):
        with ui.row().classes("w-full items-center no-wrap gap-3"):
            with ui.column().classes("gap-0 min-w-0 flex-1"):
                ui.label("Rooms").classes("text-2xl font-bold")
                ui.label("Pick a room and start talking — no sign-up needed.").classes("chat-muted max-sm:hidden")
            ui.button("New room", icon="add", on_click=dialog.open).props(
                "unelevated no-caps rounded data-testid=create-room-button"
            ).mark("create-room-button").classes("shrink-0")
        filter_box = (
            ui.input(placeholder="Filter rooms by name")
            .props(f"outlined dense clearable debounce={FILTER_DEBOUNCE_MS} maxlength=64 data-testid=room-filter")
            .mark("room-filter")
            .classes("w-full")
        )
        with filter_box.add_slot("prepend"):
            ui.icon("search")
        my_rooms = MyRooms(frame, title=PRODUCT_NAME)
        cards = RoomCards(
            load=load,
            fetch=fetch,
            unread=my_rooms.unread,
            visible=lambda room: not room.is_private or my_rooms.is_member(room.slug),
        )
        my_rooms.on_change(cards.show_unread)
        my_rooms.on_change(lambda: cards.follow_membership(my_rooms.rooms))
        filter_box.on_value_change(lambda event: cards.filter(event.value or ""))
    await context.feeds.subscribe(ROOMS_CHANNEL, cards.apply)  # subscribe first, then load: nothing falls between
    await my_rooms.open()
    await cards.load_more()


def _key(room: RoomPublic) -> tuple[datetime, int]:
    """The list's order, as the server sorts it: latest activity, then the newer room first."""
    return (room.last_message_at or room.created_at, room.id)


class RoomCards:
    """The rooms loaded so far, page after page as the visitor scrolls to the end, plus the ones
    events bring. One card per room, replaced and moved on its own when the room changes: a page
    of hundreds of rooms is not re-rendered for every message somewhere.

    Which rooms belong: those of the pages loaded, and those an event puts above the last one
    loaded (new activity always does). A room that sorts below it is left for a later page, so
    scrolling on never shows a room twice nor skips one.

    Events about every room reach every list, private rooms' too (the room list's channel is one
    for all): `visible` says which the visitor may see (public rooms, and the private ones they
    belong to), and a private room leaves or joins the list as their membership changes."""

    def __init__(
        self,
        *,
        load: PageLoader,
        fetch: RoomFetcher,
        unread: Callable[[str], int] = lambda slug: 0,
        visible: Callable[[RoomPublic], bool] = lambda room: not room.is_private,
    ) -> None:
        self._load, self._fetch, self._unread, self._visible = load, fetch, unread, visible
        self._query = ""
        self._generation = 0  # a new filter starts a new generation: pages of older ones are dropped
        self._known: dict[int, RoomPublic] = {}
        self._cards: dict[int, ui.element] = {}
        self._badges: dict[int, UnreadBadge] = {}  # by room id: the visitor's unread count on each card
        self._cursor: str | None = None
        self._floor: tuple[datetime, int] | None = None  # the last room loaded from a page
        self._complete = False
        self._pages = 0
        self._loading = False
        self._early: dict[int, RoomPublic] = {}
        # Rooms whose activity was looked up and answered NotFound (private rooms the visitor is
        # not in, whose every message reaches every list): not asked again until an event says the
        # visitor may now see the room, else each list would query every few seconds forever.
        self._unseen: set[str] = set()
        self._column = ui.column().classes("w-full gap-2 sm:gap-3").props("data-testid=room-list").mark("room-list")
        self._footer = ui.column().classes("w-full items-center")

    async def load_more(self) -> None:
        """The next page, below the rooms shown (or the first one)."""
        if self._loading or self._complete:
            return
        self._loading, generation = True, self._generation
        try:
            page = await self._load(self._cursor, self._query)
        except DATABASE_DOWN:
            notify("More rooms could not be loaded: the server cannot reach its database.", type="negative")
            return
        finally:
            self._loading = False
        if generation != self._generation:  # the filter changed while this page was on its way
            return
        for room in page.rooms:
            if room.id not in self._known:  # an event that arrived during the load is newer
                self._put(room)
        if page.rooms:
            self._floor = _key(page.rooms[-1])
        self._cursor, self._complete = page.next_cursor, page.next_cursor is None
        self._pages += 1
        early, self._early = self._early, {}
        for room in early.values():  # what events said while the first page was on its way
            self._offer(room)
        self._render_footer()

    def show_unread(self) -> None:
        """The visitor's unread counts changed (MyRooms): only the badges move."""
        for room_id, badge in self._badges.items():
            badge.set(self._unread(self._known[room_id].slug))

    def follow_membership(self, mine: list[RoomState]) -> None:
        """The visitor's rooms changed (MyRooms): a private room they left goes from the list, one
        they joined elsewhere (an invitation in another tab) comes, in its place."""
        if self._floor is None and not self._complete:  # the first page, on its way, has them
            return
        self._unseen.difference_update(room.slug for room in mine)
        gone = [room_id for room_id, room in self._known.items() if not self._visible(room)]
        come = [room for room in mine if room.is_private and room.id not in self._known and self._belongs(room)]
        for room_id in gone:
            self._drop(room_id)
        for room in come:
            self._put(room)
        if gone or come:
            self._render_footer()

    async def filter(self, query: str) -> None:
        """Start again from the first page, showing only rooms whose name contains `query`."""
        self._query = query.strip()
        await self._restart()

    async def apply(self, event: RoomEvent) -> None:
        if isinstance(event, RoomCreated | RoomUpdated):
            if self._visible(event.room):  # the visitor joined it, or a deleted room's slug is reused
                self._unseen.discard(event.room.slug)
            self._offer(event.room)
        elif isinstance(event, RoomActivity):
            await self._on_activity(event)
        elif isinstance(event, RoomDeleted):
            for room_id in [room_id for room_id, room in self._known.items() if room.slug == event.room]:
                self._drop(room_id)
            self._render_footer()
        elif isinstance(event, Resync):  # the bus had a gap: start again from the database
            await self._restart()

    async def _on_activity(self, event: RoomActivity) -> None:
        room = next((room for room in self._known.values() if room.slug == event.room), None)
        if room is not None:
            self._offer(room.model_copy(update={"last_message_at": event.last_message_at}))
            return
        if event.room in self._unseen:
            return
        try:  # a room from further down the list: it comes to the top now
            fetched = await self._fetch(event.room)
        except NotFound:
            self._unseen.add(event.room)
            return
        except DATABASE_DOWN:
            return
        self._offer(fetched)

    def _offer(self, room: RoomPublic) -> None:
        """Show, move or drop a room that an event says has changed."""
        if self._floor is None and not self._complete:  # before the first page: sort it out after it
            self._early[room.id] = room
            return
        if not self._matches(room):
            if room.id in self._known:  # renamed out of the filter, or a private room the visitor left
                self._drop(room.id)
        elif self._belongs(room):
            self._put(room)
        self._render_footer()

    def _matches(self, room: RoomPublic) -> bool:
        return self._visible(room) and rooms.name_key(self._query) in rooms.name_key(room.name)

    def _belongs(self, room: RoomPublic) -> bool:
        """Whether a room that matches goes in the list now, rather than on a later page."""
        known_or_above = room.id in self._known or (self._floor is not None and _key(room) >= self._floor)
        return self._matches(room) and (known_or_above or self._complete)

    async def _restart(self) -> None:
        self._generation += 1
        for room_id in list(self._known):
            self._drop(room_id)
        self._cursor, self._floor, self._complete, self._pages, self._loading = None, None, False, 0, False
        self._early.clear()
        self._unseen.clear()  # a new start (a filter, a bus gap) asks again: memberships may have changed unheard
        self._footer.clear()
        await self.load_more()

    def _put(self, room: RoomPublic) -> None:
        """Add or replace the room's card, in its place in the order."""
        if room.id in self._cards:
            self._cards.pop(room.id).delete()
        self._known[room.id] = room
        above = sum(1 for other in self._known.values() if _key(other) > _key(room))
        with self._column:
            card, self._badges[room.id] = _room_card(room, unread=self._unread(room.slug))
        card.move(self._column, target_index=above)
        self._cards[room.id] = card

    def _drop(self, room_id: int) -> None:
        self._known.pop(room_id, None)
        self._badges.pop(room_id, None)
        if (card := self._cards.pop(room_id, None)) is not None:
            card.delete()

    def _render_footer(self) -> None:
        """Below the cards: what triggers the next page, or why the list ends where it does."""
        self._footer.clear()
        with self._footer:
            if not self._complete:
                # A fresh QIntersection after every page: it reports "visible" as soon as it is
                # mounted in view, so a tall window keeps loading until the end is out of view.
                with ui.element("q-intersection").classes("w-full min-h-[3rem]").on("visibility", self._on_end_seen):
                    ui.button("More rooms", on_click=self.load_more).props(
                        "flat no-caps color=primary data-testid=room-list-more"
                    ).classes("w-full")
            elif not self._known:
                _empty_state(self._query)
            elif self._pages > 1:
                ui.label(f"That's all {len(self._known)} rooms.").classes("text-sm chat-faint py-2").props(
                    "data-testid=room-list-end"
                ).mark("room-list-end")

    async def _on_end_seen(self, event: object) -> None:
        if getattr(event, "args", False) is True:
            await self.load_more()


def _empty_state(query: str) -> None:
    with ui.column().classes("chat-room-empty w-full items-center gap-2 py-10 chat-muted"):
        ui.icon("search_off" if query else "forum", size="48px").classes("chat-faint")
        ui.label(f"No room matches “{query}”." if query else "No rooms yet. Create the first one!")


ROOM_CARD_CSS = """
.chat-room-card { display: grid; align-items: center; column-gap: 0; row-gap: .125rem;
  grid-template-columns: auto minmax(0, 1fr) auto auto;
  grid-template-areas: "avatar name meta badge" "avatar about meta badge";
  padding: .75rem 1rem; border-radius: .875rem; border: 1px solid var(--chat-border);
  background: var(--chat-surface); color: var(--chat-text); transition: border-color .15s, box-shadow .15s; }
.chat-room-link:hover .chat-room-card { border-color: var(--chat-accent); box-shadow: 0 4px 14px var(--chat-shadow); }
.chat-room-card-avatar { grid-area: avatar; margin-right: .875rem; width: 44px; height: 44px; border-radius: .75rem;
  display: flex; align-items: center; justify-content: center; font-weight: 600; font-size: 1.125rem;
  background: var(--chat-accent-fill); color: var(--chat-on-accent); }
.chat-room-card-name { grid-area: name; font-weight: 600; font-size: 1rem; line-height: 1.375rem; }
.chat-room-card-about { grid-area: about; font-size: .875rem; line-height: 1.25rem; color: var(--chat-muted); }
.chat-room-card-meta { grid-area: meta; margin-left: .875rem; display: flex; flex-direction: column;
  align-items: flex-end;
  font-size: .75rem; line-height: 1.125rem; color: var(--chat-muted); white-space: nowrap; }
.chat-room-empty { border: 1px dashed var(--chat-border); border-radius: .875rem; background: var(--chat-surface); }
.chat-room-card-badge { grid-area: badge; }
.chat-room-card-badge:not(:empty) { margin-left: .75rem; }
.chat-room-card:not(:has(.chat-room-card-about)) { grid-template-areas: "avatar name meta badge"; }
/* A phone: the name gets the card's width, the members and activity go on a line below it. */
@media (max-width: 640px) {
  .chat-room-card { padding: .625rem .75rem;
    grid-template-columns: auto minmax(0, 1fr) auto;
    grid-template-areas: "avatar name badge" "avatar about badge" "avatar meta badge"; }
  .chat-room-card:not(:has(.chat-room-card-about)) { grid-template-areas: "avatar name badge" "avatar meta badge"; }
  .chat-room-card-avatar { width: 40px; height: 40px; margin-right: .75rem; }
  .chat-room-card-meta { margin-left: 0; flex-direction: row; align-items: center; gap: .375rem; }
  .chat-room-card-meta > * + *::before { content: "·"; margin-right: .375rem; }
}
"""


def _room_card(room: RoomPublic, *, unread: int) -> tuple[ui.link, UnreadBadge]:
    """One room: its initial, name and description, members and activity, and the unread badge,
    in a grid that puts members and activity under the name on a phone (ROOM_CARD_CSS)."""
    with (
        ui.link(target=f"/rooms/{room.slug}").classes("chat-room-link w-full no-underline text-inherit") as link,
        ui.element("div").props("data-testid=room-item").mark("room-item").classes("chat-room-card w-full"),
    ):
        ui.label(room.name[:1].upper()).classes("chat-room-card-avatar").props("aria-hidden=true")
        _card_name(room)
        if room.description:
            about = ui.label(room.description).classes("chat-room-card-about truncate")
            about.props["title"] = room.description
        with ui.element("div").classes("chat-room-card-meta"):
            members = "member" if room.member_count == 1 else "members"
            ui.label(f"{room.member_count} {members}")
            ui.label(_when(room.last_message_at) if room.last_message_at else "no messages yet")
        badge = UnreadBadge(unread, classes="chat-room-card-badge")
    return link, badge


def _card_name(room: RoomPublic) -> None:
    """The room's name in the card's name cell; a private room's with a lock before it."""
    if room.is_private:
        with ui.element("div").classes("chat-room-card-name flex items-center no-wrap gap-1.5 min-w-0"):
            private_room_icon(size="16px")
            name = ui.label(room.name).classes("truncate min-w-0")
    else:
        name = ui.label(room.name).classes("chat-room-card-name truncate")
    name.props("data-testid=room-name").mark("room-name")
    name.props["title"] = room.name  # the whole name, where the card cuts it short


class CreateRoomDialog:
    """Name, description and whether the room is private; `on_create(name, description, private)`
    creates the room, and a refusal (a taken or invalid name) shows on the name field. Built on
    first use: most visits to the list never open it, and each open page keeps its elements."""

    def __init__(self, *, on_create: Callable[[str, str, bool], Awaitable[None]]) -> None:
        self._on_create = on_create
        self._built = False
        self._holder = ui.element("div").classes("hidden")  # where the dialog goes once built

    def open(self) -> None:
        if not self._built:
            self._built = True
            with self._holder:
                self._build()
        self._dialog.open()

    def _build(self) -> None:
        with (
            ui.dialog().props("aria-label='Create a room'") as self._dialog,
            ui.card().classes("w-[28rem] max-w-full gap-3"),
        ):
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
            self._private = (
                ui.checkbox("Private: only people you invite can see it")
                .props("data-testid=room-private-checkbox")
                .mark("room-private-checkbox")
            )
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=self._dialog.close).props("flat no-caps")
                ui.button("Create", on_click=self._submit).props(
                    "unelevated no-caps data-testid=create-room-submit"
                ).mark("create-room-submit")

    async def _submit(self) -> None:
        self._name.error = None
        if not self._name.validate():
            return
        try:
            await self._on_create(self._name.value or "", self._description.value or "", bool(self._private.value))
        except (Conflict, InvalidInput) as error:
            self._name.error = sentence(error.detail)
            return
        except Forbidden as error:  # a banned guest, or the read-only visitor: not about the name
            notify(sentence(error.detail), type="negative")
            return
        self._dialog.close()


def _when(moment: datetime) -> str:
    seconds = (datetime.now(moment.tzinfo) - moment).total_seconds()
    if seconds < 60:
        return "active just now"
    if seconds < 3600:
        return f"active {int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"active {int(seconds // 3600)} h ago"
    return f"active {int(seconds // 86400)} d ago"

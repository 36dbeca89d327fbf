"""The room page's left column at desktop widths: the visitor's rooms with their unread counts,
the one shown highlighted, private ones with a lock. Below 1024 px it is not displayed at all
(Tailwind's `max-lg:hidden`: Quasar's own `hidden` class is `!important`, so `hidden lg:flex`
would never show it), so a phone keeps the single column of messages."""

from nicegui import ui

from chat_ui.my_rooms import MyRooms, UnreadBadge, private_room_icon

SIDEBAR_CSS = """
.chat-sidebar { border-right: 1px solid var(--chat-border); }
.chat-sidebar-room { color: var(--chat-text); }
.chat-sidebar-room:hover { background: var(--chat-hover); }
.chat-sidebar-room .chat-sidebar-hash { color: var(--chat-faint); }
.chat-sidebar-room[aria-current=page] { background: var(--chat-accent-soft); color: var(--chat-accent-text);
  font-weight: 600; }
.chat-sidebar-room[aria-current=page] .chat-sidebar-hash { color: inherit; }
"""


class RoomSidebar:
    """Fed by MyRooms: the list is rebuilt when its rooms or names change, and otherwise only the
    badges move, so a busy room costs a badge update, not a new list."""

    def __init__(self, my_rooms: MyRooms, *, current: str) -> None:
        self._my_rooms, self._current = my_rooms, current
        self._shown: list[tuple[str, str, bool]] = []  # (slug, name, private) in the order shown
        self._badges: dict[str, UnreadBadge] = {}
        with (
            ui.element("nav")
            .classes("chat-surface chat-sidebar flex max-lg:hidden flex-col w-64 shrink-0 h-full")
            .classes("overflow-y-auto")
            .props("data-testid=room-sidebar aria-label='Your rooms'")
            .mark("room-sidebar")
        ):
            ui.label("Your rooms").classes("text-xs font-semibold uppercase tracking-wide chat-muted px-4 pt-4 pb-2")
            self._list = ui.column().classes("w-full gap-0.5 px-2 pb-4")
            self._empty = ui.label("Rooms you post in show here.").classes("text-sm chat-muted px-4")
        my_rooms.on_change(self.update)

    def update(self) -> None:
        rooms = [(room.slug, room.name, room.is_private) for room in self._my_rooms.rooms]
        if rooms != self._shown:
            self._rebuild(rooms)
        for slug, badge in self._badges.items():
            badge.set(self._my_rooms.unread(slug))

    def _rebuild(self, rooms: list[tuple[str, str, bool]]) -> None:
        self._shown = rooms
        self._list.clear()
        self._badges.clear()
        self._empty.visible = not rooms
        with self._list:
            for slug, name, private in rooms:
                self._badges[slug] = self._item(slug, name, private=private)

    def _item(self, slug: str, name: str, *, private: bool) -> UnreadBadge:
        current = slug == self._current
        with (
            ui.link(target=f"/rooms/{slug}")
            .classes("chat-sidebar-room w-full flex items-center gap-2 no-wrap rounded-lg px-3 py-2 no-underline")
            .props(f"data-testid=sidebar-room data-slug={slug}" + (" aria-current=page" if current else ""))
            .mark("sidebar-room")
        ):
            if private:  # a lock where a public room has its "#"
                private_room_icon(size="14px", classes="chat-sidebar-hash")
            else:
                ui.label("#").classes("chat-sidebar-hash shrink-0")
            label = ui.label(name).classes("truncate flex-1 min-w-0 text-sm").props("data-testid=sidebar-room-name")
            label.props["title"] = name  # the whole name, where the column cuts it short
            return UnreadBadge(self._my_rooms.unread(slug), classes="shrink-0")

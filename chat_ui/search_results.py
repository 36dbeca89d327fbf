"""The panel of search results under the header's box (chat_ui/search_box.py): made when the
visitor first searches, never for a page view that does not.

It is a Quasar menu anchored to the box, so it floats over the page instead of pushing it; Quasar
closes it on Escape (giving the focus back to the box) and on a click outside, without a script of
ours. The keyboard stays in the box (the ARIA combobox pattern): Up and Down move a highlight over
the results, which the box names as its active descendant, and Enter opens the highlighted one.

Each result is a plain link to `/rooms/{slug}?message=ID`, so a click, a middle click or Enter on a
focused result open it as a link does; inside, one piece of HTML built here with every piece of
user text escaped (search_marks.py marks the matches). Two elements per result, however much it
shows: every element costs memory for as long as the page is open.
"""

from collections.abc import Awaitable, Callable
from html import escape
from urllib.parse import quote
from zoneinfo import ZoneInfo

from nicegui import ui

from chat_ui.search_marks import excerpt_html, when
from models.message import MessagePublic
from services.room_names import RoomLabel
from services.search import NamedSearchPage

RESULTS_CSS = """
.chat-search-panel { width: min(36rem, calc(100vw - 1rem)); max-height: min(70vh, 40rem);
  background: var(--chat-raised); color: var(--chat-text); border: 1px solid var(--chat-border);
  border-radius: .75rem; box-shadow: 0 10px 30px var(--chat-shadow); }
.chat-search-top { position: sticky; top: 0; z-index: 1; display: flex; align-items: center; gap: .5rem;
  padding: .5rem .75rem; background: var(--chat-raised); border-bottom: 1px solid var(--chat-border); }
.chat-search-caption { flex: 1; min-width: 0; font-size: .8125rem; color: var(--chat-muted);
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.chat-search-scope { border: 1px solid var(--chat-border); border-radius: 9999px; overflow: hidden; }
.chat-search-scope .q-btn { color: var(--chat-muted); font-size: .75rem; padding: 0 .75rem; min-height: 28px; }
.chat-search-scope .q-btn[aria-pressed="true"] { background: var(--chat-accent-soft); color: var(--chat-accent-text); }
.chat-search-result { display: block; padding: .5rem .75rem; color: var(--chat-text); text-decoration: none;
  border-bottom: 1px solid var(--chat-border); cursor: pointer; }
.chat-search-result:hover { background: var(--chat-hover); }
.chat-search-result.chat-active { background: var(--chat-accent-soft); box-shadow: inset 3px 0 var(--chat-accent); }
.chat-search-result.chat-active .chat-search-time { color: var(--chat-muted); }  /* faint is under 4.5:1 on the tint */
.chat-search-head { display: flex; align-items: baseline; gap: .5rem; min-width: 0; font-size: .8125rem; }
.chat-search-author { font-weight: 600; flex-shrink: 0; max-width: 45%; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.chat-search-room { flex: 1; min-width: 0; color: var(--chat-muted); overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.chat-search-room .q-icon { font-size: .875rem; vertical-align: -2px; margin-right: 1px; }
.chat-search-time { flex-shrink: 0; color: var(--chat-faint); font-size: .75rem; }
.chat-search-text { font-size: .875rem; line-height: 1.35rem; margin-top: 2px; overflow-wrap: anywhere;
  display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 3; overflow: hidden; }
.chat-search-text .q-icon { font-size: 1rem; vertical-align: -3px; color: var(--chat-muted); margin-right: 2px; }
/* A match: the accent's text on its soft tint, bold too, so it is not told by colour alone. */
.chat-search-text mark { background: var(--chat-accent-soft); color: var(--chat-accent-text); font-weight: 600;
  border-radius: 3px; padding: 0 1px; }
/* On the highlighted result, already tinted, a second tint would leave too little contrast (3.9:1 dark). */
.chat-search-result.chat-active .chat-search-text mark { background: transparent; text-decoration: underline;
  text-underline-offset: 3px; }
.chat-search-empty { padding: 1.25rem .75rem; text-align: center; color: var(--chat-muted); font-size: .875rem; }
.chat-search-more { display: flex; justify-content: center; padding: .375rem; }
"""

ScopeIntent = Callable[[bool], Awaitable[None]]  # True: this room only


class SearchPanel:
    """Shows pages of results (`show`) and reports intent: `on_more` for the next page,
    `on_scope(this_room)` when the visitor narrows or widens the search, `on_closed` when Quasar
    closed the panel (Escape, a click outside)."""

    def __init__(
        self,
        anchor: ui.element,
        *,
        room_scope: bool,
        on_more: Callable[[], Awaitable[None]],
        on_scope: ScopeIntent,
        on_closed: Callable[[], None],
    ) -> None:
        self._on_scope = on_scope
        self._links: list[str] = []
        self._items: list[ui.element] = []
        self._active = -1  # the highlighted result's index; -1 while none is
        with anchor:
            self.menu = (
                ui.menu()
                .props("no-focus no-parent-event anchor='bottom middle' self='top middle'")
                .props("role=dialog aria-label='Search results' data-testid=search-panel")
                .classes("chat-search-panel")
                .mark("search-panel")
            )
        self.menu.props["offset"] = [0, 6]  # px below the box
        self.menu.on_value_change(lambda event: None if event.value else on_closed())
        with self.menu:
            self._top(room_scope)
            self.list = ui.element("div").props("role=listbox aria-label='Messages found'")
            self._empty = ui.label().classes("chat-search-empty").props("data-testid=search-empty").mark("search-empty")
            with ui.element("div").classes("chat-search-more") as self._more:
                self._more_button = ui.button("More results", on_click=on_more, color=None).props(
                    "flat no-caps dense data-testid=search-more"
                )
                self._more_button.mark("search-more").classes("text-primary px-3")

    def _top(self, room_scope: bool) -> None:
        with ui.element("div").classes("chat-search-top"):
            self._caption = ui.label().classes("chat-search-caption")
            self._scope: ui.toggle | None = None
            if room_scope:
                self._scope = (
                    ui.toggle({False: "All rooms", True: "This room"}, value=False)
                    .props("no-caps flat dense toggle-color=primary data-testid=search-scope aria-label='Search in'")
                    .classes("chat-search-scope")
                    .mark("search-scope")
                )
                self._scope.on_value_change(self._scope_changed)

    @property
    def this_room(self) -> bool:
        return bool(self._scope is not None and self._scope.value)

    @property
    def listbox_id(self) -> str:
        return f"c{self.list.id}"

    @property
    def active_link(self) -> str | None:
        return self._links[self._active] if self._active >= 0 else None

    @property
    def active_id(self) -> str | None:
        """The DOM id of the highlighted result, for the box's aria-activedescendant."""
        return f"c{self._items[self._active].id}" if self._active >= 0 else None

    @property
    def has_results(self) -> bool:
        return bool(self._items)

    async def _scope_changed(self) -> None:
        await self._on_scope(self.this_room)

    def show(self, named: NamedSearchPage, query: str, timezone: ZoneInfo, *, more: bool = False) -> None:
        """A page of results for `query`: the first (replacing what was shown) or, with `more`, the next."""
        if not more:
            self.list.clear()
            self._items, self._links, self._active = [], [], -1
        with self.list:
            for message in named.page.results:
                self._add(message, named.rooms.get(message.room), query, timezone)
        where = " in this room" if self.this_room else ""
        self._caption.set_text("Newest first")
        self._empty.set_text(f"No messages match “{query}”{where}")
        self._empty.visible = not self._items
        self._more.visible = named.page.has_more

    def _add(self, message: MessagePublic, room: RoomLabel | None, query: str, timezone: ZoneInfo) -> None:
        link = f"/rooms/{quote(message.room)}?message={message.id}"
        with ui.element("a").classes("chat-search-result") as item:
            ui.html(result_html(message, room, query, timezone), sanitize=False)
        item.props.update({"href": link, "role": "option", "aria-selected": "false", "data-testid": "search-result"})
        item.props["data-message-id"] = str(message.id)
        item.mark("search-result")
        self._items.append(item)
        self._links.append(link)

    def move(self, step: int) -> None:
        """Highlight the next (1) or previous (-1) result, round the ends; none highlighted yet:
        the first or the last."""
        if not self._items:
            return
        if self._active >= 0:
            self._items[self._active].classes(remove="chat-active").props["aria-selected"] = "false"
            self._active = (self._active + step) % len(self._items)
        else:
            self._active = 0 if step > 0 else len(self._items) - 1
        item = self._items[self._active]
        item.classes(add="chat-active").props["aria-selected"] = "true"
        item.update()
        item.run_method("scrollIntoView", {"block": "nearest"})

    def forget_highlight(self) -> None:
        if self._active >= 0:
            item = self._items[self._active]
            item.classes(remove="chat-active").props["aria-selected"] = "false"
            item.update()
        self._active = -1


def result_html(message: MessagePublic, room: RoomLabel | None, query: str, timezone: ZoneInfo) -> str:
    """One result: who wrote it, where (a lock for a private room), when, and the text around the
    first match, marked. Every piece of user text is escaped here."""
    room_name = escape(room.name if room is not None else message.room)
    lock = _icon("lock") + '<span class="sr-only">private room </span>' if room is not None and room.is_private else ""
    text = excerpt_html(message.text, query)
    if message.kind == "image":
        text = _icon("image") + f'<span class="sr-only">Image: </span>{text or "Image"}'
    author = escape(message.author.display_name)
    moment = message.created_at
    full_time = escape(moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M %Z"))
    return (
        '<div class="chat-search-head">'
        f'<span class="chat-search-author" data-testid="search-result-author">{author}</span>'
        f'<span class="chat-search-room" data-testid="search-result-room">{lock}{room_name}</span>'
        f'<time class="chat-search-time" datetime="{moment.isoformat()}" title="{full_time}">'
        f"{escape(when(moment, timezone))}</time>"
        "</div>"
        f'<div class="chat-search-text" data-testid="search-result-text">{text}</div>'
    )


def _icon(name: str) -> str:
    """A Material icon as Quasar draws it (a ligature), hidden from screen readers: text says it."""
    return f'<i class="q-icon notranslate material-icons" aria-hidden="true">{name}</i>'

"""The header's search (CONTRACT §7): a box on every page with the header; results in a panel
under it (chat_ui/search_results.py), made when the visitor first searches.

Enter searches at once; typing searches after a pause (SEARCH_PAUSE, at least SEARCH_MIN_CHARS
characters), so the results follow the words. The server sees the box's value on every keystroke
(NiceGUI sends it), so the pause is kept here, without a script: each keystroke counts, and a
search waits out the pause and goes ahead only if no key came meanwhile. Answers may come back out
of order (a short query can take longer than the longer one typed after it): every search is
numbered and only the newest one's answer is shown.

On a room page the panel offers to search that room only. At phone widths (layout.PHONE_MAX) the
box is small in the header and spreads over it while in use; on a room page, where the room's bar
replaces the header, the bar's menu opens it (`Header.open_search`).
"""

import asyncio
import logging
from zoneinfo import ZoneInfo

from nicegui import ui

from chat_ui.forms import sentence
from chat_ui.layout import PHONE_MAX
from chat_ui.notices import notify
from chat_ui.page_frame import PageFrame
from chat_ui.search_results import RESULTS_CSS, SearchPanel
from chat_ui.timezone import browser_timezone
from models.search import SEARCH_QUERY_MAX
from services import access
from services.database import DATABASE_DOWN
from services.errors import NotFound, ServiceError
from services.search import search_named

log = logging.getLogger(__name__)
SEARCH_DOWN = "Search is unavailable right now; please try again."
SEARCH_PAUSE = 0.3  # s after the last keystroke
SEARCH_MIN_CHARS = 2  # typed, before a pause searches (Enter searches any)

# The box, and on a phone the box spread over the header while in use. On a room page the room's
# bar hides the header (layout.HEADER_CSS); while the box is in use the header is back, with no
# height of its own (the page's layout keeps its place) and only the box showing, over the bar.
# Registered after the header's and the room bar's rules (chat_ui/styles.py), which these override.
SEARCH_CSS = f"""
.chat-search {{ width: 100%; max-width: 30rem; }}
.chat-search .q-field__control {{ height: 36px; min-height: 36px; border-radius: 9999px; padding: 0 10px;
  background: var(--chat-page); }}
.chat-search .q-field__control:before {{ border-color: var(--chat-border); }}
.chat-search .q-field__marginal {{ height: 36px; color: var(--chat-muted); }}
.chat-search .q-field__native {{ color: var(--chat-text); }}
.chat-search .q-field__native::placeholder {{ color: var(--chat-faint); opacity: 1; }}
@media (max-width: {PHONE_MAX}px) {{
  .chat-search-slot {{ justify-content: flex-end; }}
  .chat-search {{ max-width: 8.5rem; }}
  .chat-search.chat-search-open {{ position: absolute; inset: 0 0 auto 0; height: 52px; z-index: 3; max-width: none;
    padding: 8px .75rem; background: var(--chat-surface); border-bottom: 1px solid var(--chat-border); }}
  body:has(.chat-room-bar):has(.chat-search-open) .chat-app-header {{ display: flex; height: 0; border: 0; }}
  body:has(.chat-room-bar) .chat-app-header > :not(.chat-search-slot) {{ visibility: hidden; }}
}}
{RESULTS_CSS}"""


class SearchBox:
    """The box and, once used, its panel. Searches as the page's visitor; `frame.header`, when the
    page has one, learns how to open the box (its phone menu on room pages offers that)."""

    def __init__(self, frame: PageFrame) -> None:
        self._frame = frame
        self._room = _page_room()
        self._panel: SearchPanel | None = None
        self._timezone: ZoneInfo | None = None
        self._keystrokes = 0  # seen so far: a pause is the absence of a newer one
        self._closed_at = 0  # the keystroke after which the panel was last closed
        self._asked = 0  # searches started: only the newest may show its answer
        self._shown: tuple[str, bool] | None = None  # the (query, this room) asked last
        self._next_before: int | None = None  # the oldest result shown: where "More results" goes on
        self._focused = False  # the box has the keyboard (it stays spread over a phone's header)
        with ui.element("div").classes("chat-search") as self._wrapper:
            self._input = self._box()
        if frame.header is not None:
            frame.header.open_search = self.open

    def _box(self) -> ui.input:
        field = (
            ui.input(placeholder="Search messages")
            .props(
                f"outlined dense clearable maxlength={SEARCH_QUERY_MAX} data-testid=search-input"
                " aria-label='Search messages' role=combobox aria-autocomplete=list aria-expanded=false"
                " autocomplete=off enterkeyhint=search spellcheck=false"
            )
            .mark("search-input")
            .classes("w-full")
        )
        with field.add_slot("prepend"):
            ui.icon("search", size="20px")
        # Every listener now: one added later would make the browser mount the field afresh.
        field.on_value_change(self._typed)
        field.on("keydown.enter", self._enter)
        field.on("keydown.down.prevent", lambda: self._move(1))
        field.on("keydown.up.prevent", lambda: self._move(-1))
        # Quasar closes the panel on Escape only where it takes the device for a desktop: on a
        # tablet's or phone's keyboard the box closes it itself.
        field.on("keydown.esc", self._close)
        field.on("focus", lambda: self._set_focused(True))
        field.on("blur", lambda: self._set_focused(False))
        return field

    @property
    def query(self) -> str:
        return " ".join((self._input.value or "").split())

    # What the visitor does

    async def _typed(self) -> None:
        self._keystrokes += 1
        mine = self._keystrokes
        if self._panel is not None:
            self._panel.forget_highlight()
            self._show_active()
        if not self.query:
            self._close()
            return
        await asyncio.sleep(SEARCH_PAUSE)
        if mine != self._keystrokes or len(self.query) < SEARCH_MIN_CHARS or self._closed_at == mine:
            return  # typed on, too short, or closed (Escape) during the pause: not to be reopened
        if self._shown != (self.query, self._this_room) or not self._is_open:
            await self.search()

    async def _enter(self) -> None:
        link = self._panel.active_link if self._panel is not None and self._is_open else None
        if link is not None:
            ui.navigate.to(link)
            return
        await self.search()

    def _move(self, step: int) -> None:
        if self._panel is None or not self._panel.has_results:
            return
        if not self._is_open:
            self._open_panel()
            return
        self._panel.move(step)
        self._show_active()

    def _set_focused(self, focused: bool) -> None:
        self._focused = focused
        self._spread()

    def open(self) -> None:
        """Show the box and put the cursor in it (the room bar's menu on a phone, where the header
        is hidden until the box is in use)."""
        self._focused = True  # until the box says it lost the keyboard
        self._spread()
        self._input.run_method("focus")

    # Searching

    async def search(self, *, more: bool = False) -> None:
        """Ask for the box's query (or the next page of the results shown: their query and scope,
        whatever the box says by now), and show the answer unless a newer search was started meanwhile."""
        if more and self._shown is None:
            return
        query, this_room = self._shown if more and self._shown is not None else (self.query, self._this_room)
        before = self._next_before if more else None
        self._asked += 1
        mine = self._asked
        self._input.props["loading"] = True
        try:
            named, timezone = await asyncio.gather(
                self._frame.context.db.run_read(
                    search_named,
                    query=query,
                    reader_id=self._frame.guest.id,
                    room_slug=self._room if this_room else None,
                    before=before,
                ),
                self._reader_timezone(),
            )
        except ServiceError as error:  # a blank or too long query; a room gone meanwhile
            if mine == self._asked:
                notify(sentence(error.detail), type="warning")
            return
        except DATABASE_DOWN as error:
            log.warning("search failed: %s", str(error).splitlines()[0])
            if mine == self._asked:
                notify(SEARCH_DOWN, type="negative")
            return
        finally:
            if mine == self._asked:
                self._input.props["loading"] = False
        if mine != self._asked:
            return  # a newer search's answer is what the box shows
        panel = await self._ensure_panel()
        panel.show(named, query, timezone, more=more)
        self._shown = (query, this_room)
        if named.page.results:
            self._next_before = named.page.results[-1].id
        self._show_active()
        self._open_panel()

    async def _more(self) -> None:
        await self.search(more=True)

    async def _scope_changed(self, this_room: bool) -> None:
        if self.query:
            await self.search()

    async def _reader_timezone(self) -> ZoneInfo:
        if self._timezone is None:
            with self._wrapper:  # asyncio.gather runs this as a task of its own, outside the page's slot
                self._timezone = await browser_timezone()
        return self._timezone

    # The panel

    async def _ensure_panel(self) -> SearchPanel:
        if self._panel is None:
            scope = self._room is not None and await self._may_read_room()
            self._panel = SearchPanel(
                self._wrapper,
                room_scope=scope,
                on_more=self._more,
                on_scope=self._scope_changed,
                on_closed=self._closed,
            )
            self._input.props["aria-controls"] = self._panel.listbox_id
        return self._panel

    async def _may_read_room(self) -> bool:
        """Whether "This room" may be offered: not on the page of a room that is not there."""
        try:
            await self._frame.context.db.run_read(
                access.check_readable, slug=self._room, reader_id=self._frame.guest.id
            )
        except NotFound:
            return False
        return True

    @property
    def _this_room(self) -> bool:
        return self._panel is not None and self._panel.this_room

    @property
    def _is_open(self) -> bool:
        return self._panel is not None and bool(self._panel.menu.value)

    def _open_panel(self) -> None:
        assert self._panel is not None
        self._panel.menu.open()
        self._spread(panel_open=True)
        self._input.props["aria-expanded"] = "true"
        self._input.update()

    def _close(self) -> None:
        if self._panel is not None:
            self._panel.menu.close()
        self._closed()

    def _closed(self) -> None:
        """Escape, a click outside, or a cleared box closed the panel: an answer still on its way
        does not open it again, and neither does the pause after the last keystroke."""
        self._closed_at = self._keystrokes
        self._asked += 1
        self._input.props["loading"] = False
        if self._panel is not None:
            self._panel.forget_highlight()
        self._input.props["aria-expanded"] = "false"
        self._input.update()
        self._show_active()
        self._spread(panel_open=False)

    def _spread(self, *, panel_open: bool | None = None) -> None:
        """On a phone the box spreads over the header while it has the keyboard or its panel is
        open (search_box.SEARCH_CSS); elsewhere the class changes nothing."""
        in_use = self._focused or (self._is_open if panel_open is None else panel_open)
        self._wrapper.classes(add="chat-search-open" if in_use else None, remove=None if in_use else "chat-search-open")

    def _show_active(self) -> None:
        """The box names the highlighted result (aria-activedescendant) for screen readers."""
        active = self._panel.active_id if self._panel is not None else None
        if active == self._input.props.get("aria-activedescendant"):
            return  # unchanged: no update (the box would be sent again on every keystroke)
        if active is None:
            self._input.props.pop("aria-activedescendant", None)
        else:
            self._input.props["aria-activedescendant"] = active
        self._input.update()


def _page_room() -> str | None:
    """The slug of the room whose page this is, if it is a room's page."""
    request = ui.context.client.request
    slug = request.path_params.get("slug") if request is not None else None
    return str(slug) if slug else None

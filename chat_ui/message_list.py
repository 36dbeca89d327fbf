"""The message list: a bounded, contiguous window onto a room's history.

It appends live messages instead of re-rendering, loads the page before when the reader
reaches the top (keeping their place), and never holds more than MAX_RENDERED messages:
scrolling far back unloads the newest ones, and the "new messages" button (or scrolling
down again) brings them back from the database.
"""

import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from nicegui import background_tasks, ui
from nicegui.element import Element

from models.message import MessagePage, MessagePublic

MAX_RENDERED = 200
NEAR_TOP_PX = 200
AT_BOTTOM_PX = 80
NAME_COLOURS = ("#4f46e5", "#0891b2", "#059669", "#d97706", "#dc2626", "#db2777", "#7c3aed", "#2563eb")

# Browser-side helpers, sent with run_javascript. NiceGUI applies element updates a frame after
# a script runs, so each one waits (at most two seconds) for the layout it depends on.
_SCROLL_TO_BOTTOM = """
const el = getHtmlElement(%(id)s); if (!el) return;
const until = performance.now() + %(ms)s;
let last = -1;
const step = () => {
  if (last >= 0 && el.scrollTop < last - 2) return;  // the reader scrolled up meanwhile: leave them there
  el.scrollTop = el.scrollHeight; last = el.scrollTop;
  if (performance.now() < until) requestAnimationFrame(step);
};
step();
"""
_ANCHOR_POSITION = """
const el = getHtmlElement(%(id)s), anchor = getHtmlElement(%(anchor)s);
return el && anchor ? [anchor.offsetTop - el.scrollTop, anchor.offsetTop] : null;
"""
_KEEP_ANCHOR_IN_PLACE = """
return new Promise((done) => {
  const el = getHtmlElement(%(id)s), until = performance.now() + 2000;
  const step = () => {
    const anchor = getHtmlElement(%(anchor)s);
    if (el && anchor && anchor.offsetTop !== %(old_offset)s) {
      el.scrollTop = anchor.offsetTop - %(relative)s; return done(true);
    }
    if (performance.now() < until) requestAnimationFrame(step); else done(false);
  };
  step();
});
"""

PageLoader = Callable[[int | None, int | None], Awaitable[MessagePage]]  # (before, after) -> page


class MessageList:
    def __init__(self, *, load: PageLoader, on_image_click: Callable[[str], None], room_name: str) -> None:
        self._load = load
        self._on_image_click = on_image_click
        self._room_name = room_name
        self._rows: dict[int, Element] = {}
        self._ids: list[int] = []  # rendered ids, ascending
        self._has_older = False
        self._at_live_edge = True  # the newest rendered message is the room's newest
        self._at_bottom = True
        self._busy = False
        self._generation = 0
        self._latest_seen = 0  # the highest id announced live, rendered or not
        self._unseen = 0
        self.timezone = ZoneInfo("UTC")

        with ui.element("div").classes("relative flex-1 min-h-0 w-full"):
            self._box = (
                ui.element("div")
                .classes("chat-message-list absolute inset-0 overflow-y-auto py-3")
                .props("data-testid=message-list")
                .mark("message-list")
                .on(
                    "scroll",
                    self._on_scroll,
                    js_handler="(e) => emit({top: e.target.scrollTop, height: e.target.scrollHeight, "
                    "view: e.target.clientHeight})",
                    throttle=0.1,
                )
            )
            with self._box:
                self._top = ui.label("").classes("text-center text-xs text-slate-400 py-3 w-full")
                # One click listener for every thumbnail in the list, rather than one per message.
                self._rows_box = (
                    ui.element("div")
                    .classes("flex flex-col")
                    .on(
                        "click",
                        self._clicked,
                        js_handler="(e) => { if (e.target.dataset.full) emit(e.target.dataset.full); }",
                    )
                )
            self._new_button = (
                ui.button("New messages", icon="arrow_downward", on_click=self.jump_to_latest)
                .props("rounded unelevated no-caps size=sm data-testid=new-messages-button")
                .mark("new-messages-button")
                .classes("absolute bottom-3 left-1/2 -translate-x-1/2 shadow-lg")
            )
            self._new_button.visible = False

    # What the page calls

    @property
    def container(self) -> Element:
        """The scrolling list, for work that must run in this view's context (background tasks)."""
        return self._box

    def show_page(self, page: MessagePage) -> None:
        """Replace everything with this page of the room's newest messages."""
        self._generation += 1  # whatever was loading is now out of date
        self._busy = False
        self._rows_box.clear()
        self._rows.clear()
        self._ids.clear()
        for message in page.messages:
            self._append(message)
        self._has_older = page.has_more
        self._at_live_edge = True
        self._at_bottom = True
        self._unseen = 0
        self._new_button.visible = False
        self._update_top()
        self.scroll_to_bottom()

    def add(self, message: MessagePublic, *, own: bool = False) -> None:
        """A live message: appended where it belongs, followed if the reader is at the bottom
        or sent it. Messages newer than the window only count as unseen until it catches up."""
        self._latest_seen = max(self._latest_seen, message.id)
        if message.id in self._rows:
            return
        if not self._at_live_edge:
            if own:  # the window is far back in history: bring the reader to what they just sent
                background_tasks.create(self.jump_to_latest(), name="jump to the latest", context=self._box)
            else:
                self._note_unseen()
            return
        if self._ids and message.id < self._ids[-1]:
            if message.id > self._ids[0]:
                self._insert(message)  # announced out of order (two instances): put it in its place
            return
        self._append(message)
        if self._at_bottom or own:
            self._trim_oldest()
            self.scroll_to_bottom()
        else:
            self._note_unseen()
            if len(self._ids) > MAX_RENDERED:
                self._drop_newest()

    async def catch_up(self) -> None:
        """After a gap (reconnect, bus resync): fetch whatever is newer than the window's end."""
        if self._at_live_edge:
            await self._fill_to_edge(self._generation, force=True)

    def remove(self, message_id: int) -> None:
        row = self._rows.pop(message_id, None)
        if row is not None:
            self._ids.remove(message_id)
            row.delete()

    def scroll_to_bottom(self, ms: int = 400) -> None:
        self._box.client.run_javascript(_SCROLL_TO_BOTTOM % {"id": self._box.id, "ms": ms})

    async def jump_to_latest(self) -> None:
        if self._at_live_edge:
            self._new_button.visible = False
            self._unseen = 0
            self.scroll_to_bottom()
            return
        self._generation += 1
        generation = self._generation
        page = await self._load(None, None)
        if generation == self._generation:
            self.show_page(page)
            await self._fill_to_edge(self._generation)

    # Loading as the reader scrolls. Every load notes the generation it started in and drops its
    # result if another load (or a jump to the latest) replaced the window meanwhile.

    async def _on_scroll(self, event: object) -> None:
        args = getattr(event, "args", None) or {}
        top, height, view = (float(args.get(key, 0)) for key in ("top", "height", "view"))
        self._at_bottom = top + view >= height - AT_BOTTOM_PX
        if self._at_bottom and self._at_live_edge:
            self._unseen = 0
            self._new_button.visible = False
        if self._busy:
            return
        if top <= NEAR_TOP_PX and self._has_older:
            await self._load_older()
        elif self._at_bottom and not self._at_live_edge:
            await self._load_newer()

    async def _load_older(self) -> None:
        generation = self._generation
        self._busy = True
        try:
            self._top.set_text("Loading earlier messages…")
            anchor = self._rows[self._ids[0]]
            page = await self._load(self._ids[0], None)
            position = await self._anchor_position(anchor)
            if generation != self._generation:
                return
            for index, message in enumerate(page.messages):
                if message.id not in self._rows:
                    self._insert(message, index=index)
            self._has_older = page.has_more
            while len(self._ids) > MAX_RENDERED:
                self._drop_newest()
            self._update_top()
            await self._keep_in_place(anchor, position)
        finally:
            if generation == self._generation:
                self._busy = False

    async def _load_newer(self) -> None:
        generation = self._generation
        self._busy = True
        try:
            page = await self._load(None, self._ids[-1])
            if generation != self._generation:
                return
            fresh = [message for message in page.messages if message.id not in self._rows]
            overflow = max(0, len(self._ids) + len(fresh) - MAX_RENDERED)
            # The first row that stays is the anchor: measured before the change, put back after it.
            anchor = self._rows[self._ids[overflow]] if 0 < overflow < len(self._ids) else None
            position = await self._anchor_position(anchor) if anchor else None
            if generation != self._generation:
                return
            for message in fresh:
                self._append(message)
            for _ in range(overflow):
                self._drop_oldest()
            self._at_bottom = False  # the new rows are below the view
            self._at_live_edge = not page.has_more
            if anchor is not None:
                await self._keep_in_place(anchor, position)
            if self._at_live_edge:
                await self._fill_to_edge(generation)
                self._new_button.visible = self._unseen > 0
        finally:
            if generation == self._generation:
                self._busy = False

    async def _fill_to_edge(self, generation: int, *, force: bool = False) -> None:
        """Load what was announced while the window was away from the newest messages (or,
        with force, whatever exists after its end), so that nothing falls between."""
        while generation == self._generation and self._at_live_edge:
            newest = self._ids[-1] if self._ids else 0
            if not force and self._latest_seen <= newest:
                return
            page = await self._load(None, newest)
            if generation != self._generation:
                return
            for message in page.messages:
                self.add(message)
            if not page.has_more or not page.messages:
                return

    async def _anchor_position(self, anchor: Element) -> list[float] | None:
        try:
            return await self._box.client.run_javascript(
                _ANCHOR_POSITION % {"id": self._box.id, "anchor": anchor.id}, timeout=2
            )
        except TimeoutError:
            return None

    async def _keep_in_place(self, anchor: Element, position: list[float] | None) -> None:
        """Wait until the browser laid out the change, then put the anchor back where the reader saw it."""
        if position is None:
            return
        relative, old_offset = position
        values = {"id": self._box.id, "anchor": anchor.id, "relative": relative, "old_offset": old_offset}
        with contextlib.suppress(TimeoutError):
            await self._box.client.run_javascript(_KEEP_ANCHOR_IN_PLACE % values, timeout=3)

    # The rows

    def _append(self, message: MessagePublic) -> None:
        with self._rows_box:
            self._rows[message.id] = self._render(message)
        self._ids.append(message.id)
        if len(self._ids) == 1:  # the first message of an empty room: "say hello" no longer fits
            self._update_top()

    def _insert(self, message: MessagePublic, index: int | None = None) -> None:
        if index is None:
            index = next(i for i, known in enumerate(self._ids) if known > message.id)
        with self._rows_box:
            row = self._render(message)
        row.move(target_index=index)
        self._rows[message.id] = row
        self._ids.insert(index, message.id)

    def _trim_oldest(self) -> None:
        while len(self._ids) > MAX_RENDERED:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        self._rows.pop(self._ids.pop(0)).delete()
        self._has_older = True
        self._update_top()

    def _drop_newest(self) -> None:
        self._rows.pop(self._ids.pop()).delete()
        self._at_live_edge = False

    def _note_unseen(self) -> None:
        self._unseen += 1
        self._new_button.text = "New messages"
        self._new_button.visible = True

    def _update_top(self) -> None:
        if self._has_older:
            self._top.set_text("Scroll up for earlier messages")
        elif self._ids:
            self._top.set_text(f"This is the beginning of {self._room_name}.")
        else:
            self._top.set_text(f"No messages in {self._room_name} yet. Say hello!")

    def _render(self, message: MessagePublic) -> Element:
        """One message, one element. Every element costs CPU on the server for every viewer of the
        room (about 0.2 ms each; see docs/PERFORMANCE.md), so the row is a single ui.html whose
        content is built here, with every piece of user text escaped: it shows as text, never markup."""
        # A plain element with innerHTML: lighter than ui.html, which adds a component and its own props.
        row = ui.element("div").classes("chat-row grid grid-cols-[auto_1fr] items-baseline gap-x-2 px-4 py-1.5")
        row.props["innerHTML"] = self._row_html(message)
        row.props["data-testid"] = "message"
        row.props["data-message-id"] = str(message.id)
        row.mark("message")
        return row

    def _row_html(self, message: MessagePublic) -> str:
        author = escape(message.author.display_name)
        local = message.created_at.astimezone(self.timezone)
        title, shown = escape(local.strftime("%Y-%m-%d %H:%M:%S %Z")), escape(self._format_time(message.created_at))
        parts = [
            f'<span data-testid="message-author" class="chat-author" style="color: {_name_colour(message.author.id)}">'
            f"{author}</span>",
            f'<time class="chat-time" datetime="{message.created_at.isoformat()}" title="{title}">{shown}</time>',
        ]
        if message.image is not None:
            width, height = _fit(message.image.width, message.image.height)
            parts.append(
                f'<img data-testid="message-image" class="chat-thumb col-span-2 mt-1" '
                f'src="{escape(message.image.thumbnail_url)}" data-full="{escape(message.image.url)}" '
                f'width="{width}" height="{height}" loading="lazy" '
                f'alt="Image from {author}">'
            )
        if message.text:
            parts.append(
                f'<div data-testid="message-text" class="chat-message-text col-span-2">{escape(message.text)}</div>'
            )
        return "".join(parts)

    def _clicked(self, event: object) -> None:
        url = getattr(event, "args", None)
        if isinstance(url, str) and url.startswith("/media/"):
            self._on_image_click(url)

    def _format_time(self, moment: datetime) -> str:
        local = moment.astimezone(self.timezone)
        today = datetime.now(self.timezone).date()
        return local.strftime("%H:%M") if local.date() == today else local.strftime("%b %d, %H:%M")


def _name_colour(guest_id: int) -> str:
    digest = hashlib.blake2s(str(guest_id).encode(), digest_size=1).digest()[0]
    return NAME_COLOURS[digest % len(NAME_COLOURS)]


def _fit(width: int, height: int, box: int = 320) -> tuple[int, int]:
    """Display size of a thumbnail: known up front so the layout never jumps when it loads."""
    scale = min(1.0, box / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))

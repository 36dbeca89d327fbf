"""The message list: a bounded, contiguous window onto a room's history.

It appends live messages instead of re-rendering, loads the page before when the reader
reaches the top (keeping their place), and never holds much more than MAX_RENDERED messages:
scrolling far back unloads the newest ones, and the "new messages" button (or scrolling
down again) brings them back from the database.

What it costs per viewer is what limits how many viewers a process holds, so a live message
is cheap: its HTML is made once per process (chat_ui/message_rows.py) and goes into the last
of a few chunk elements, and following the newest message is done in the browser by an
observer installed once per page, not by a script sent to each viewer with each message.
"""

import bisect
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nicegui import background_tasks, ui
from nicegui.element import Element

from chat_ui.message_rows import row_html
from models.message import MessagePage, MessagePublic

MAX_RENDERED = 200
CHUNK_SIZE = 8  # messages per element: fewer elements per viewer, against resending a chunk's HTML
NEAR_TOP_PX = 200
AT_BOTTOM_PX = 80

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
# Installed once per page: while the list has .chat-follow (the reader is at the newest
# messages), whenever the rows grow or shrink, a reader who was at the bottom stays there.
_FOLLOW = """
const el = getHtmlElement(%(id)s), rows = getHtmlElement(%(rows)s);
if (!el || !rows || el._chatFollower) return;
let height = el.scrollHeight;
el._chatFollower = new ResizeObserver(() => {
  const wasAtBottom = height - el.scrollTop - el.clientHeight <= %(near)s;
  height = el.scrollHeight;
  if (wasAtBottom && el.classList.contains('chat-follow')) {
    el.scrollTop = el.scrollHeight;
    el._chatFollowedTo = el.scrollTop;
  }
});
el._chatFollower.observe(rows);
"""
# Scroll positions go to the server only when it has something to do with them: not for every
# message that the browser follows. While following, a scroll event can come after the next
# message has grown the list but before the follower moved down to it: where the follower left
# the list counts as the bottom, so that such a moment does not stop the following.
_ON_SCROLL = f"""(e) => {{
  const el = e.target, following = el.classList.contains('chat-follow');
  const bottom = el.scrollTop + el.clientHeight >= el.scrollHeight - {AT_BOTTOM_PX};
  const followed = following && el.scrollTop >= (el._chatFollowedTo ?? Infinity) - 2;
  if (followed || (bottom && el._chatAtBottom && following && el.scrollTop > {NEAR_TOP_PX})) return;
  el._chatAtBottom = bottom;
  emit({{top: el.scrollTop, height: el.scrollHeight, view: el.clientHeight}});
}}"""
# One listener for every thumbnail and delete button in the list, rather than one per message.
_ON_CLICK = """(e) => {
  const data = e.target.dataset;
  if (data.full) emit({image: data.full});
  else if (data.delete) emit({delete: Number(data.delete)});
  else if (data.remove) emit({remove: Number(data.remove)});
}"""

PageLoader = Callable[[int | None, int | None], Awaitable[MessagePage]]  # (before, after) -> page


@dataclass(frozen=True)
class RowModeration:
    """What the reader may do to a message from its row; the page does the checking and the doing
    (and the services check again)."""

    may_delete: Callable[[MessagePublic], bool]
    may_remove: Callable[[MessagePublic], bool]  # remove its author from the room
    delete: Callable[[int], Awaitable[None]]  # message id
    remove_author: Callable[[int], Awaitable[None]]  # guest id


class _Chunk(Element, default_classes="chat-chunk flex flex-col"):
    """Consecutive messages as one element; `rows` maps their ids, ascending, to their HTML."""

    def __init__(self) -> None:
        super().__init__("div")
        self.rows: dict[int, str] = {}
        self.mark("message-chunk")

    @property
    def ids(self) -> list[int]:
        return list(self.rows)

    def put(self, message_id: int, html: str) -> None:
        out_of_order = bool(self.rows) and message_id < next(reversed(self.rows))
        self.rows[message_id] = html
        if out_of_order:  # announced late (another instance): keep the rows in id order
            self.rows = dict(sorted(self.rows.items()))
        self.render()

    def render(self) -> None:
        self._props["innerHTML"] = "".join(self.rows.values())


class MessageList:
    def __init__(
        self,
        *,
        load: PageLoader,
        on_image_click: Callable[[str], None],
        room_name: str,
        moderation: RowModeration | None = None,
    ) -> None:
        self._load = load
        self._on_image_click = on_image_click
        self._moderation = moderation
        self._room_name = room_name
        self._chunks: list[_Chunk] = []
        self._chunk_of: dict[int, _Chunk] = {}
        self._ids: list[int] = []  # rendered ids, ascending
        self._has_older = False
        self._at_live_edge = True  # the newest rendered message is the room's newest
        self._at_bottom = True
        self._following = True  # the browser keeps the view at the bottom as messages arrive
        self._busy = False
        self._generation = 0
        self._latest_seen = 0  # the highest id announced live, rendered or not
        self._unseen = 0
        self.timezone = ZoneInfo("UTC")

        with ui.element("div").classes("relative flex-1 min-h-0 w-full"):
            self._box = (
                ui.element("div")
                .classes("chat-message-list chat-follow absolute inset-0 overflow-y-auto py-3")
                .props("data-testid=message-list")
                .mark("message-list")
                .on("scroll", self._on_scroll, js_handler=_ON_SCROLL, throttle=0.1)
            )
            with self._box:
                self._top = ui.label("").classes("text-center text-xs text-slate-400 py-3 w-full")
                self._rows_box = (
                    ui.element("div").classes("flex flex-col").on("click", self._clicked, js_handler=_ON_CLICK)
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
        self._chunks.clear()
        self._chunk_of.clear()
        self._ids.clear()
        for message in page.messages:
            self._append(message)
        self._has_older = page.has_more
        self._at_live_edge = True
        self._at_bottom = True
        self._set_following()
        self._unseen = 0
        self._new_button.visible = False
        self._update_top()
        self._box.client.run_javascript(
            _FOLLOW % {"id": self._box.id, "rows": self._rows_box.id, "near": AT_BOTTOM_PX}
        )  # once per page: the script does nothing when the follower is there already
        self.scroll_to_bottom()

    def add(self, message: MessagePublic, *, own: bool = False) -> None:
        """A live message: appended where it belongs, followed if the reader is at the bottom
        or sent it. Messages newer than the window only count as unseen until it catches up."""
        self._latest_seen = max(self._latest_seen, message.id)
        if message.id in self._chunk_of:
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
            if not self._at_bottom:
                self.scroll_to_bottom()  # the reader's own message, while they were reading further up
        else:
            self._note_unseen()
            self._trim_newest()

    async def catch_up(self) -> None:
        """After a gap (reconnect, bus resync): fetch whatever is newer than the window's end."""
        if self._at_live_edge:
            await self._fill_to_edge(self._generation, force=True)

    def remove(self, message_id: int) -> None:
        chunk = self._chunk_of.pop(message_id, None)
        if chunk is None:
            return
        self._ids.remove(message_id)
        del chunk.rows[message_id]
        if chunk.rows:
            chunk.render()
        else:
            self._chunks.remove(chunk)
            chunk.delete()

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
        self._set_following()
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
            anchor = self._chunks[0]
            page = await self._load(self._ids[0], None)
            position = await self._anchor_position(anchor)
            if generation != self._generation:
                return
            self._prepend(page.messages)
            self._has_older = page.has_more
            self._trim_newest()
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
            fresh = [message for message in page.messages if message.id not in self._chunk_of]
            # Chunks above will go: the newest chunk now is the anchor, measured before and put back after.
            oldest = self._chunks[0]
            drops = len(self._chunks) > 1 and len(self._ids) + len(fresh) - len(oldest.rows) >= MAX_RENDERED
            anchor = self._chunks[-1] if drops else None
            position = await self._anchor_position(anchor) if anchor else None
            if generation != self._generation:
                return
            for message in fresh:
                self._append(message)
            self._trim_oldest()
            self._at_bottom = False  # the new rows are below the view
            self._at_live_edge = not page.has_more
            self._set_following()
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

    def _set_following(self) -> None:
        """The browser follows new messages (_FOLLOW) while the reader is at the live edge's bottom."""
        following = self._at_live_edge and self._at_bottom
        if following != self._following:
            self._following = following
            self._box.classes(add="chat-follow") if following else self._box.classes(remove="chat-follow")

    # The rows, in chunks of up to CHUNK_SIZE messages: one element each, whose HTML is the rows'.

    def _append(self, message: MessagePublic) -> None:
        last = self._chunks[-1] if self._chunks else None
        if last is None or len(last.rows) >= CHUNK_SIZE:
            with self._rows_box:
                last = _Chunk()
            self._chunks.append(last)
        self._add_to(last, message)
        self._ids.append(message.id)
        if len(self._ids) == 1:  # the first message of an empty room: "say hello" no longer fits
            self._update_top()

    def _prepend(self, messages: list[MessagePublic]) -> None:
        """An older page (oldest first), above everything shown."""
        fresh = [message for message in messages if message.id not in self._chunk_of]
        for index, start in enumerate(range(0, len(fresh), CHUNK_SIZE)):
            with self._rows_box:
                chunk = _Chunk()
            chunk.move(target_index=index)
            self._chunks.insert(index, chunk)
            for message in fresh[start : start + CHUNK_SIZE]:
                self._add_to(chunk, message)
        self._ids[:0] = [message.id for message in fresh]

    def _insert(self, message: MessagePublic) -> None:
        """A message older than the newest shown (announced out of order): into the chunk where it belongs."""
        chunk = next(chunk for chunk in self._chunks if chunk.ids[-1] > message.id)
        self._add_to(chunk, message)
        bisect.insort(self._ids, message.id)

    def _add_to(self, chunk: _Chunk, message: MessagePublic) -> None:
        moderation = self._moderation
        deletable = moderation is not None and moderation.may_delete(message)
        removable = moderation is not None and moderation.may_remove(message)
        chunk.put(message.id, row_html(message, self.timezone, deletable=deletable, removable=removable))
        self._chunk_of[message.id] = chunk

    def _trim_oldest(self) -> None:
        """Whole chunks go, so that the chunks that stay are not sent again."""
        while len(self._chunks) > 1 and len(self._ids) - len(self._chunks[0].rows) >= MAX_RENDERED:
            self._drop_chunk(0)
            self._has_older = True
            self._update_top()

    def _trim_newest(self) -> None:
        while len(self._chunks) > 1 and len(self._ids) - len(self._chunks[-1].rows) >= MAX_RENDERED:
            self._drop_chunk(-1)
            self._at_live_edge = False
            self._set_following()

    def _drop_chunk(self, index: int) -> None:
        chunk = self._chunks.pop(index)
        dropped = set(chunk.rows)
        self._ids = [known for known in self._ids if known not in dropped]
        for message_id in dropped:
            del self._chunk_of[message_id]
        chunk.delete()

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

    async def _clicked(self, event: object) -> None:
        args = getattr(event, "args", None)
        if not isinstance(args, dict):
            return
        image, delete, remove = args.get("image"), args.get("delete"), args.get("remove")
        if isinstance(image, str) and image.startswith("/media/"):
            self._on_image_click(image)
        elif self._moderation is None:
            return
        elif isinstance(delete, int) and delete in self._chunk_of:
            await self._moderation.delete(delete)
        elif isinstance(remove, int):
            await self._moderation.remove_author(remove)

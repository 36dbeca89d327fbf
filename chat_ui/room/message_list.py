"""The message list: a bounded, contiguous window onto a room's history, without a script.

The browser does the scrolling work by itself:
- The list is a `flex-direction: column-reverse` scroller, whose scroll origin is its bottom. A
  new list starts at the bottom; older messages added at the top never move what the reader
  sees; and a reader at the bottom stays there as messages arrive (the class `chat-follow` turns
  scroll anchoring off while they are). A reader further up keeps their place by the browser's
  scroll anchoring when messages arrive or are unloaded below them.
- Where the reader is comes from invisible strips along the edges of the history (Quasar's
  QIntersection, the browser's IntersectionObserver): near the top loads the page before, near
  the bottom of a window far back loads the page after, and at the very bottom means following.
  They report only when that changes, so a scrolling reader costs the server nothing else.
- Scrolling to the newest message (the "new messages" button, or the reader's own message sent
  while reading further up) mounts the scroller afresh (a new Vue key), which starts at its origin.

The window never holds much more than MAX_RENDERED messages: scrolling far back unloads the
newest ones, and the "new messages" button (or scrolling down again) brings them back.

What it costs per viewer limits how many viewers a process holds, so a live message is cheap:
its HTML is made once per process (message_rows.py) and goes into the last of a few chunk
elements.
"""

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from nicegui import background_tasks, events, ui
from nicegui.element import Element

from chat_ui.room.message_rows import COMMAND_TARGET, row_html
from models.message import MessagePage, MessagePublic

log = logging.getLogger(__name__)
MAX_RENDERED = 200
CHUNK_SIZE = 8  # messages per element: fewer elements per viewer, against resending a chunk's HTML
NEAR_EDGE_PX = 600  # the next page loads while the reader is still this far from the window's edge
COMMAND = re.compile(r"--(delete|remove)-(\d{1,18})")

PageLoader = Callable[[int | None, int | None], Awaitable[MessagePage]]  # (before, after) -> page


@dataclass(frozen=True)
class RowActions:
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
    def first_id(self) -> int:
        return next(iter(self.rows))

    @property
    def last_id(self) -> int:
        return next(reversed(self.rows))

    def put(self, message_id: int, html: str) -> None:
        out_of_order = bool(self.rows) and message_id < self.last_id
        self.rows[message_id] = html
        if out_of_order:  # announced late (another instance): keep the rows in id order
            self.rows = dict(sorted(self.rows.items()))
        self.render()

    def render(self) -> None:
        self._props["innerHTML"] = "".join(self.rows.values())


class _EdgeWatcher(Element):
    """An invisible strip along one edge of the history that reports when it comes into view and
    when it leaves (QIntersection: the browser's IntersectionObserver, no script of ours)."""

    def __init__(self, edge: str, height_px: int, on_change: Callable[[bool], Any]) -> None:
        super().__init__("q-intersection")
        self.style(f"position: absolute; {edge}: 0; left: 0; width: 1px; height: {height_px}px; pointer-events: none")
        self.classes("chat-no-anchor")
        self.on("visibility", lambda event: on_change(bool(event.args)))


class MessageList:
    def __init__(self, *, load: PageLoader, room_name: str, actions: RowActions | None = None) -> None:
        self._load = load
        self._room_name = room_name
        self._actions = actions
        self._chunks: list[_Chunk] = []
        self._has_older = False
        self._at_live_edge = True  # the newest rendered message is the room's newest
        self._at_bottom = True  # the reader is at the very bottom of the window
        self._busy = False  # a page is loading
        self._generation = 0  # changes whenever the window is replaced: later loads drop their results
        self._newest_announced = 0  # the highest id announced live, rendered or not
        self._read_up_to = 0  # the newest id the reader has had in view at the bottom
        self._mounts = 0  # scrollers mounted so far (see _scroll_to_bottom)
        self._watchers: tuple[_EdgeWatcher, ...] = ()
        self.timezone = ZoneInfo("UTC")
        with ui.element("div").classes("relative flex-1 min-h-0 w-full"):
            self._box = (
                ui.element("div")
                .classes("chat-message-list chat-follow absolute inset-0 flex flex-col-reverse overflow-y-auto")
                .props(f"id={COMMAND_TARGET} data-testid=message-list")
                .mark("message-list")
                .on("command", self._command, args=["command"])
            )
            with self._box, ui.element("div").classes("relative shrink-0 flex flex-col py-3") as self._history:
                self._top = ui.label("").classes("chat-no-anchor text-center text-xs text-slate-400 py-3 w-full")
                self._rows = ui.element("div").classes("flex flex-col")
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
        self._rows.clear()
        self._chunks.clear()
        for message in page.messages:
            self._append(message)
        self._has_older = page.has_more
        self._at_live_edge = True
        self._at_bottom = True
        newest = self._newest_id()
        self._newest_announced = max(self._newest_announced, newest)
        self._read_up_to = newest
        self._set_following()
        self._update_new_button()
        self._update_top()
        self._watch_edges()  # placed with the rows, so that their first report is about these

    def add(self, message: MessagePublic, *, own: bool = False) -> None:
        """A live message: appended where it belongs, followed if the reader is at the bottom or
        sent it. Messages newer than a window far back are only announced until it catches up."""
        self._newest_announced = max(self._newest_announced, message.id)
        if not self._at_live_edge:
            if own:  # far back in history: bring the reader to what they just sent
                background_tasks.create(self.jump_to_latest(), name="jump to the latest", context=self._box)
            self._update_new_button()
            return
        if self._chunks and message.id <= self._newest_id():
            if message.id > self._oldest_id() and self._chunk_with(message.id) is None:
                self._insert(message)  # announced out of order (two instances): put it in its place
            return
        self._append(message)
        if self._at_bottom or own:
            self._read_up_to = message.id
            self._trim_oldest()
            if not self._at_bottom:
                self._scroll_to_bottom()  # the reader's own message, while they were reading further up
        else:
            self._trim_newest()
        self._update_new_button()

    def remove(self, message_id: int) -> None:
        chunk = self._chunk_with(message_id)
        if chunk is None:
            return
        del chunk.rows[message_id]
        if chunk.rows:
            chunk.render()
        else:
            self._chunks.remove(chunk)
            chunk.delete()

    async def catch_up(self) -> None:
        """After a gap (reconnect, bus resync): fetch whatever is newer than the window's end."""
        if self._at_live_edge:
            await self._fill_to_edge(self._generation, force=True)

    async def jump_to_latest(self) -> None:
        if self._at_live_edge:
            self._scroll_to_bottom()
            return
        self._generation += 1
        generation = self._generation
        page = await self._load(None, None)
        if generation == self._generation:
            self.show_page(page)
            self._scroll_to_bottom()
            await self._fill_to_edge(self._generation)

    # What the browser reports

    def _at_top_changed(self, visible: bool) -> None:
        if visible and self._has_older:
            background_tasks.create(self._load_older(), name="load earlier messages", context=self._box)

    def _near_bottom_changed(self, visible: bool) -> None:
        if visible and not self._at_live_edge:
            background_tasks.create(self._load_newer(), name="load later messages", context=self._box)

    def _at_bottom_changed(self, visible: bool) -> None:
        self._at_bottom = visible
        if visible:
            self._read_up_to = max(self._read_up_to, self._newest_id())
        self._set_following()
        self._update_new_button()

    async def _command(self, event: events.GenericEventArguments) -> None:
        """A row's button: `--delete-<message id>` or `--remove-<author id>`."""
        command = event.args.get("command") if isinstance(event.args, dict) else None
        match = COMMAND.fullmatch(command) if isinstance(command, str) else None
        if match is None or self._actions is None:
            return
        action, number = match.group(1), int(match.group(2))
        if action == "delete" and self._chunk_with(number) is not None:
            await self._actions.delete(number)
        elif action == "remove":
            await self._actions.remove_author(number)

    # Loading as the reader scrolls. Every load notes the generation it started in and drops its
    # result if another load (or a jump to the latest) replaced the window meanwhile. A strip that
    # is watched afresh after a load reports again if the reader is still there.

    async def _load_older(self) -> None:
        if self._busy or not self._has_older or not self._chunks:
            return
        generation, self._busy = self._generation, True
        self._top.set_text("Loading earlier messages…")
        try:
            page = await self._load(self._oldest_id(), None)
        except Exception:
            log.exception("could not load earlier messages")
            self._top.set_text("Earlier messages could not be loaded. Scroll down and up to try again.")
            self._busy = False
            return
        if generation != self._generation:
            return
        self._prepend(page.messages)
        self._has_older = page.has_more
        self._trim_newest()
        self._update_top()
        self._busy = False
        self._watch_edges()

    async def _load_newer(self) -> None:
        if self._busy or self._at_live_edge or not self._chunks:
            return
        generation, self._busy = self._generation, True
        try:
            page = await self._load(None, self._newest_id())
        except Exception:
            log.exception("could not load later messages")
            self._busy = False
            return
        if generation != self._generation:
            return
        for message in page.messages:
            if message.id > self._newest_id():
                self._append(message)
        self._trim_oldest()
        self._at_live_edge = not page.has_more
        if self._at_live_edge:
            await self._fill_to_edge(generation)
        self._set_following()
        self._update_new_button()
        self._busy = False
        self._watch_edges()

    async def _fill_to_edge(self, generation: int, *, force: bool = False) -> None:
        """Load what was announced while the window was away from the newest messages (or,
        with force, whatever exists after its end), so that nothing falls between."""
        while generation == self._generation and self._at_live_edge:
            newest = self._newest_id()
            if not force and self._newest_announced <= newest:
                return
            page = await self._load(None, newest)
            if generation != self._generation:
                return
            for message in page.messages:
                self.add(message)
            if not page.has_more or not page.messages:
                return

    # The view

    def _watch_edges(self) -> None:
        """(Re)place the strips that report the reader's position; new ones report where the
        reader is now, which a strip that stayed in view would not say again."""
        for watcher in self._watchers:
            watcher.delete()
        with self._history:
            self._watchers = (
                _EdgeWatcher("top", NEAR_EDGE_PX, self._at_top_changed),
                _EdgeWatcher("bottom", NEAR_EDGE_PX, self._near_bottom_changed),
                _EdgeWatcher("bottom", 2, self._at_bottom_changed),  # the browser follows only at the very bottom
            )

    def _scroll_to_bottom(self) -> None:
        """Mount the scroller afresh: a new one starts at its origin, the bottom."""
        self._mounts += 1
        self._box.props(f"key=messages-{self._mounts}")
        self._at_bottom = True
        self._read_up_to = max(self._read_up_to, self._newest_id())
        self._set_following()
        self._update_new_button()

    def _set_following(self) -> None:
        """While the reader is at the bottom of the newest messages, scroll anchoring is off, so the
        browser keeps them at the bottom as messages arrive; elsewhere it keeps their place."""
        following = self._at_live_edge and self._at_bottom
        if following != ("chat-follow" in self._box.classes):
            self._box.classes(add="chat-follow") if following else self._box.classes(remove="chat-follow")

    def _update_new_button(self) -> None:
        waiting = self._newest_announced > self._read_up_to and not (self._at_live_edge and self._at_bottom)
        if self._new_button.visible != waiting:
            self._new_button.visible = waiting

    def _update_top(self) -> None:
        if self._has_older:
            text = "Scroll up for earlier messages"
        elif self._chunks:
            text = f"This is the beginning of {self._room_name}."
        else:
            text = f"No messages in {self._room_name} yet. Say hello!"
        if self._top.text != text:
            self._top.set_text(text)

    # The rows, in chunks of up to CHUNK_SIZE messages: one element each, whose HTML is the rows'.

    def _newest_id(self) -> int:
        """The newest rendered message's id; 0 while none is."""
        return self._chunks[-1].last_id if self._chunks else 0

    def _oldest_id(self) -> int:
        return self._chunks[0].first_id if self._chunks else 0

    def _count(self) -> int:
        return sum(len(chunk.rows) for chunk in self._chunks)

    def _chunk_with(self, message_id: int) -> _Chunk | None:
        return next((chunk for chunk in self._chunks if message_id in chunk.rows), None)

    def _append(self, message: MessagePublic) -> None:
        last = self._chunks[-1] if self._chunks else None
        if last is None or len(last.rows) >= CHUNK_SIZE:
            with self._rows:
                last = _Chunk()
            self._chunks.append(last)
        self._put(last, message)
        if len(self._chunks) == 1 and len(last.rows) == 1:  # an empty room's first message: "say hello" goes
            self._update_top()

    def _prepend(self, messages: list[MessagePublic]) -> None:
        """An older page (oldest first), above everything shown."""
        oldest = self._oldest_id()
        fresh = [message for message in messages if message.id < oldest]
        for index, start in enumerate(range(0, len(fresh), CHUNK_SIZE)):
            with self._rows:
                chunk = _Chunk()
            chunk.move(target_index=index)
            self._chunks.insert(index, chunk)
            for message in fresh[start : start + CHUNK_SIZE]:
                self._put(chunk, message)

    def _insert(self, message: MessagePublic) -> None:
        """A message older than the newest shown (announced out of order): into the chunk where it belongs."""
        self._put(next(chunk for chunk in self._chunks if chunk.last_id > message.id), message)

    def _put(self, chunk: _Chunk, message: MessagePublic) -> None:
        actions = self._actions
        deletable = actions is not None and actions.may_delete(message)
        removable = actions is not None and actions.may_remove(message)
        chunk.put(message.id, row_html(message, self.timezone, deletable=deletable, removable=removable))

    def _trim_oldest(self) -> None:
        """Whole chunks go, so that the chunks that stay are not sent again."""
        while len(self._chunks) > 1 and self._count() - len(self._chunks[0].rows) >= MAX_RENDERED:
            self._chunks.pop(0).delete()
            self._has_older = True
            self._update_top()

    def _trim_newest(self) -> None:
        while len(self._chunks) > 1 and self._count() - len(self._chunks[-1].rows) >= MAX_RENDERED:
            self._chunks.pop().delete()
            self._at_live_edge = False
            self._set_following()

"""The message list: a bounded, contiguous window onto a room's history, without a script.

The browser does the scrolling work by itself:
- The list is a `flex-direction: column-reverse` scroller, whose scroll origin is its bottom. A
  new list starts at the bottom; older messages added at the top never move what the reader
  sees; and a reader at the bottom stays there as messages arrive (the class `chat-follow` turns
  scroll anchoring off while they are). A reader further up keeps their place by the browser's
  scroll anchoring when messages arrive or are unloaded below them.
- Where the reader is comes from invisible strips of the history (Quasar's QIntersection, the
  browser's IntersectionObserver): near the top loads the page before, near the bottom of a window
  far back loads the page after, and two say whether the reader is at the very bottom (following):
  a 2 px strip at the bottom, and one covering everything above the bottom screenful, which is in
  view exactly while the reader is scrolled up. They report only when that changes, so a scrolling
  reader costs the server nothing else.
- A link to a message (`?message=ID`, a search result's) or a click on a reply's quote shows a
  window around it: the browser scrolls to its row as the page's fragment (`#message-<id>`), and
  the row stays marked until the reader jumps to the latest or sends.
- Scrolling to the newest message (the "new messages" button, or the reader's own message sent
  while reading further up) mounts the scroller afresh (a new Vue key), which starts at its origin.
  A message of one's own is always shown at the bottom, so it is in view whole unless it is taller
  than the list.
- The "new messages" button counts the messages from others that arrived while the reader was not
  following; the list is an ARIA log, and a polite live region beside it reads out what others say.

The window never holds much more than MAX_RENDERED messages: scrolling far back unloads the
newest ones, and the "new messages" button (or scrolling down again) brings them back.

What it costs per viewer limits how many viewers a process holds, so a live message is cheap:
its HTML is made once per process (message_rows.py) and goes into the last of a few chunk
elements.
"""

import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from nicegui import background_tasks, events, ui
from nicegui.element import Element

from chat_ui import theme
from chat_ui.notices import notify
from chat_ui.room.markdown import plain_text
from chat_ui.room.message_rows import (
    COMMAND_TARGET,
    RowView,
    continues,
    day_label,
    emoji_from_code,
    local_day,
    render_row,
)
from models.guest import GuestPublic
from models.message import REPLY_QUOTE_MAX, MessagePage, MessagePublic, MessageWindow, ReplyQuote

log = logging.getLogger(__name__)

LIST_CSS = """
/* The scroller is a size container, so that a strip of the history can be placed a screenful above
   its bottom (100cqh); the strips are clipped to the history, never making it scrollable. */
.chat-message-list { container-type: size; }
.chat-list-edges { position: absolute; inset: 0; overflow: clip; pointer-events: none; }
/* "3 new messages ↓": the brand's fill, floating over the newest rows, easy to see in both themes. */
.chat-new-messages { position: absolute; bottom: .75rem; left: 50%; transform: translateX(-50%); z-index: 3;
  background: var(--chat-accent-fill); color: var(--chat-on-accent); font-weight: 600; font-size: .8125rem;
  padding: .375rem .875rem .375rem 1rem; min-height: 2.25rem; white-space: nowrap;
  box-shadow: 0 1px 3px var(--chat-shadow), 0 8px 24px var(--chat-shadow);
  animation: chat-new-messages-in .18s ease-out; }
.chat-new-messages .q-icon { font-size: 1.125rem; margin-left: .375rem; }
.chat-new-messages:hover { filter: brightness(1.08); }
@keyframes chat-new-messages-in { from { opacity: 0; transform: translate(-50%, .5rem); } }
@media (hover: none) { .chat-new-messages { min-height: 2.5rem; } }  /* a finger's target */
@media (prefers-reduced-motion: reduce) { .chat-new-messages { animation: none; } }
/* Read by screen readers, not shown. */
.chat-sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
"""
MAX_RENDERED = 200
# Messages per element. A live message re-sends its chunk's HTML, but smaller chunks cost more than
# they save: an element costs ~4 KB per viewer and ~0.2 ms to make, while compression turns the
# rows the last frame already held into a few bytes (docs/PERFORMANCE.md, #17).
CHUNK_SIZE = 8
NEAR_EDGE_PX = 600  # the next page loads while the reader is still this far from the window's edge
# The reader is away from the bottom while this strip is in view: from the history's top down to
# 2 px above the bottom screenful (100cqh: the scroller's height, a size container). Its top lies
# above the clipping box, so a history shorter than the screen leaves nothing of it to see.
AWAY_FROM_BOTTOM = "top: -4px; bottom: calc(100cqh + 2px)"
ANNOUNCED_CHARS = 140  # what the live region reads of a message
REANNOUNCE = "\u200b"  # an invisible change, so that the same words twice are read out twice
COMMAND = re.compile(r"--(delete|remove|edit|reply|react|menu|jump)-(\d{1,18})")
TOGGLE = re.compile(r"--toggle-(\d{1,18})-([0-9a-f_]{1,120})")

PageLoader = Callable[[int | None, int | None], Awaitable[MessagePage]]  # (before, after) -> page
WindowLoader = Callable[[int], Awaitable[MessageWindow | None]]  # message id -> around it; None: it is gone


@dataclass(frozen=True)
class RowActions:
    """What the reader may do to a message from its row; the page does the checking and the doing
    (and the services check again)."""

    may_delete: Callable[[MessagePublic], bool]
    may_remove: Callable[[MessagePublic], bool]  # remove its author from the room
    delete: Callable[[int], Awaitable[None]]  # message id
    remove_author: Callable[[int], Awaitable[None]]  # guest id
    # Conversation (CONTRACT §6); each may be async or not. Missing ones leave their buttons inert.
    may_edit: Callable[[MessagePublic], bool] = lambda message: False  # the reader's own
    edit: Callable[[MessagePublic], Awaitable[None] | None] | None = None  # open the editor on it
    reply: Callable[[MessagePublic], Awaitable[None] | None] | None = None  # quote it in the composer
    react: Callable[[int], Awaitable[None] | None] | None = None  # message id: open the reaction picker
    toggle_reaction: Callable[[int, str], Awaitable[None] | None] | None = None  # message id, emoji
    # The row's "⋯" button (touch screens): a menu of what the reader may do to the message.
    menu: Callable[[MessagePublic], Awaitable[None] | None] | None = None


class _Chunk(Element, default_classes="chat-chunk flex flex-col"):
    """Consecutive messages as one element; `messages` maps their ids, ascending, to the messages.
    Its HTML is made by the list (a row depends on the row before it) and sent only when it changed."""

    def __init__(self) -> None:
        super().__init__("div")
        self.messages: dict[int, MessagePublic] = {}
        self.rows: list[str] = []  # the HTML of each message's row, as last shown
        self.html = ""
        self.mark("message-chunk")

    @property
    def first_id(self) -> int:
        return next(iter(self.messages))

    @property
    def last_id(self) -> int:
        return next(reversed(self.messages))

    @property
    def last(self) -> MessagePublic:
        return self.messages[self.last_id]

    def put(self, message: MessagePublic) -> None:
        out_of_order = bool(self.messages) and message.id < self.last_id
        self.messages[message.id] = message
        if out_of_order:  # announced late (another instance): keep the rows in id order
            self.messages = dict(sorted(self.messages.items()))
            self.rows = []  # not in step with the messages any more: rendered whole next time

    def show(self, html: str) -> None:
        if html != self.html:
            self.html = html
            # Kept out of the observable props: their change handling cost ~30 µs per viewer per
            # message, where this is one entry in the outbox.
            self.update()

    def _to_dict(self) -> dict[str, Any]:
        data = super()._to_dict()
        data["props"] = {**data.get("props", {}), "innerHTML": self.html}
        return data


class _Announcer(Element, default_classes="chat-sr-only"):
    """A polite live region: screen readers read out each new text. Its text is set as the
    element's own, not through a bindable property (~50 µs less per viewer per message)."""

    def __init__(self) -> None:
        super().__init__("div")
        self._props.update({"aria-live": "polite", "aria-atomic": "true", "data-testid": "message-announcer"})
        self.said = ""

    def say(self, text: str) -> None:
        self.said = self._text = text
        self.update()


class _EdgeWatcher(Element):
    """An invisible strip of the history that reports when it comes into view and when it leaves
    (QIntersection: the browser's IntersectionObserver, no script of ours). Its first report comes
    only if it starts in view: QIntersection starts as hidden and reports changes only."""

    def __init__(self, place: str, on_change: Callable[[bool], Any]) -> None:
        super().__init__("q-intersection")
        self.style(f"position: absolute; left: 0; width: 1px; {place}")
        self.on("visibility", lambda event: on_change(bool(event.args)))


class MessageList:
    def __init__(
        self,
        *,
        load: PageLoader,
        load_around: WindowLoader,
        room_name: str,
        actions: RowActions | None = None,
        reader_id: int = 0,
    ) -> None:
        self._load, self._load_around = load, load_around
        self._room_name = room_name
        self._actions = actions
        self._chunks: list[_Chunk] = []
        self._before_first: MessagePublic | None = None  # the message just above the window, if known
        # Rows that were the window's first when older ones loaded above them: they keep their
        # header, because hiding it would shrink the row under the reader and move their place.
        self._kept_headers: set[int] = set()
        self._has_older = False
        self._at_live_edge = True  # the newest rendered message is the room's newest
        self._at_bottom = True  # the reader is at the very bottom of the window
        self._busy = False  # a page is loading
        self._generation = 0  # changes whenever the window is replaced: later loads drop their results
        self._newest_announced = 0  # the highest id announced live, rendered or not
        self._read_up_to = 0  # the newest id the reader has had in view at the bottom
        self._mounts = 0  # scrollers mounted so far (see _scroll_to_bottom)
        self._watchers: tuple[_EdgeWatcher, ...] = ()
        self._names: dict[int, str] = {}  # display names by guest id: members (set_names) and authors seen
        self._divider_id: int | None = None  # the first unread message when the page opened
        # The message a link or a quote led to: marked until the reader moves on (the newest, or a send).
        self._marked: int | None = None
        # Messages from others that arrived while the reader was not following (the button's count).
        self._waiting: set[int] = set()
        self._spoken_id = 0  # the newest message the live region has announced
        self._reader_id = 0
        self.timezone = ZoneInfo("UTC")
        self.on_read: Callable[[int], None] | None = None  # the newest id read at the live edge, as it grows
        self.on_unmarked: Callable[[], None] | None = None  # the reader moved on from the marked message
        self._build()
        self.reader_id = reader_id

    def _build(self) -> None:
        with ui.element("div").classes("relative flex-1 min-h-0 w-full"):
            # A log (ARIA) whose own announcing is off: a live row re-renders its whole chunk, which
            # would be read out again; the announcer below says what is new instead.
            self._box = (
                ui.element("div")
                .classes("chat-message-list chat-follow absolute inset-0 flex flex-col-reverse overflow-y-auto")
                .props(f"id={COMMAND_TARGET} data-testid=message-list role=log aria-live=off")
                .mark("message-list")
                .on("command", self._command, args=["command"])
            )
            self._box.props["aria-label"] = self._list_label()  # any name: not parsed as a props string
            # The bottom padding is small, so that a long message of one's own fits whole (issue #15).
            with self._box, ui.element("div").classes("relative shrink-0 flex flex-col pt-3 pb-2") as self._history:
                self._top = ui.label("").classes("chat-no-anchor chat-faint text-center text-xs py-3 w-full")
                self._rows = ui.element("div").classes("flex flex-col")
                # The strips that report where the reader is, clipped to the history (see LIST_CSS).
                self._edges = ui.element("div").classes("chat-list-edges chat-no-anchor")
            with self._edges:
                _EdgeWatcher("bottom: 0; height: 2px", self._at_bottom_changed)  # the browser follows only here
                _EdgeWatcher(AWAY_FROM_BOTTOM, self._away_changed)
            self._new_button = (
                ui.button("", on_click=self.jump_to_latest, color=None)
                .props("rounded unelevated no-caps icon-right=arrow_downward data-testid=new-messages-button")
                .mark("new-messages-button")
                .classes("chat-new-messages")
            )
            self._new_button.visible = False
        # Read out by screen readers (politely) when someone else's message arrives.
        self._announcer = _Announcer()

    # What the page calls

    def set_room_name(self, name: str) -> None:
        """The room was renamed: the list's name for screen readers and its top line follow."""
        if name != self._room_name:
            self._room_name = name
            self._box.props["aria-label"] = self._list_label()  # an observable: sent by itself
            self._update_top()

    def _list_label(self) -> str:
        return f"Messages in {self._room_name}"

    def message(self, message_id: int) -> MessagePublic | None:
        """The message as the list shows it now (edited, renamed), or None once it is gone."""
        chunk = self._chunk_with(message_id)
        return chunk.messages[message_id] if chunk is not None else None

    @property
    def container(self) -> Element:
        """The scrolling list, for work that must run in this view's context (background tasks)."""
        return self._box

    @property
    def reader_id(self) -> int:
        return self._reader_id

    @reader_id.setter
    def reader_id(self, guest_id: int) -> None:
        """Who reads: rows mentioning them are marked, and one CSS rule of this page highlights their
        own reactions (the chips list who reacted), so the rows' HTML stays shared by every reader."""
        if guest_id == self._reader_id:
            return
        self._reader_id = guest_id
        if guest_id:
            with self._box:
                ui.add_css(theme.own_reaction_css(guest_id))
        self._render_all()

    def set_names(self, names: Mapping[int, str] | Iterable[GuestPublic]) -> None:
        """Current display names by guest id (the room's members), for mentions, reaction tooltips,
        authors and quotes. Names learnt from messages are kept (a reactor need not be a member);
        only rows that show a name that changed are rendered again."""
        fresh = dict(names) if isinstance(names, Mapping) else _names_of(names)
        changed = {guest for guest, name in fresh.items() if self._names.get(guest) != name}
        if changed:
            self._names.update(fresh)
            self._render_where(lambda message: not changed.isdisjoint(_shown_guests(message)))

    def show_page(self, page: MessagePage, *, unread_after: int | None = None) -> None:
        """Replace everything with this page of the room's newest messages; with `unread_after`
        (the reader's last read message), a "New" divider goes above the first one after it,
        unless the reader wrote that one. The divider stays until the page is opened again."""
        self._divider_id = self._first_unread(page.messages, unread_after)
        self._show_window(page.messages, has_older=page.has_more, live=True)

    def show_around(self, window: MessageWindow, message_id: int, *, unread_after: int | None = None) -> None:
        """Replace everything with this window around a message (a link to it: ?message=ID), the
        message in view and marked. Scrolling loads more either way, and "Jump to latest" leads to
        the newest messages. The unread divider goes where the reader stopped reading if that is in
        the window, never on its first row while older ones exist (it would stand among unread ones)."""
        divider = self._first_unread(window.messages, unread_after)
        self._divider_id = None if window.has_more and divider == window.messages[0].id else divider
        self._marked = message_id  # drawn with the rows
        self._show_window(window.messages, has_older=window.has_more, live=not window.has_newer, at_bottom=False)
        self._bring_into_view(message_id)

    def _first_unread(self, messages: list[MessagePublic], unread_after: int | None) -> int | None:
        """Where the "New" divider goes: the first message after the reader's last read one,
        unless the reader wrote it."""
        first = next((m for m in messages if unread_after is not None and m.id > unread_after), None)
        return None if first is None or first.author.id == self._reader_id else first.id

    def add(self, message: MessagePublic, *, own: bool = False) -> None:
        """A live message: appended where it belongs, followed if the reader is at the bottom or
        sent it. Messages newer than a window far back are only announced until it catches up."""
        self._newest_announced = max(self._newest_announced, message.id)
        self._learn_name(message)
        if own:  # the reader has moved on from where a link led them
            self._unmark()
        if not own and message.id > self._spoken_id:  # once each, and not what catching up brings again
            self._spoken_id = message.id
            self._announce(message)
            if not self._following and message.id > self._read_up_to:
                self._waiting.add(message.id)
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
            self._read(message.id)
            self._trim_oldest()
            if not self._at_bottom:
                self._scroll_to_bottom()  # the reader's own message, while they were reading further up
        else:
            self._trim_newest()
        self._update_new_button()

    def update(self, message: MessagePublic) -> None:
        """A message was edited or its reactions changed: its row shows it, and so do the quotes
        of the replies to it."""
        self._learn_name(message)
        chunk = self._chunk_with(message.id)
        if chunk is not None:
            chunk.messages[message.id] = message
            self._render(chunk)
        quote_text = message.text[:REPLY_QUOTE_MAX]
        self._requote(message.id, lambda quote: quote.model_copy(update={"text": quote_text, "author": message.author}))

    def remove(self, message_id: int) -> None:
        """A deleted message goes; the row after it regroups, and quotes of it say it was deleted."""
        if message_id in self._waiting:  # no longer waiting below
            self._waiting.discard(message_id)
            self._update_new_button()
        chunk = self._chunk_with(message_id)
        if chunk is not None:
            index = self._chunks.index(chunk)
            del chunk.messages[message_id]
            if not chunk.messages:
                self._chunks.remove(chunk)
                chunk.delete()
            for later in self._chunks[index : index + 2]:  # its own chunk (if any is left) and the next
                self._render(later)
        self._requote(message_id, lambda quote: quote.model_copy(update={"text": "", "deleted": True}))

    async def catch_up(self) -> None:
        """After a gap (reconnect, bus resync): fetch whatever is newer than the window's end."""
        if self._at_live_edge:
            await self._fill_to_edge(self._generation, force=True)

    async def jump_to_latest(self) -> None:
        self._unmark()
        if self._at_live_edge:
            self._scroll_to_bottom()
            return
        self._generation += 1
        generation = self._generation
        page = await self._load(None, None)
        if generation == self._generation:
            self._show_window(page.messages, has_older=page.has_more, live=True)
            self._scroll_to_bottom()
            await self._fill_to_edge(self._generation)

    async def jump_to(self, message_id: int) -> None:
        """Show a message (a reply's quote was clicked): scroll to it if it is rendered; else load a
        window around it first (which may not reach the live edge: "Jump to latest" leads back).
        Either way it is marked until the reader moves on."""
        if self._chunk_with(message_id) is None:
            self._generation += 1
            generation = self._generation
            try:
                window = await self._load_around(message_id)
            except Exception:
                log.exception("could not load the quoted message")
                notify("The original message could not be loaded. Please try again.", type="negative")
                return
            if generation != self._generation:
                return
            if window is None:
                notify("The original message is no longer there.", type="warning")
                return
            self._marked = message_id  # drawn with the rows
            self._show_window(window.messages, has_older=window.has_more, live=not window.has_newer, at_bottom=False)
        self._bring_into_view(message_id)

    def _bring_into_view(self, message_id: int) -> None:
        """Mark the rendered message and have the browser scroll to it: its row's id becomes the
        page's fragment, so no script is needed (the update that brings the rows is applied before
        the navigation, so this works in a window that just arrived, on a page that just opened)."""
        self._mark(message_id)
        if not self._at_live_edge:
            self._at_bottom = False  # the strips correct this once the browser has scrolled
        ui.navigate.to(f"#message-{message_id}")  # the CSS :target rule flashes the row too
        self._set_following()
        self._update_new_button()

    def _mark(self, message_id: int | None) -> None:
        """Move the mark (None: take it away); only the rows whose mark changed are drawn again."""
        if message_id == self._marked:
            return
        changed = {self._marked, message_id} - {None}
        self._marked = message_id
        self._render_where(lambda message: message.id in changed)

    def _unmark(self) -> None:
        if self._marked is not None:
            self._mark(None)
            if self.on_unmarked is not None:
                self.on_unmarked()

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
            self._read(self._newest_id())
        self._set_following()
        self._update_new_button()

    def _away_changed(self, visible: bool) -> None:
        """The strip above the bottom screenful: in view exactly while the reader is scrolled up.
        It tells what the 2 px strip cannot: a strip first seen out of view reports nothing, so a
        reader who scrolled away before the browser first looked (a page that just opened or was
        mounted afresh) would be taken for one at the bottom, followed by force, and never offered
        the "new messages" button."""
        self._at_bottom_changed(not visible)

    async def _command(self, event: events.GenericEventArguments) -> None:
        """A row's button: `--<action>-<message id>` (`--remove-<author id>`), or
        `--toggle-<message id>-<emoji code>` for a reaction chip."""
        command = event.args.get("command") if isinstance(event.args, dict) else None
        if not isinstance(command, str) or self._actions is None:
            return
        toggle = TOGGLE.fullmatch(command)
        if toggle is not None:
            emoji = emoji_from_code(toggle.group(2))
            if emoji is not None and self._chunk_with(int(toggle.group(1))) is not None:
                await call_action(self._actions.toggle_reaction, int(toggle.group(1)), emoji)
            return
        match = COMMAND.fullmatch(command)
        if match is not None:
            await self._act(match.group(1), int(match.group(2)), self._actions)

    async def _act(self, action: str, number: int, actions: RowActions) -> None:
        if action == "remove":
            await actions.remove_author(number)
            return
        if action == "jump":
            await self.jump_to(number)
            return
        chunk = self._chunk_with(number)
        if chunk is None:  # a button of a row that has gone meanwhile
            return
        message = chunk.messages[number]
        if action == "delete":
            await actions.delete(number)
        elif action == "edit" and actions.may_edit(message):
            await call_action(actions.edit, message)
        elif action == "reply":
            await call_action(actions.reply, message)
        elif action == "react":
            await call_action(actions.react, number)
        elif action == "menu":
            await call_action(actions.menu, message)

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
        self._has_older = page.has_more  # before the rows: the room's first message gets its day above
        self._prepend(page.messages)
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

    def _show_window(
        self, messages: list[MessagePublic], *, has_older: bool, live: bool, at_bottom: bool = True
    ) -> None:
        """Replace every row with these messages (oldest first). A window around a message (not
        `at_bottom`) is seen at that message, maybe rows above the newest even when it reaches them:
        nothing is read until the strips report the reader at the bottom."""
        self._generation += 1  # whatever was loading is now out of date
        self._busy = False
        self._rows.clear()
        self._chunks.clear()
        self._before_first = None
        self._kept_headers.clear()
        self._has_older = has_older  # before the rows: the room's first message gets its day above
        for message in messages:
            self._learn_name(message)
            self._append(message, render=False)
        for chunk in self._chunks:
            self._render(chunk)
        self._at_live_edge = live
        self._at_bottom = at_bottom
        newest = self._newest_id()
        if live:
            self._newest_announced = max(self._newest_announced, newest)
        if live and at_bottom:
            self._read(newest)
        self._set_following()
        self._update_new_button()
        self._update_top()
        self._watch_edges()  # placed with the rows, so that their first report is about these

    def _read(self, message_id: int) -> None:
        """The reader has seen everything up to this message at the bottom of the window."""
        if message_id <= self._read_up_to:
            return
        self._read_up_to = message_id
        if self._at_live_edge and self.on_read is not None:
            self.on_read(message_id)

    def _watch_edges(self) -> None:
        """(Re)place the strips that load pages; new ones report if the reader is near them now,
        which a strip that stayed in view would not say again. (The strips that say whether the
        reader is at the bottom stay: they mean the same whatever the rows are.)"""
        for watcher in self._watchers:
            watcher.delete()
        with self._edges:
            self._watchers = (
                _EdgeWatcher(f"top: 0; height: {NEAR_EDGE_PX}px", self._at_top_changed),
                _EdgeWatcher(f"bottom: 0; height: {NEAR_EDGE_PX}px", self._near_bottom_changed),
            )

    def _scroll_to_bottom(self) -> None:
        """Mount the scroller afresh: a new one starts at its origin, the bottom."""
        self._mounts += 1
        self._box.props(f"key=messages-{self._mounts}")
        self._at_bottom = True
        self._read(self._newest_id())
        self._set_following()
        self._update_new_button()

    @property
    def _following(self) -> bool:
        """The reader is at the bottom of the newest messages: the browser keeps them there."""
        return self._at_live_edge and self._at_bottom

    def _set_following(self) -> None:
        """While the reader is at the bottom of the newest messages, scroll anchoring is off, so the
        browser keeps them at the bottom as messages arrive; elsewhere it keeps their place."""
        following = self._following
        if following != ("chat-follow" in self._box.classes):
            self._box.classes(add="chat-follow") if following else self._box.classes(remove="chat-follow")

    def _update_new_button(self) -> None:
        """Shown while messages from others wait below ("3 new messages"), or while the window is
        away from the newest ones ("Jump to latest"). The count is what arrived live since the
        reader left the bottom, less what was deleted meanwhile; it starts again at the bottom."""
        if self._following:
            self._waiting.clear()
        count = len(self._waiting)
        shown = count > 0 or (not self._at_live_edge and bool(self._chunks))
        if shown:
            label, aria = _button_label(count)
            if self._new_button.text != label:
                self._new_button.set_text(label)
                self._new_button.props["aria-label"] = aria
        if self._new_button.visible != shown:
            self._new_button.visible = shown

    def _announce(self, message: MessagePublic) -> None:
        """What someone else said, for screen readers: the live region (polite) reads its new text.
        It costs every viewer one small update per message from others, which is worth it: without
        it a blind reader hears nothing arrive. The list itself cannot be the live region, as a
        new row re-sends its whole chunk, old rows too (see _Chunk), which would be read again."""
        author = self._names.get(message.author.id, message.author.display_name)
        text = _plain(message.text)
        if message.kind == "image":
            said = f"{author} sent an image" + (f": {text}" if text else "")
        else:
            said = f"{author}: {text}"
        if self._announcer.said.rstrip(REANNOUNCE) == said:  # the same words again: still a change to read out
            said += "" if self._announcer.said.endswith(REANNOUNCE) else REANNOUNCE
        self._announcer.say(said)

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
        return sum(len(chunk.messages) for chunk in self._chunks)

    def _chunk_with(self, message_id: int) -> _Chunk | None:
        return next((chunk for chunk in self._chunks if message_id in chunk.messages), None)

    def _append(self, message: MessagePublic, *, render: bool = True) -> None:
        """At the end: only the last chunk changes (a row depends on the one before, not after),
        and only its new row is rendered."""
        last = self._chunks[-1] if self._chunks else None
        if last is None or len(last.messages) >= CHUNK_SIZE:
            with self._rows:
                last = _Chunk()
            self._chunks.append(last)
        last.put(message)
        if render:
            self._render_last_row(last)
        if len(self._chunks) == 1 and len(last.messages) == 1:  # an empty room's first message: "say hello" goes
            self._update_top()

    def _render_last_row(self, chunk: _Chunk) -> None:
        """A message appended to the chunk: its rows so far stay as they were, the new one is
        added (the whole chunk is rendered when they are not known, or it was put out of order)."""
        message = chunk.messages[chunk.last_id]
        if len(chunk.rows) != len(chunk.messages) - 1 or len(chunk.messages) == 1:
            self._render(chunk)
            return
        previous = list(chunk.messages.values())[-2]
        chunk.rows.append(render_row(message, self._view(message, previous, datetime.now(self.timezone).date())))
        chunk.show("".join(chunk.rows))

    def _prepend(self, messages: list[MessagePublic]) -> None:
        """An older page (oldest first), above everything shown. The row that was first keeps its
        header (see _kept_headers); its chunk is sent again only if its HTML changed (a day
        separator above it, when the page ends on another day)."""
        oldest = self._oldest_id()
        fresh = [message for message in messages if message.id < oldest]
        if fresh and self._chunks:
            self._kept_headers.add(oldest)
        for index, start in enumerate(range(0, len(fresh), CHUNK_SIZE)):
            with self._rows:
                chunk = _Chunk()
            chunk.move(target_index=index)
            self._chunks.insert(index, chunk)
            for message in fresh[start : start + CHUNK_SIZE]:
                self._learn_name(message)
                chunk.put(message)
        self._before_first = None if fresh else self._before_first
        for chunk in self._chunks[: len(range(0, len(fresh), CHUNK_SIZE)) + 1]:
            self._render(chunk)

    def _insert(self, message: MessagePublic) -> None:
        """A message older than the newest shown (announced out of order): into the chunk where it
        belongs, never as its last row, so the chunks after it keep their HTML."""
        chunk = next(chunk for chunk in self._chunks if chunk.last_id > message.id)
        chunk.put(message)
        self._render(chunk)

    def _render(self, chunk: _Chunk) -> None:
        """The chunk's rows as HTML: each row's view depends on the row before it (grouping, day
        separators), so the first row looks at the previous chunk's last."""
        index = self._chunks.index(chunk)
        previous = self._chunks[index - 1].last if index else self._before_first
        today = datetime.now(self.timezone).date()
        rows = []
        for message in chunk.messages.values():
            rows.append(render_row(message, self._view(message, previous, today)))
            previous = message
        chunk.rows = rows
        chunk.show("".join(rows))

    def _view(self, message: MessagePublic, previous: MessagePublic | None, today: date) -> RowView:
        actions = self._actions
        day = local_day(message, self.timezone)
        # A day's first message gets its name above; so does the room's very first one.
        new_day = (previous is None and not self._has_older) or (
            previous is not None and local_day(previous, self.timezone) != day
        )
        return RowView(
            timezone=self.timezone,
            today=today,
            deletable=actions is not None and actions.may_delete(message),
            removable=actions is not None and actions.may_remove(message),
            editable=actions is not None and actions.may_edit(message),
            mentioned=bool(self._reader_id) and self._reader_id in message.mentions,
            continued=message.id != self._divider_id
            and message.id not in self._kept_headers
            and continues(previous, message, self.timezone),
            day=day_label(day, today) if new_day else None,
            unread=message.id == self._divider_id,
            marked=message.id == self._marked,
            names=tuple(
                (guest, self._names[guest]) for guest in sorted(_shown_guests(message)) if guest in self._names
            ),
        )

    def _render_where(self, shows: Callable[[MessagePublic], bool]) -> None:
        for chunk in self._chunks:
            if any(shows(message) for message in chunk.messages.values()):
                self._render(chunk)

    def _render_all(self) -> None:
        for chunk in self._chunks:
            self._render(chunk)

    def _requote(self, original_id: int, change: Callable[[ReplyQuote], ReplyQuote]) -> None:
        """Rendered replies to `original_id` get their quote changed (edited, deleted)."""
        for chunk in self._chunks:
            replies = [m for m in chunk.messages.values() if m.reply_to is not None and m.reply_to.id == original_id]
            for reply in replies:
                assert reply.reply_to is not None
                chunk.messages[reply.id] = reply.model_copy(update={"reply_to": change(reply.reply_to)})
            if replies:
                self._render(chunk)

    def _learn_name(self, message: MessagePublic) -> None:
        """A message carries its author's current name: newer than a list of names read earlier,
        and the only one known of a guest who is not a member."""
        if self._names.get(message.author.id) != message.author.display_name:
            self.set_names({message.author.id: message.author.display_name})

    def _trim_oldest(self) -> None:
        """Whole chunks go, so that the chunks that stay are not sent again (the last message that
        went stays known, so the new first row keeps its grouping)."""
        count = self._count()
        while len(self._chunks) > 1 and count - len(self._chunks[0].messages) >= MAX_RENDERED:
            gone = self._chunks.pop(0)
            count -= len(gone.messages)
            self._before_first = gone.last
            gone.delete()
            self._has_older = True
            self._update_top()

    def _trim_newest(self) -> None:
        count = self._count()
        while len(self._chunks) > 1 and count - len(self._chunks[-1].messages) >= MAX_RENDERED:
            gone = self._chunks.pop()
            count -= len(gone.messages)
            gone.delete()
            self._at_live_edge = False
            self._set_following()
            self._update_new_button()


def _shown_guests(message: MessagePublic) -> set[int]:
    """The guests whose names a row shows: author, mentioned, reacting, and the quoted author."""
    guests = {message.author.id, *message.mentions}
    for reaction in message.reactions:
        guests.update(reaction.guest_ids)
    if message.reply_to is not None:
        guests.add(message.reply_to.author.id)
    return guests


def _button_label(count: int) -> tuple[str, str]:
    """The "new messages" button's text and its name for screen readers."""
    if count == 0:
        return "Jump to latest", "Jump to the latest messages"
    shown = "99+" if count > 99 else str(count)
    text = f"{shown} new message{'' if count == 1 else 's'}"
    return text, f"{text}, show the newest"


@lru_cache(maxsize=1024)  # once per message and process, not once per viewer
def _plain(text: str) -> str:
    """A message's text as a screen reader should say it: what its Markdown reads as, one line, short."""
    plain = " ".join(plain_text(text).split())
    return plain if len(plain) <= ANNOUNCED_CHARS else plain[: ANNOUNCED_CHARS - 1].rstrip() + "…"


def _names_of(members: Iterable[Any]) -> dict[int, str]:
    """Names by id from guests (anything with `id` and `display_name`); bare strings carry no id."""
    names = {}
    for member in members:
        if isinstance(member, str):
            log.warning("set_names needs guests or a mapping of guest id to name, not bare names")
            continue
        names[member.id] = member.display_name
    return names


async def call_action(action: Callable[..., Awaitable[None] | None] | None, *args: Any) -> None:
    """Call a row action, sync or async; a missing one does nothing."""
    if action is None:
        return
    result = action(*args)
    if inspect.isawaitable(result):
        await result

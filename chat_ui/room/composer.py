"""The composer: a text field (Enter sends, Shift+Enter adds a line), a send button and an image
picker; above it what the next message replies to, @ suggestions of the room's members, and the
length once it nears the limit. Editing a message swaps the field for an edit field and back,
keeping the draft; so does a chosen image, which waits with its preview and an optional caption
until it is sent or cancelled (chat_ui/room/image_staging.py).

No script: the server sees the field's value as it changes (NiceGUI sends it on every input)
and the keys it listens to. Up, Down and Tab are taken from the field (prevented) only while
suggestions are open, so that they move the caret and the focus as usual otherwise: their
listeners exist from the start and only their modifiers change (a listener added later would
make the browser mount the field afresh, losing the caret and what was typed meanwhile).
"""

import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from nicegui import events, ui
from nicegui.event_listener import EventListener

from chat_ui.notices import notify
from chat_ui.room.image_staging import ImageStaging, QuickImageUpload
from chat_ui.room.length_gauge import LengthGauge
from chat_ui.room.message_rows import name_colour
from models.guest import GuestPublic
from models.message import MessagePublic

TYPING_EVERY_SECONDS = 3.0  # the page announces typing at most this often (the service throttles too)
SUGGESTIONS_MAX = 8
# An @ at the start or after a space, then what is typed after it up to the end of the text (names
# hold spaces: "@Ada Lo" still narrows the list). Suggestions follow the end of the text only: the
# server sees the value, not the caret.
MENTION_BEING_TYPED = re.compile(r"(?:^|(?<=\s))@([^@\s][^@\n]{0,31})?$")

CSS = """
.chat-suggestions { background: var(--chat-raised); color: var(--chat-text); border: 1px solid var(--chat-border); }
.chat-suggestion { cursor: pointer; }
.chat-suggestion:hover { background: var(--chat-hover); }
.chat-suggestion.chat-active { background: var(--chat-accent-soft); color: var(--chat-accent-text); }
.chat-context-bar { border-left: 3px solid var(--chat-accent); }
.chat-context-title { color: var(--chat-accent-text); }
"""

SendIntent = Callable[[str, int | None], Awaitable[bool]]  # (text, reply_to) -> it went out
Field = TypeVar("Field", bound=ui.input)  # the message, edit or caption field
ImageIntent = Callable[[str, bytes, int | None, str], Awaitable[bool]]  # (name, data, reply_to, caption) -> sent
EditIntent = Callable[[int, str], Awaitable[bool]]  # (message id, text) -> it was saved


def snippet(message: MessagePublic, length: int = 100) -> str:
    """The start of a message, on one line, as a preview or a quote shows it."""
    text = " ".join(message.text.split())
    text = text if len(text) <= length else text[: length - 1].rstrip() + "…"
    if message.kind == "image":
        return f"🖼 {text}" if text else "🖼 Image"
    return text


def enter_pressed(field: Field, handler: Callable[[], Awaitable[None]]) -> Field:
    """Enter (without Shift) runs `handler`; Shift+Enter adds a line. Enter that confirms an input
    method's candidate (Japanese, Chinese, ...) does nothing: one of the three allowed one-line
    guards (tests/test_house_rules.py), shared by the message, edit and caption fields."""
    return field.on("keydown.enter.exact.prevent", handler, js_handler="(e) => { if (!e.isComposing) emit(); }")


class MentionSuggestions:
    """The room's members whose name fits what follows an @ typed at the end of the text: first
    those whose name starts with it, then those whose name contains it. None is highlighted until
    Down or Up moves the highlight; Enter or Tab picks the highlighted one, else the first."""

    def __init__(self, *, me: int, on_pick: Callable[[GuestPublic], Awaitable[None]]) -> None:
        self._me, self._on_pick = me, on_pick
        self._members: list[GuestPublic] = []
        self._shown: list[GuestPublic] = []
        self._items: list[ui.element] = []
        self._active = -1  # the highlighted one's index; -1 while none is
        self._box = ui.element("div").classes("absolute bottom-full left-3 mb-1 z-20 max-w-[calc(100%-1.5rem)]")

    @property
    def is_open(self) -> bool:
        return bool(self._shown)

    @property
    def active(self) -> GuestPublic | None:
        return self._shown[max(self._active, 0)] if self._shown else None

    def set_members(self, members: list[GuestPublic]) -> None:
        self._members = [member for member in members if member.id != self._me]

    def update(self, text: str) -> None:
        match = MENTION_BEING_TYPED.search(text)
        found = self._matching(match.group(1) or "") if match else []
        if [member.id for member in found] != [member.id for member in self._shown]:
            self._shown, self._active = found, -1
            self._render()

    def close(self) -> None:
        if self._shown:
            self._shown = []
            self._render()

    def move(self, step: int) -> None:
        if not self._shown:
            return
        if self._active >= 0:
            self._items[self._active].classes(remove="chat-active").props(remove="aria-selected")
            self._active = (self._active + step) % len(self._shown)
        else:
            self._active = 0 if step > 0 else len(self._shown) - 1
        self._items[self._active].classes(add="chat-active").props("aria-selected=true")

    def _matching(self, typed: str) -> list[GuestPublic]:
        wanted = typed.casefold()
        starts = [m for m in self._members if m.display_name.casefold().startswith(wanted)]
        contains = [m for m in self._members if wanted in m.display_name.casefold() and m not in starts]
        return (starts + contains)[:SUGGESTIONS_MAX]

    def _render(self) -> None:
        self._box.clear()
        self._items = []
        if not self._shown:
            return
        with (
            self._box,
            ui.element("div")
            .classes("chat-suggestions rounded-lg shadow-lg py-1 min-w-[15rem] max-h-72 overflow-y-auto")
            .props("data-testid=mention-suggestions role=listbox aria-label='Members to mention'")
            .mark("mention-suggestions"),
        ):
            for member in self._shown:
                self._items.append(self._item(member))

    def _item(self, member: GuestPublic) -> ui.element:
        with (
            ui.element("div")
            .classes("chat-suggestion flex items-center gap-2 px-3 py-1.5 text-sm")
            .props("data-testid=mention-suggestion role=option")
            .mark("mention-suggestion") as item
        ):
            # A dot in the colour their name has in the messages (an icon's ligature would add text).
            ui.element("span").classes("w-2 h-2 rounded-full shrink-0").style(f"background: {name_colour(member.id)}")
            ui.label(member.display_name).classes("truncate")
        # On mousedown, prevented: the field keeps the focus (and the caret) while the click picks.
        item.on("mousedown.prevent", lambda: self._on_pick(member))
        return item


class _Editor:
    """The edit field, in the composer's place while a message is edited: Enter saves, Escape
    cancels, Shift+Enter adds a line."""

    def __init__(
        self, message: MessagePublic, *, on_save: Callable[[], Awaitable[None]], on_cancel: Callable[[], None]
    ) -> None:
        self.message = message
        caption = message.kind == "image"
        with ui.element("div").classes("w-full") as self.root:
            with ui.row().classes("chat-context-bar items-center no-wrap gap-2 mx-3 mt-2 pl-2 pr-5"):
                ui.icon("edit", size="18px").classes("chat-context-title")
                with ui.column().classes("gap-0 min-w-0 flex-1"):
                    ui.label("Editing caption" if caption else "Editing message").classes(
                        "text-xs font-semibold chat-context-title"
                    )
                    ui.label(snippet(message)).classes("text-xs chat-muted truncate w-full")
                ui.button(icon="close", on_click=on_cancel).props(
                    "flat round dense size=sm aria-label='Cancel editing' data-testid=edit-cancel"
                ).tooltip("Cancel (Escape)")
            self.gauge = LengthGauge()
            with ui.element("div").classes("w-full flex items-end gap-2 px-3 py-2"):
                self.field = ui.textarea(
                    value=message.text, placeholder="Add a caption…" if caption else "Edit the message…"
                )
                self.field.props("autogrow outlined dense rounded input-class='max-h-40' data-testid=edit-input")
                self.field.mark("edit-input").classes("flex-1").on("keydown.esc", on_cancel)
                self.field.on_value_change(lambda event: self.gauge.show(event.value or ""))
                enter_pressed(self.field, on_save)
                ui.button(icon="check", on_click=on_save).props(
                    "round unelevated aria-label='Save' data-testid=edit-save"
                ).tooltip("Save (Enter)")
        self.gauge.show(message.text)

    @property
    def text(self) -> str:
        return self.field.value or ""


class Composer:
    """Reports intent only: `on_send(text, reply_to)`, `on_image(name, data, reply_to, caption)` and
    `on_edit(message_id, text)` return True when it went through; `on_edit_last()` asks for the
    reader's last message to be edited (Up in the empty field); `on_typing()` says the reader is
    typing, at most every TYPING_EVERY_SECONDS."""

    def __init__(
        self,
        *,
        me: int,
        on_send: SendIntent,
        on_image: ImageIntent,
        on_edit: EditIntent,
        on_edit_last: Callable[[], Awaitable[None]],
        on_typing: Callable[[], None],
        max_upload_bytes: int,
    ) -> None:
        self._on_send, self._on_image, self._on_edit = on_send, on_image, on_edit
        self._on_edit_last, self._on_typing = on_edit_last, on_typing
        self._sending = False
        self._typing_at = -math.inf
        self._reply: MessagePublic | None = None
        self._editor: _Editor | None = None
        self._arrow_keys: list[EventListener] = []  # Up, Down, Tab: prevented while suggestions are open
        self._locked_notice = (
            ui.label("🔒 This room is locked by a moderator: you can read it, not write in it.")
            .classes("chat-surface chat-border-top chat-muted w-full text-center text-sm px-3 py-3")
            .props("data-testid=room-locked")
            .mark("room-locked")
        )
        self._locked_notice.visible = False
        with ui.element("div").classes("chat-surface chat-border-top w-full relative") as self._area:
            self._mentions = MentionSuggestions(me=me, on_pick=self._pick_mention)
            self._edit_slot = ui.element("div").classes("w-full")
            with ui.element("div").classes("w-full") as self._compose:
                self._reply_slot = ui.element("div").classes("w-full")
                self._staging = ImageStaging(
                    max_upload_bytes=max_upload_bytes,
                    on_send=self._send_image,
                    on_open=self._staging_opened,
                    bind_enter=enter_pressed,
                )
                QuickImageUpload(max_upload_bytes=max_upload_bytes, on_send=self._send_image)
                with ui.element("div").classes("w-full") as self._writing:
                    self._gauge = LengthGauge()
                    with ui.element("div").classes("w-full flex items-end gap-2 px-3 py-2"):
                        ui.button(icon="image", on_click=self._staging.pick).props(
                            "flat round aria-label='Send an image'"
                        ).classes("chat-muted").tooltip("Send an image")
                        self._input = self._text_field()
                        ui.button(icon="send", on_click=self._send).props(
                            "round unelevated aria-label='Send' data-testid=send-button"
                        ).mark("send-button")

    def _text_field(self) -> ui.textarea:
        # No maxlength: it would cut a long paste silently; the gauge says what is over instead.
        field = (
            ui.textarea(placeholder="Write a message…", on_change=self._changed)
            .props("autogrow outlined dense rounded input-class='max-h-40' data-testid=message-input")
            .mark("message-input")
            .classes("flex-1")
            .on("keydown.esc", self._escape)
        )
        for key, handler in (("up", self._up), ("down", self._down), ("tab", self._tab)):
            before = set(field._event_listeners)
            field.on(f"keydown.{key}", handler)
            self._arrow_keys += [field._event_listeners[id] for id in set(field._event_listeners) - before]
        return enter_pressed(field, self._enter)

    # What the page calls

    def set_locked(self, locked: bool) -> None:
        """A locked room: the notice instead of the composer (what was typed stays for later)."""
        self._locked_notice.visible = locked
        self._area.visible = not locked

    def focus(self) -> None:
        if self._editor is not None:
            self._editor.field.run_method("focus")
        elif self._staging.is_open:
            self._staging.focus()
        else:
            self._input.run_method("focus")

    def set_members(self, members: list[GuestPublic]) -> None:
        """The room's members, for the @ suggestions (offered at once if an @ is being typed: the
        list may arrive after the reader started typing)."""
        self._mentions.set_members(members)
        self._mentions.update(self._input.value or "")

    def reply_to(self, message: MessagePublic) -> None:
        """Show what the next message answers; it is sent with it, or cancelled."""
        if self._editor is not None:
            self.cancel_edit()
        self._reply = message
        self._reply_slot.clear()
        with (
            self._reply_slot,
            ui.row()
            .classes("chat-context-bar items-center no-wrap gap-2 mx-3 mt-2 pl-2 pr-5")
            .props("data-testid=reply-preview")
            .mark("reply-preview"),
        ):
            ui.icon("reply", size="18px").classes("chat-context-title")
            with ui.column().classes("gap-0 min-w-0 flex-1"):
                ui.label(f"Replying to {message.author.display_name}").classes(
                    "text-xs font-semibold chat-context-title"
                )
                ui.label(snippet(message)).classes("text-xs chat-muted truncate w-full")
            ui.button(icon="close", on_click=self.cancel_reply).props(
                "flat round dense size=sm aria-label='Cancel the reply' data-testid=reply-cancel"
            ).mark("reply-cancel").tooltip("Cancel the reply (Escape)")
        self.focus()

    def cancel_reply(self) -> None:
        self._reply = None
        self._reply_slot.clear()
        self.focus()

    def start_edit(self, message: MessagePublic) -> None:
        """Edit mode: the edit field, prefilled, in the composer's place; the draft waits aside."""
        if self._editor is not None:
            self._close_editor()
        self._mentions.close()
        self._sync_suggestion_keys()
        with self._edit_slot:
            self._editor = _Editor(message, on_save=self._save_edit, on_cancel=self.cancel_edit)
        self._compose.visible = False
        self._editor.field.run_method("focus")

    def cancel_edit(self) -> None:
        if self._editor is not None:
            self._close_editor()
            self.focus()

    def message_gone(self, message_id: int) -> None:
        """A message was deleted: stop editing it or replying to it."""
        if self._editor is not None and self._editor.message.id == message_id:
            self.cancel_edit()
            notify("The message you were editing was deleted.", type="warning")
        if self._reply is not None and self._reply.id == message_id:
            self.cancel_reply()
            notify("The message you were replying to was deleted.", type="warning")

    # What the reader does

    def _changed(self, event: events.ValueChangeEventArguments) -> None:
        text = event.value or ""
        self._gauge.show(text)
        self._mentions.update(text)
        self._sync_suggestion_keys()
        if text.strip() and time.monotonic() - self._typing_at >= TYPING_EVERY_SECONDS:
            self._typing_at = time.monotonic()
            self._on_typing()

    async def _enter(self) -> None:
        if self._mentions.active is not None:
            await self._pick_mention(self._mentions.active)
        else:
            await self._send()

    async def _up(self) -> None:
        if self._mentions.is_open:
            self._mentions.move(-1)
        elif not (self._input.value or "").strip():
            await self._on_edit_last()

    def _down(self) -> None:
        self._mentions.move(1)

    async def _tab(self) -> None:
        if self._mentions.active is not None:
            await self._pick_mention(self._mentions.active)

    def _escape(self) -> None:
        if self._mentions.is_open:
            self._mentions.close()
            self._sync_suggestion_keys()
        elif self._staging.is_open:
            self._staging.cancel()
        elif self._reply is not None:
            self.cancel_reply()

    async def _pick_mention(self, member: GuestPublic) -> None:
        text = self._input.value or ""
        match = MENTION_BEING_TYPED.search(text)
        if match is not None:
            self._input.value = f"{text[: match.start()]}@{member.display_name} "
        self._mentions.close()
        self._sync_suggestion_keys()
        self._input.run_method("focus")

    async def _send(self) -> None:
        text = (self._input.value or "").strip()
        if not text or self._sending or LengthGauge.refuses(text):  # a second Enter while one is on its way: once
            return
        self._sending, reply = True, self._reply
        try:
            # The text stays in the field until it is saved: a refusal or an outage loses nothing.
            if await self._on_send(text, reply.id if reply is not None else None):
                if (self._input.value or "").strip() == text:
                    self._input.value = ""
                if reply is not None and self._reply is reply:
                    self.cancel_reply()
                self._typing_at = -math.inf  # typing the next one is news again at once
        finally:
            self._sending = False

    async def _save_edit(self) -> None:
        editor = self._editor
        if editor is None or self._sending or LengthGauge.refuses(editor.text):
            return
        text = editor.text.strip()
        if text == editor.message.text.strip():  # nothing changed: nothing to save
            self.cancel_edit()
            return
        self._sending = True
        try:
            if await self._on_edit(editor.message.id, text) and self._editor is editor:
                self.cancel_edit()
        finally:
            self._sending = False

    def _close_editor(self) -> None:
        assert self._editor is not None
        self._editor.root.delete()
        self._editor = None
        self._compose.visible = True

    def _sync_suggestion_keys(self) -> None:
        """Up, Down and Tab belong to the suggestions while they are open (prevented), to the field
        otherwise. The same listeners change their modifiers: the field is not mounted afresh."""
        prevent = self._mentions.is_open
        if any(listener.type.endswith(".prevent") != prevent for listener in self._arrow_keys):
            for listener in self._arrow_keys:
                listener.type = listener.type.removesuffix(".prevent") + (".prevent" if prevent else "")
            self._input.update()

    async def _send_image(self, name: str, data: bytes, caption: str = "") -> bool:
        """The staged image goes with the reply being composed, as a text would."""
        reply = self._reply
        sent = await self._on_image(name, data, reply.id if reply is not None else None, caption)
        if sent and reply is not None and self._reply is reply:
            self.cancel_reply()
        return sent

    def _staging_opened(self, opened: bool) -> None:
        """An image waits: its caption field takes the place of the message field (whose draft
        stays) until it is sent or cancelled."""
        self._writing.visible = not opened
        if opened:
            self._mentions.close()
            self._sync_suggestion_keys()
        else:
            self.focus()

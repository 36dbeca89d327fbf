"""The reaction picker: the common emoji as buttons, and a field for any other emoji.

One dialog per page, reused for every message: a row's react button opens it for that message.
A dialog rather than a menu because the rows are HTML, not elements a menu could anchor to. It is
made the first time it opens: most viewers never react, and its dozen elements would cost each
open page ~50 KB (#17).
"""

from collections.abc import Awaitable, Callable, Iterable

from nicegui import context, ui
from nicegui.elements.dialog import Dialog


class ReactionPicker:
    """Reports intent only: `on_pick(message_id, emoji)` returns True when the reaction went on
    (a refusal, such as text that is not one emoji, is the caller's notice to give)."""

    def __init__(self, *, emoji: Iterable[str], on_pick: Callable[[int, str], Awaitable[bool]]) -> None:
        self._on_pick = on_pick
        self._emoji = tuple(emoji)
        self._message_id: int | None = None
        self._slot = context.slot  # where the dialog goes once it is needed
        self._dialog: Dialog | None = None

    def _build(self) -> Dialog:
        with self._slot, ui.dialog() as dialog, ui.card().classes("p-3 gap-2 w-[21rem] max-w-[94vw]"):
            dialog.props("data-testid=reaction-picker-dialog aria-label='Add a reaction'")
            with ui.column().classes("w-full gap-2").props("data-testid=reaction-picker").mark("reaction-picker"):
                ui.label("Add a reaction").classes("text-sm font-semibold chat-muted")
                with ui.element("div").classes("w-full grid grid-cols-8 gap-0.5"):
                    for each in self._emoji:
                        self._emoji_button(each)
                self._input = (
                    ui.input(placeholder="Or type any emoji, then Enter")
                    .props("dense outlined rounded data-testid=reaction-input aria-label='Any emoji'")
                    .mark("reaction-input")
                    .classes("w-full")
                    .on("keydown.enter.prevent", self._typed)
                )
        return dialog

    def _emoji_button(self, emoji: str) -> None:
        # No colour: an emoji drawn from a monochrome font takes the text's, not the brand's.
        button = ui.button(emoji, on_click=lambda: self._pick(emoji), color=None).props("flat dense no-caps")
        button.classes("text-2xl min-w-0 px-0")
        # Set directly: an emoji is no token for the props parser.
        button.props["data-emoji"] = emoji
        button.props["aria-label"] = f"React with {emoji}"

    def open(self, message_id: int) -> None:
        if self._dialog is None:
            self._dialog = self._build()
        self._message_id = message_id
        self._input.value = ""
        self._dialog.open()

    async def _typed(self) -> None:
        text = (self._input.value or "").strip()
        if text:
            await self._pick(text)

    async def _pick(self, emoji: str) -> None:
        message_id = self._message_id
        if message_id is None:
            return
        if await self._on_pick(message_id, emoji) and self._dialog is not None:
            self._dialog.close()
            self._message_id = None

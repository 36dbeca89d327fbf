"""The touch menu of a message: what the reader may do to it, opened by the row's "⋯" button.

Touch screens cannot hover, so instead of each row's toolbar (message_rows.py) a row has one "⋯"
button, and the page one menu for every row: a sheet from the bottom of the screen, as phones show
such menus, listing Reply, Add reaction, Edit, Delete and Remove author as the reader may use them.
Each item does what the row's own button does, through the same RowActions, on the message as it
is when the item is tapped (`current`): edited, renamed or deleted while the menu was open.

The menu is made when it is first opened: most views never open it, and every element costs the
server memory for every viewer (see docs/PERFORMANCE.md). Its items are made again at each opening,
for that message.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from nicegui import ui
from nicegui.element import Element

from chat_ui.notices import notify
from chat_ui.room.markdown import plain_text
from chat_ui.room.message_list import RowActions, call_action
from models.message import MessagePublic

PREVIEW_CHARS = 80  # of the message's first line, at the top of the menu


class MessageMenu:
    """`quick`: emoji offered in a row above the items, a tap toggling the reader's reaction."""

    def __init__(
        self,
        actions: RowActions,
        *,
        current: Callable[[int], MessagePublic | None],
        quick: Sequence[str] = (),
    ) -> None:
        self._actions = actions
        self._current = current  # the message by id as shown now, None once deleted
        self._quick = tuple(quick)
        # Where the menu and what its items open (the delete question) live: the container the page
        # makes it in, which outlives the rows and the menu's own content (unmounted when it closes).
        self._parent: Element = ui.context.slot.parent
        self._dialog: ui.dialog | None = None
        self._card: ui.card | None = None

    def open(self, message: MessagePublic) -> None:
        if self._dialog is None:
            with self._parent:
                self._dialog, self._card = _sheet()
        assert self._card is not None
        self._card.clear()
        with self._card:
            _preview(message)
            if self._quick and self._actions.toggle_reaction is not None:
                self._quick_reactions(message.id)
            with ui.list().classes("w-full").props("padding"):
                for icon, label, testid, action in self._items(message):
                    self._item(icon, label, testid, self._doing(message.id, action))
        self._dialog.open()

    def _items(self, message: MessagePublic) -> list[tuple[str, str, str, Callable[[MessagePublic], Any]]]:
        """What the reader may do to the message, each as (icon, label, testid, doing it to the
        message as it is when tapped)."""
        actions = self._actions
        items: list[tuple[str, str, str, Callable[[MessagePublic], Any]]] = [
            ("reply", "Reply", "menu-reply", lambda now: call_action(actions.reply, now)),
            ("add_reaction", "Add reaction", "menu-react", lambda now: call_action(actions.react, now.id)),
        ]
        if actions.may_edit(message):
            items.append(("edit", "Edit message", "menu-edit", lambda now: call_action(actions.edit, now)))
        if actions.may_delete(message):
            items.append(("delete", "Delete message", "menu-delete", lambda now: actions.delete(now.id)))
        if actions.may_remove(message):
            name = message.author.display_name
            remove = lambda now: actions.remove_author(now.author.id)  # noqa: E731
            items.append(("person_remove", f"Remove {name} from the room", "menu-remove", remove))
        return items

    def _quick_reactions(self, message_id: int) -> None:
        toggle = self._actions.toggle_reaction
        with ui.row().classes("w-full justify-between gap-1 px-3 pt-2 no-wrap"):
            for emoji in self._quick:
                chosen = self._doing(message_id, lambda now, emoji=emoji: call_action(toggle, now.id, emoji))
                button = ui.button(emoji, on_click=chosen, color=None)
                button.props("flat round no-caps data-testid=quick-reaction").classes("chat-menu-emoji")
                button.props["data-emoji"] = emoji  # set directly: an emoji is no token for the props parser
                button.props["aria-label"] = f"React with {emoji}"

    def _doing(self, message_id: int, action: Callable[[MessagePublic], Any]) -> Callable[[], Awaitable[None]]:
        """What a tap in the menu does: close it, then the action on the message as it is now,
        outside the closed menu (a question it asks, such as the delete's, is made where the menu
        was made). A message deleted meanwhile is only said to be gone."""

        async def chosen() -> None:
            assert self._dialog is not None
            self._dialog.close()
            now = self._current(message_id)
            if now is None:
                notify("That message was deleted.", type="warning")
                return
            with self._parent:
                await call_action(action, now)

        return chosen

    def _item(self, icon: str, label: str, testid: str, chosen: Callable[[], Awaitable[None]]) -> None:
        danger = testid in ("menu-delete", "menu-remove")
        with ui.item(on_click=chosen).props(f"clickable data-testid={testid}").classes("chat-menu-item min-h-[3rem]"):
            with ui.item_section().props("avatar").classes("min-w-0 pr-4"):
                ui.icon(icon, size="22px").classes("chat-menu-danger" if danger else "chat-muted")
            with ui.item_section():
                ui.label(label).classes("text-[15px] truncate" + (" chat-menu-danger" if danger else ""))


def _sheet() -> tuple[ui.dialog, ui.card]:
    """The menu's frame: a card at the bottom of the screen, the width of a phone."""
    with ui.dialog().props("position=bottom aria-label='Message actions'") as dialog:
        card = (
            ui.card()
            .classes("chat-menu-sheet w-full max-w-[32rem] p-0 pb-2 gap-0 rounded-b-none")
            .props("data-testid=message-menu")
            .mark("message-menu")
        )
    return dialog, card


def _preview(message: MessagePublic) -> None:
    """Which message the menu is about: its author and the start of its text."""
    first_line = message.text.strip().split("\n", 1)[0] if message.text.strip() else ""
    text = plain_text(first_line) or first_line or ("Image" if message.image is not None else "")
    if len(text) > PREVIEW_CHARS:
        text = text[: PREVIEW_CHARS - 1] + "…"
    with ui.column().classes("w-full gap-0 px-4 pt-4 pb-1"):
        ui.label(message.author.display_name).classes("text-sm font-semibold truncate w-full")
        ui.label(text).classes("text-sm chat-muted truncate w-full")

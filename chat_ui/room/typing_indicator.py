"""Who else is typing in the room: "Ada is typing…", "Ada and Bo are typing…", "Several people
are typing…", hidden while nobody is.

Each name shows for TYPING_SHOWN_SECONDS after that guest's last typing.started and goes at once
when their message arrives. With 200 viewers and ten typists every view hears every signal, so a
signal costs a dict update and a string comparison: the text is sent only when it changes, and one
timer per view (rescheduled, never one per typist) drops the names that expired.
"""

import asyncio

from nicegui import ui

from models.guest import GuestPublic
from services.events import TYPING_SHOWN_SECONDS


def typing_text(names: list[str]) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return f"{names[0]} is typing…"
    if len(names) == 2:
        return f"{names[0]} and {names[1]} are typing…"
    return "Several people are typing…"


class TypingIndicator:
    def __init__(self, *, me: int) -> None:
        self._me = me
        self._typing: dict[int, tuple[str, float]] = {}  # guest id -> (name, when it expires, loop time)
        self._timer: asyncio.TimerHandle | None = None
        # Laid over the bottom edge of the message list, so that it showing and going never moves
        # the messages or the composer.
        with ui.element("div").classes("relative w-full h-0"):
            self._label = (
                ui.label("")
                .classes(
                    "chat-surface chat-muted absolute bottom-0 left-3 max-w-[calc(100%-1.5rem)] truncate "
                    "text-xs italic px-2 py-0.5 rounded-t-md"
                )
                .props("data-testid=typing-indicator aria-live=polite")
                .mark("typing-indicator")
            )
        self._label.visible = False

    def show(self, guest: GuestPublic) -> None:
        """A typing.started from `guest` (the reader's own are never shown)."""
        if guest.id == self._me:
            return
        self._typing[guest.id] = (guest.display_name, _now() + TYPING_SHOWN_SECONDS)
        self._render()
        if self._timer is None:
            self._schedule()

    def stop(self, guest_id: int) -> None:
        """Their message arrived: they are done typing it."""
        if self._typing.pop(guest_id, None) is not None:
            self._render()

    def _schedule(self) -> None:
        # The earliest expiry only: when the timer fires, names refreshed meanwhile are still
        # current and the next expiry is scheduled then.
        if self._typing:
            delay = max(0.05, min(expiry for _, expiry in self._typing.values()) - _now())
            self._timer = asyncio.get_running_loop().call_later(delay, self._expire)

    def _expire(self) -> None:
        self._timer = None
        if self._label.is_deleted:  # the page closed
            return
        now = _now()
        self._typing = {guest: entry for guest, entry in self._typing.items() if entry[1] > now}
        self._render()
        self._schedule()

    def _render(self) -> None:
        text = typing_text([name for name, _ in self._typing.values()])
        if text != self._label.text:
            self._label.set_text(text)
            self._label.visible = bool(text)


def _now() -> float:
    return asyncio.get_running_loop().time()

"""The 4000-character limit made visible: a counter near it, a plain sentence over it, and the
refusal when the reader sends anyway. Shared by the message field, the edit field and an image's
caption (chat_ui/room/composer.py, chat_ui/room/image_staging.py)."""

from nicegui import ui

from chat_ui.notices import notify
from models.message import MESSAGE_TEXT_MAX

NEAR_LIMIT = MESSAGE_TEXT_MAX - 500  # the counter shows from here

CSS = """  /* added once per page, by the composer */
.chat-gauge { font-size: 0.75rem; line-height: 1rem; padding-top: 0.25rem; text-align: right;
  color: var(--chat-faint); font-variant-numeric: tabular-nums; }
.chat-gauge-over { color: var(--chat-danger); font-weight: 600; }
"""


def text_length(text: str) -> int:
    """As the service counts it: characters after trimming."""
    return len(text.strip())


def gauge_wording(length: int) -> str:
    """ "3,712 / 4,000" near the limit; over it, by how much to shorten it."""
    wording = f"{length:,} / {MESSAGE_TEXT_MAX:,}"
    if length > MESSAGE_TEXT_MAX:
        wording += f" — shorten it by {length - MESSAGE_TEXT_MAX:,} to send"
    return wording


class LengthGauge:
    """Nothing while the text is short; "3,712 / 4,000" near the limit; over it, what must go before
    it can be sent (the field keeps all of it: nothing is cut silently). The label exists only while
    it shows, and the over-limit sentence is announced to screen readers once, when it appears."""

    def __init__(self) -> None:
        self._slot = ui.element("div").classes("w-full px-4")
        self._label: ui.label | None = None
        self._over = False

    def show(self, text: str) -> None:
        length = text_length(text)
        over = length > MESSAGE_TEXT_MAX
        if length < NEAR_LIMIT:
            if self._label is not None:
                self._slot.clear()
                self._label = None
            return
        if self._label is None or over != self._over:
            self._slot.clear()
            with self._slot:
                self._label = ui.label().classes("chat-gauge w-full")
            if over:
                self._label.classes("chat-gauge-over").props("data-testid=message-too-long role=status")
            else:
                self._label.props("data-testid=message-length")
            self._over = over
        wording = gauge_wording(length)
        if self._label.text != wording:
            self._label.set_text(wording)

    @staticmethod
    def refuses(text: str) -> bool:
        """Over the limit: say so (nothing is sent) and return True."""
        length = text_length(text)
        if length <= MESSAGE_TEXT_MAX:
            return False
        notify(
            f"This is {length:,} characters long: shorten it to {MESSAGE_TEXT_MAX:,} to send it.",
            type="warning",
        )
        return True

"""Notices (toasts) for the page: one place that says where they appear.

They show at the top of the window, never over the composer at the bottom, where the reader is
typing and where a notice about what they sent would hide the very field they must fix.
"""

from typing import Literal

from nicegui import ui

NoticeType = Literal["positive", "negative", "warning", "info", "ongoing"]


def notify(message: str, *, type: NoticeType = "info", timeout: int | None = None, close_button: bool = False) -> None:
    """Show `message` at the top of the page: briefly, or until closed with `timeout=0`."""
    options = {} if timeout is None else {"timeout": timeout}
    ui.notify(message, type=type, position="top", close_button=close_button, **options)

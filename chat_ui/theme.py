"""Colours, fonts and the few CSS rules Tailwind classes cannot express."""

from nicegui import ui

PRODUCT_NAME = "Chat"
BRAND = "#4f46e5"  # indigo-600

CSS = """
body { font-family: Inter, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.chat-message-list { overflow-anchor: none; overscroll-behavior: contain; }
.chat-message-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.chat-thumb {
  border-radius: 0.75rem; cursor: zoom-in; max-width: min(100%, 320px); height: auto;
  background: rgba(127, 127, 127, .15);
}
"""


def apply() -> None:
    ui.colors(primary=BRAND, secondary="#0ea5e9", accent="#a855f7")
    ui.add_css(CSS)
    ui.query("body").classes("bg-slate-50 dark:bg-slate-900")

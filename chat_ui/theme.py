"""Colours, fonts and the few CSS rules Tailwind classes cannot express."""

from nicegui import ui

PRODUCT_NAME = "Chat"
BRAND = "#4f46e5"  # indigo-600

# Quasar switches dark mode with body.body--dark, so light and dark surfaces are written as CSS here
# rather than with Tailwind's dark: variants, which follow a different switch.
CSS = """
body { background: #f8fafc; }
body.body--dark { background: #0b1120; }
.chat-surface { background: #ffffff; color: #0f172a; }
body.body--dark .chat-surface { background: #111827; color: #e5e7eb; }
.chat-border-top { border-top: 1px solid #e2e8f0; }
.chat-border-bottom { border-bottom: 1px solid #e2e8f0; }
body.body--dark .chat-border-top, body.body--dark .chat-border-bottom { border-color: #1f2937; }
.chat-muted { color: #64748b; }
body.body--dark .chat-muted { color: #94a3b8; }
.chat-row:hover { background: #f1f5f9; }
body.body--dark .chat-row:hover { background: #1f2937; }
body { font-family: Inter, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.chat-message-list { overscroll-behavior: contain; }
/* Scroll anchoring keeps a reader's place; it is off while they follow the newest messages, and
   the edge watchers and labels around the rows never serve as anchors (chat_ui/room/message_list.py). */
.chat-message-list.chat-follow, .chat-no-anchor { overflow-anchor: none; }
/* A row's moderation buttons: shown on hover (always on touch screens). */
.chat-action { opacity: 0; color: #94a3b8; font-size: 0.8rem; line-height: 1; padding: 0.25rem 0.4rem;
  border-radius: 0.375rem; cursor: pointer; }
.chat-row:hover .chat-action, .chat-action:focus-visible { opacity: 1; }
.chat-action:hover { color: #dc2626; background: rgba(220, 38, 38, .1); }
@media (hover: none) { .chat-action { opacity: .7; } }
.chat-message-text { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 15px; line-height: 1.375; }
.chat-author { font-weight: 600; font-size: 0.875rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  max-width: 16rem; }
.chat-time { font-size: 0.75rem; color: #94a3b8; }
.chat-thumb {
  display: block; border-radius: 0.75rem; max-width: min(100%, 320px); height: auto;
  background: rgba(127, 127, 127, .15);
}
.chat-thumb-button { justify-self: start; padding: 0; border: 0; background: none; border-radius: 0.75rem;
  cursor: zoom-in; max-width: 100%; }
/* The full-size image: a popover, which the browser opens, and closes on Escape or a click outside. */
.chat-lightbox { inset: 0; margin: auto; padding: 0; border: 0; background: transparent; overflow: visible; }
.chat-lightbox > img { display: block; max-width: 95vw; max-height: 90vh; object-fit: contain; border-radius: .5rem; }
.chat-lightbox::backdrop { background: rgba(0, 0, 0, .8); }
.chat-lightbox-close { position: absolute; top: .5rem; right: .5rem; width: 2.5rem; height: 2.5rem;
  border-radius: 9999px; background: rgba(0, 0, 0, .55); color: white; font-size: 1.1rem; cursor: pointer; }
"""


def apply() -> None:
    ui.colors(primary=BRAND, secondary="#0ea5e9", accent="#a855f7")
    ui.add_css(CSS)

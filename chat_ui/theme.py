"""Colours, fonts and the few CSS rules Tailwind classes cannot express."""

from nicegui import ui

from chat_ui.room.row_css import ROW_CSS

PRODUCT_NAME = "Chat"
BRAND = "#4f46e5"  # indigo-600

# Quasar switches dark mode with body.body--dark, so light and dark surfaces are written as CSS here
# rather than with Tailwind's dark: variants, which follow a different switch.
CSS = """
/* The palette: every surface, text and line colour of the product, light and dark, in one place.
   Quasar marks dark mode with body.body--dark; components use these variables, never colours of
   their own, so that both themes stay consistent. */
:root {
  --chat-page: #f8fafc;          /* behind the panels */
  --chat-surface: #ffffff;       /* panels, header, composer */
  --chat-raised: #ffffff;        /* menus, toolbars, popovers, dialogs */
  --chat-text: #0f172a;
  --chat-muted: #475569;         /* secondary text: at least 4.5:1 on --chat-surface and --chat-page */
  --chat-faint: #64748b;         /* times, hints: still 4.5:1 on --chat-surface */
  --chat-border: #e2e8f0;
  --chat-hover: #f1f5f9;         /* a row or item under the pointer */
  --chat-accent: #4f46e5;        /* the brand: links, primary buttons, focus */
  --chat-accent-text: #4338ca;   /* accent used as text on a light surface */
  --chat-accent-soft: rgba(79, 70, 229, .12);
  --chat-danger: #dc2626;
  --chat-focus: #6366f1;
}
body.body--dark {
  --chat-page: #0b1120;
  --chat-surface: #111827;
  --chat-raised: #1f2937;
  --chat-text: #e5e7eb;
  --chat-muted: #a1a1aa;
  --chat-faint: #9ca3af;
  --chat-border: #1f2937;
  --chat-hover: #1f2937;
  --chat-accent: #818cf8;
  --chat-accent-text: #a5b4fc;
  --chat-accent-soft: rgba(129, 140, 248, .22);
  --chat-danger: #f87171;
  --chat-focus: #a5b4fc;
}
/* The presence list (chat_ui/room/presence_panel.py): HTML shared by every view; "you" is shown by
   one rule per page. */
.chat-presence-item { display: flex; align-items: center; gap: 0.75rem; padding: 0.375rem 1rem; }
.chat-presence-avatar { display: inline-flex; align-items: center; justify-content: center; flex-shrink: 0;
  width: 28px; height: 28px; border-radius: 9999px; background: #4f46e5; color: #fff; font-size: 0.75rem; }
.chat-presence-name { flex: 1; min-width: 0; font-size: 0.875rem; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.chat-presence-you { display: none; font-size: 0.75rem; color: #64748b; }
body.body--dark .chat-presence-you { color: #94a3b8; }
.chat-presence-dot { width: 0.5rem; height: 0.5rem; border-radius: 9999px; background: #10b981; flex-shrink: 0; }
body { background: #f8fafc; }
body.body--dark { background: #0b1120; }
.chat-surface { background: #ffffff; color: #0f172a; }
body.body--dark .chat-surface { background: #111827; color: #e5e7eb; }
.chat-border-top { border-top: 1px solid #e2e8f0; }
.chat-border-bottom { border-bottom: 1px solid #e2e8f0; }
body.body--dark .chat-border-top, body.body--dark .chat-border-bottom { border-color: #1f2937; }
.chat-muted { color: #64748b; }
body.body--dark .chat-muted { color: #94a3b8; }
body { font-family: Inter, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.chat-message-list { overscroll-behavior: contain; }
/* Scroll anchoring keeps a reader's place; it is off while they follow the newest messages, and
   the edge watchers and labels around the rows never serve as anchors (chat_ui/room/message_list.py). */
.chat-message-list.chat-follow, .chat-no-anchor { overflow-anchor: none; }"""


def own_reaction_css(guest_id: int) -> str:
    """The reader's own reactions, highlighted by one rule per page: the chips list who reacted
    (data-guests), so the rows' HTML is the same for every reader."""
    chip = f'.chat-reaction[data-guests~="g{int(guest_id)}"]'
    return (
        f"{chip} {{ background: rgba(79, 70, 229, .12); border-color: #6366f1; color: #3730a3; }}\n"
        f"body.body--dark {chip} {{ background: rgba(99, 102, 241, .28); border-color: #818cf8; color: #e0e7ff; }}"
    )


def apply() -> None:
    ui.colors(primary=BRAND, secondary="#0ea5e9", accent="#a855f7")
    ui.add_css(CSS)
    ui.add_css(ROW_CSS)

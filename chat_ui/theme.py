"""Colours, fonts and the few CSS rules Tailwind classes cannot express."""

from nicegui import ui

PRODUCT_NAME = "Chat"
BRAND = "#4f46e5"  # indigo-600

# Quasar switches dark mode with body.body--dark, so light and dark surfaces are written as CSS here
# rather than with Tailwind's dark: variants, which follow a different switch.
CSS = """
/* The palette: every surface, text and line colour of the product, light and dark, in one place.
   Quasar marks dark mode with body.body--dark; components use these variables, never colours of
   their own, so that both themes stay consistent. Contrast of the text colours (WCAG ratio, at least
   4.5:1), worked out on the surfaces they sit on, including a hovered row and a row that mentions
   the reader (its yellow tint over the surface):
     light  text 17.9 / 16.3 hovered · muted 7.6 / 6.9 · faint 5.3 / 4.85 · accent 6.3 / 5.7 ·
            accent-text 7.9, 6.6 on accent-soft · danger 5.7 / 5.2 · warning 5.0 / 4.6 ·
            white on accent-fill 6.3
     dark   text 14.3 / 12.7, 11.9 raised · muted 9.3 / 8.2, 7.7 raised · faint 7.0 / 6.2, 5.8 raised ·
            accent 6.0 / 5.3, 4.9 raised · accent-text 8.9, 5.2 on accent-soft over raised ·
            danger 6.4 / 5.7, 5.3 raised · warning 10.6 · white on accent-fill 6.3
   (tests/test_accessibility.py audits the pages with axe-core in both themes.) */
:root {
  --chat-page: #f8fafc;          /* behind the panels */
  --chat-surface: #ffffff;       /* panels, header, composer */
  --chat-raised: #ffffff;        /* menus, toolbars, popovers, dialogs */
  --chat-text: #0f172a;
  --chat-muted: #475569;         /* secondary text */
  --chat-faint: #5e6c84;         /* times, hints: still 4.5:1 on a hovered or mentioned row */
  --chat-border: #e2e8f0;
  --chat-hover: #f1f5f9;         /* a row or item under the pointer */
  --chat-accent: #4f46e5;        /* the brand: links, flat buttons' text, selection */
  --chat-accent-text: #4338ca;   /* accent as text on accent-soft (own reactions, mentions, the current room) */
  --chat-accent-soft: rgba(79, 70, 229, .12);
  --chat-accent-fill: #4f46e5;   /* filled with the brand (avatars, badges, primary buttons)... */
  --chat-on-accent: #ffffff;     /* ...and the text on it */
  --chat-danger: #c81e1e;
  --chat-warning: #b45309;       /* nearly at a limit */
  --chat-online: #059669;        /* the presence dot: 3.8:1, as a shape needs 3:1 */
  --chat-focus: #6366f1;         /* the keyboard focus ring: 4.5:1 on the surfaces */
  --chat-shadow: rgba(15, 23, 42, .12);
}
body.body--dark {
  --chat-page: #0b1120;
  --chat-surface: #111827;
  --chat-raised: #1f2937;
  --chat-text: #e5e7eb;
  --chat-muted: #b4bcc8;
  --chat-faint: #9ca3af;
  --chat-border: #2a3444;
  --chat-hover: #1a2333;         /* darker than --chat-raised, so a toolbar stands out on a hovered row */
  --chat-accent: #818cf8;
  --chat-accent-text: #a5b4fc;
  --chat-accent-soft: rgba(129, 140, 248, .22);
  --chat-accent-fill: #4f46e5;
  --chat-on-accent: #ffffff;
  --chat-danger: #f87171;
  --chat-warning: #fbbf24;
  --chat-online: #34d399;
  --chat-focus: #a5b4fc;
  --chat-shadow: rgba(0, 0, 0, .45);
}
/* Quasar's own body colours (.body--dark sets white on its dark page) give way to the palette. */
body, body.body--dark { background: var(--chat-page); color: var(--chat-text); }
body { font-family: Inter, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.chat-surface { background: var(--chat-surface); color: var(--chat-text); }
.chat-border-top { border-top: 1px solid var(--chat-border); }
.chat-border-bottom { border-bottom: 1px solid var(--chat-border); }
.chat-muted { color: var(--chat-muted); }
.chat-faint { color: var(--chat-faint); }
/* Quasar's primary where it is text or a line on the surface (flat buttons, links, icons, a focused
   field's label and outline): the palette's accent, which keeps 4.5:1 in dark mode too, where the
   brand's own indigo would not (2.8:1). Fills (bg-primary, with white text) keep the brand colour. */
.text-primary, .q-field { --q-primary: var(--chat-accent); }
/* Keyboard focus is always visible: a 2 px ring in the focus colour around buttons (Quasar's too),
   links, the rows' commands, reaction chips, quotes, and any other focusable element. Quasar's
   fields draw their own focused underline or outline, so their inputs get none. Quasar's buttons
   carry .no-outline (an !important in its last layer), hence the layer and !important here. */
@layer overrides {
  button:focus-visible, a:focus-visible, summary:focus-visible, .q-btn:focus-visible, .q-item:focus-visible,
  [tabindex]:focus-visible, input:not(.q-field__native):focus-visible,
  textarea:not(.q-field__native):focus-visible, select:focus-visible {
    outline: 2px solid var(--chat-focus) !important; outline-offset: 2px;
  }
  .q-field__native:focus-visible { outline: none !important; }
}
/* The presence list (chat_ui/room/presence_panel.py): HTML shared by every view; "you" is shown by
   one rule per page. */
.chat-presence-item { display: flex; align-items: center; gap: 0.75rem; padding: 0.375rem 1rem; }
.chat-presence-avatar { display: inline-flex; align-items: center; justify-content: center; flex-shrink: 0;
  width: 28px; height: 28px; border-radius: 9999px; background: var(--chat-accent-fill);
  color: var(--chat-on-accent); font-size: 0.75rem; }
.chat-presence-name { flex: 1; min-width: 0; font-size: 0.875rem; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.chat-presence-you { display: none; font-size: 0.75rem; color: var(--chat-faint); }
.chat-presence-dot { width: 0.5rem; height: 0.5rem; border-radius: 9999px; background: var(--chat-online);
  flex-shrink: 0; }
.chat-message-list { overscroll-behavior: contain; }
/* Scroll anchoring keeps a reader's place; it is off while they follow the newest messages, and
   the edge watchers and labels around the rows never serve as anchors (chat_ui/room/message_list.py). */
.chat-message-list.chat-follow, .chat-no-anchor { overflow-anchor: none; }"""


def own_reaction_css(guest_id: int) -> str:
    """The reader's own reactions, highlighted by one rule per page: the chips list who reacted
    (data-guests), so the rows' HTML is the same for every reader."""
    chip = f'.chat-reaction[data-guests~="g{int(guest_id)}"]'
    return (
        f"{chip} {{ background: var(--chat-accent-soft); border-color: var(--chat-accent); "
        "color: var(--chat-accent-text); }"
    )


def apply() -> None:
    # Quasar's dark palette from ours: its dark cards, menus and dialogs (.q-dark) are raised surfaces.
    ui.colors(
        primary=BRAND, secondary="#0ea5e9", accent="#a855f7", dark="var(--chat-raised)", dark_page="var(--chat-page)"
    )

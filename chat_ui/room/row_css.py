"""The CSS of message rows (chat_ui/room/message_rows.py): rows are HTML shared by every viewer,
not elements, so their look lives in these rules. Colours come from the palette in chat_ui/theme.py;
the few that are the rows' own (the guests' hues, the mention mark) are variables defined here, light
and dark, and used through var() like the palette's.

The layout is Slack's and Discord's: a gutter on the left holds a group's avatar (and a grouped row's
time, on hover), the name and time head the group, and the text sits beside the avatar. Vertical sizes
are fixed line heights, so that rows are dense and never change height after they render."""

from chat_ui.room.message_rows import NAME_COLOURS

# Each hue as text on a dark surface (at least 4.5:1 on --chat-surface and --chat-hover of the dark
# palette, and on a reply's quote in a hovered row); avatars keep the light shade in both themes, under
# white initials (4.5:1 and more). The light shades keep 4.5:1 on white, a hovered row, a mention's
# mark and a quote on it.
DARK_NAME_COLOURS = ("#a5b4fc", "#22d3ee", "#34d399", "#fb923c", "#fca5a5", "#f9a8d4", "#c4b5fd", "#60a5fa")


def _hues() -> str:
    rules = []
    for index, (light, dark) in enumerate(zip(NAME_COLOURS, DARK_NAME_COLOURS, strict=True)):
        rules.append(f".chat-hue-{index} {{ --chat-hue: {light}; --chat-hue-bg: {light}; }}")
        rules.append(f"body.body--dark .chat-hue-{index} {{ --chat-hue: {dark}; }}")
    return "\n".join(rules) + "\n"


ROW_CSS = (
    """
:root {
  --chat-gutter: 2.25rem;        /* the avatar's size, and the width of the gutter */
  --chat-line: 1.25rem;          /* a line of message text */
  --chat-group-gap: .375rem;     /* above a group's head line */
  --chat-mention-bg: rgba(250, 204, 21, .09);   /* --chat-faint keeps 4.5:1 on it */
  --chat-mention-hover: rgba(250, 204, 21, .18);
  --chat-quote-bg: color-mix(in srgb, var(--chat-accent) 6%, transparent);  /* the hues keep 4.5:1 on it */
  --chat-mention-mark: #eab308;
  --chat-flash: rgba(250, 204, 21, .45);
  --chat-marked-bg: color-mix(in srgb, var(--chat-accent) 9%, transparent);  /* --chat-muted keeps 4.5:1 */
}
body.body--dark {
  --chat-mention-bg: rgba(250, 204, 21, .08);
  --chat-mention-hover: rgba(250, 204, 21, .13);
  --chat-flash: rgba(250, 204, 21, .25);
  --chat-marked-bg: color-mix(in srgb, var(--chat-accent) 16%, transparent);
  --chat-quote-bg: color-mix(in srgb, var(--chat-accent) 12%, transparent);
}
"""
    + _hues()
    + """
/* A row: the gutter (avatar, or a grouped row's time) on the left, everything else in one column.
   Both kinds of row start alike: the row above a window's first row becomes known only when an older
   page loads, and a row whose top moved then would push the reader's place. The head line carries
   the space above a group (its padding), never the row's own padding or margin. */
.chat-row { position: relative; display: grid; grid-template-columns: minmax(0, 1fr); color: var(--chat-text);
  padding: 1px 1rem 1px calc(1rem + var(--chat-gutter) + .75rem); }
.chat-row:hover { background: var(--chat-hover); }
.chat-head { display: flex; align-items: baseline; gap: .5rem; min-width: 0; line-height: 1rem;
  padding-top: var(--chat-group-gap); }
.chat-avatar { position: absolute; left: 1rem; top: calc(1px + var(--chat-group-gap)); width: var(--chat-gutter);
  height: var(--chat-gutter); border-radius: 9999px; display: flex; align-items: center; justify-content: center;
  background: var(--chat-hue-bg); color: #fff; font-size: .8125rem; font-weight: 600; letter-spacing: .01em;
  line-height: 1; user-select: none; }
.chat-author { color: var(--chat-hue, var(--chat-text)); font-weight: 650; font-size: .9375rem; overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
/* A grouped row keeps its author's name, hidden: the group's first row shows it. */
.chat-author-hidden { display: none; }
.chat-time { flex: none; font-size: .75rem; color: var(--chat-faint); font-variant-numeric: tabular-nums; }
.chat-gutter-time { position: absolute; left: .75rem; top: 1px; width: calc(var(--chat-gutter) + .5rem);
  text-align: center; font-size: .6875rem; line-height: var(--chat-line); color: var(--chat-faint);
  font-variant-numeric: tabular-nums; opacity: 0; }
.chat-row:hover > .chat-gutter-time, .chat-row:focus-within > .chat-gutter-time { opacity: 1; }
/* On a hovered row's background, --chat-faint falls short of 4.5:1: small text darkens to --chat-muted. */
.chat-row:hover .chat-time, .chat-row:hover .chat-gutter-time, .chat-row:hover .chat-edited {
  color: var(--chat-muted); }

/* The toolbar: floats over the row's top right on hover and on keyboard focus within the row. */
.chat-actions { position: absolute; top: -.875rem; right: 1rem; z-index: 2; display: flex; align-items: center;
  gap: 2px; padding: 2px; border-radius: .5rem; background: var(--chat-raised); border: 1px solid var(--chat-border);
  box-shadow: 0 1px 2px rgba(15, 23, 42, .08), 0 4px 12px rgba(15, 23, 42, .1); opacity: 0; pointer-events: none; }
body.body--dark .chat-actions { box-shadow: 0 1px 2px rgba(0, 0, 0, .4), 0 4px 12px rgba(0, 0, 0, .35); }
.chat-row.chat-first > .chat-actions { top: -.5rem; }
.chat-row:hover > .chat-actions, .chat-row:focus-within > .chat-actions { opacity: 1; pointer-events: auto; }
.chat-action, .chat-menu-button { display: inline-flex; align-items: center; justify-content: center;
  border-radius: .375rem; color: var(--chat-muted); cursor: pointer; background: none; }
.chat-action { width: 2rem; height: 2rem; }
/* Icons are Material Icons ligatures (the font the page has anyway), drawn from data-icon: no image
   request, and no text in the row besides the message's own. */
.chat-action::before, .chat-menu-button::before { content: attr(data-icon); font-family: "Material Icons";
  font-size: 1.25rem; font-weight: normal; font-style: normal; line-height: 1; letter-spacing: normal;
  text-transform: none; white-space: nowrap; direction: ltr; font-feature-settings: "liga";
  -webkit-font-smoothing: antialiased; }
.chat-action:hover { color: var(--chat-accent-text); background: var(--chat-accent-soft); }
.chat-action-danger:hover { color: var(--chat-danger);
  background: color-mix(in srgb, var(--chat-danger) 12%, transparent); }
.chat-action:focus-visible, .chat-menu-button:focus-visible { outline: 2px solid var(--chat-focus);
  outline-offset: -2px; }

/* Touch screens cannot hover: one "⋯" button per row opens the page's menu of actions (a 40 px target
   centred on the row's first line; a later row's target lies over an earlier one's lower part). */
.chat-menu-button { display: none; }
@media (hover: none) {
  .chat-actions { display: none; }
  .chat-row { padding-top: 3px; padding-bottom: 3px; padding-right: 2.75rem; }
  .chat-avatar { top: calc(3px + var(--chat-group-gap)); }
  .chat-gutter-time { top: 3px; }
  .chat-menu-button { display: flex; position: absolute; z-index: 1; right: .25rem; top: calc(3px + .625rem - 1.25rem);
    width: 2.5rem; height: 2.5rem; border-radius: 9999px; color: var(--chat-faint); }
  .chat-row.chat-first > .chat-menu-button { top: calc(3px + var(--chat-group-gap) + .5625rem - 1.25rem); }
  .chat-menu-button:active { background: var(--chat-hover); color: var(--chat-text); }
  .chat-row:hover { background: none; }
}
/* The "⋯" menu (message_menu.py): a sheet from the bottom of the screen. */
.chat-menu-sheet { background: var(--chat-raised); color: var(--chat-text); border-radius: 1rem 1rem 0 0;
  padding-bottom: max(.5rem, env(safe-area-inset-bottom)); }
.q-btn.chat-menu-emoji { font-size: 1.375rem; width: 2.875rem; height: 2.875rem; min-width: 0; min-height: 0;
  padding: 0; background: var(--chat-hover); }
.chat-menu-item { color: var(--chat-text); }
.chat-menu-danger { color: var(--chat-danger); }

/* A message shown from a reply's quote (its #message-<id> is the page's target) flashes briefly. */
@keyframes chat-flash { from { background: var(--chat-flash); } to { background: transparent; } }
.chat-row:target { animation: chat-flash 2.5s ease-out; scroll-margin: 4rem 0; }
/* Mentions: a name in the text, and a stronger mark on the rows that mention the reader. */
.chat-mention { color: var(--chat-accent-text); background: var(--chat-accent-soft); border-radius: .25rem;
  padding: 0 .15rem; font-weight: 600; }
.chat-row[data-mentioned="true"] { background: var(--chat-mention-bg);
  box-shadow: inset 3px 0 0 var(--chat-mention-mark); }
.chat-row[data-mentioned="true"]:hover { background: var(--chat-mention-hover); }
/* The message a link led to (?message=ID from a search result, a reply's quote): the brand's tint and bar,
   kept until the reader moves on to the newest messages or sends (after the mention's rules: it wins).
   Its small text darkens, as on a hovered row; arriving, it flashes into the tint rather than out of it. */
.chat-row.chat-highlighted { background: var(--chat-marked-bg); box-shadow: inset 3px 0 0 var(--chat-accent); }
.chat-row.chat-highlighted:hover { background: var(--chat-accent-soft); }
.chat-row.chat-highlighted .chat-time, .chat-row.chat-highlighted .chat-gutter-time,
.chat-row.chat-highlighted .chat-edited { color: var(--chat-muted); }
@keyframes chat-flash-marked { from { background: var(--chat-flash); } to { background: var(--chat-marked-bg); } }
.chat-row.chat-highlighted:target { animation-name: chat-flash-marked; }
/* Day separators and the "New" divider: a line with a label in its middle. */
.chat-day-separator, .chat-unread-divider { display: flex; align-items: center; gap: .75rem;
  margin: .75rem 1rem .25rem; font-size: .75rem; font-weight: 600; color: var(--chat-faint); }
.chat-day-separator::before, .chat-day-separator::after, .chat-unread-divider::before,
.chat-unread-divider::after { content: ""; flex: 1; height: 1px; background: var(--chat-border); }
.chat-unread-divider { color: var(--chat-danger); margin-top: .25rem; }
.chat-unread-divider::before, .chat-unread-divider::after {
  background: color-mix(in srgb, var(--chat-danger) 60%, transparent); }
/* A reply's quote of the original, above its text; a click shows the original. */
.chat-reply-quote { display: flex; align-items: baseline; gap: .375rem; min-width: 0; max-width: 100%;
  justify-self: start; margin: .125rem 0; padding: 0 .5rem; line-height: 1.25rem;
  border-left: 3px solid color-mix(in srgb, var(--chat-accent) 45%, transparent); border-radius: .25rem;
  background: var(--chat-quote-bg); font-size: .8125rem; color: var(--chat-muted); cursor: pointer;
  text-align: left; }
.chat-reply-quote:hover { background: var(--chat-accent-soft); }
.chat-quote-icon { color: var(--chat-muted); }
.chat-quote-author { font-weight: 600; white-space: nowrap; flex: none; max-width: 10rem; overflow: hidden;
  text-overflow: ellipsis; color: var(--chat-hue, var(--chat-text)); }
.chat-quote-text { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.chat-quote-deleted { font-style: italic; color: var(--chat-faint); }
/* Reaction chips: the emoji is drawn from data-emoji, the chip's text is its count. */
.chat-reactions { display: flex; flex-wrap: wrap; gap: .25rem; margin: .125rem 0 .125rem; }
.chat-reaction { display: inline-flex; align-items: center; gap: .3rem; height: 1.5rem; padding: 0 .5rem;
  border-radius: 9999px; border: 1px solid var(--chat-border); background: var(--chat-page); color: var(--chat-muted);
  font-size: .75rem; font-weight: 600; cursor: pointer; line-height: 1; }
.chat-reaction::before { content: attr(data-emoji); font-size: .9375rem; font-weight: 400; }
.chat-reaction:hover { border-color: var(--chat-accent); }
.chat-edited { font-size: .6875rem; color: var(--chat-faint); cursor: default; }
/* Message text is Markdown (chat_ui/room/markdown.py): line breaks come as <br>, so white-space is
   normal; code blocks keep theirs and scroll sideways instead of widening the page. "(edited)"
   follows the text on its line when it fits. */
.chat-body { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: .375rem; min-width: 0; }
.chat-message-text { overflow-wrap: anywhere; font-size: .9375rem; line-height: var(--chat-line); min-width: 0;
  max-width: 100%; }
.chat-message-text p { margin: 0; }
.chat-message-text > * + * { margin-top: .25rem; }
.chat-message-text code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em;
  padding: .1rem .3rem; border-radius: .25rem; background: var(--chat-hover); border: 1px solid var(--chat-border); }
.chat-message-text pre { margin: .25rem 0; padding: .5rem .75rem; border-radius: .5rem; overflow-x: auto;
  max-width: 100%; white-space: pre; background: var(--chat-page); border: 1px solid var(--chat-border); }
.chat-message-text pre code { padding: 0; background: none; border: 0; font-size: .8125rem; overflow-wrap: normal; }
.chat-message-text blockquote { margin: .125rem 0; padding-left: .75rem; color: var(--chat-muted);
  border-left: 3px solid color-mix(in srgb, var(--chat-faint) 55%, transparent); }
.chat-message-text ul, .chat-message-text ol { margin: .125rem 0; padding-left: 1.5rem; }
.chat-message-text ul { list-style: disc; }
.chat-message-text ol { list-style: decimal; }
.chat-message-text a { color: var(--chat-accent-text); text-decoration: underline; text-underline-offset: 2px; }
/* Images: the thumbnail (its size known up front), and the full size in a popover, which the browser
   opens, and closes on Escape or a click outside. The lightbox is dark in both themes. */
.chat-thumb { display: block; border-radius: .5rem; max-width: min(100%, 320px); height: auto;
  background: var(--chat-hover); }
.chat-thumb-button { justify-self: start; margin: .25rem 0 .125rem; padding: 0; border: 0; background: none;
  border-radius: .5rem; cursor: zoom-in; max-width: 100%; }
.chat-lightbox { inset: 0; margin: auto; padding: 0; border: 0; background: transparent; overflow: visible; }
.chat-lightbox > img { display: block; max-width: 95vw; max-height: 90vh; object-fit: contain; border-radius: .5rem; }
.chat-lightbox::backdrop { background: rgba(0, 0, 0, .8); }
.chat-lightbox-close { position: absolute; top: .5rem; right: .5rem; width: 2.5rem; height: 2.5rem;
  border-radius: 9999px; background: rgba(0, 0, 0, .55); color: white; font-size: 1.1rem; cursor: pointer; }
"""
)

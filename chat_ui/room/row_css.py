"""The CSS of message rows (chat_ui/room/message_rows.py): rows are HTML shared by every viewer,
not elements, so their look lives in these rules. Colours come from the palette in chat_ui/theme.py."""

ROW_CSS = """
.chat-row:hover { background: #f1f5f9; }
body.body--dark .chat-row:hover { background: #1f2937; }
/* A row's buttons float at its top right on hover (and on keyboard focus); on touch screens, which
   cannot hover, they stay in the row's flow, always visible. */
.chat-row { position: relative; }
/* Both kinds of row start alike: the row above a window's first row becomes known only when an older
   page loads, and a row whose top moved then would push the reader's place. The header's own line
   carries the space above a group. */
.chat-row { padding-top: .125rem; padding-bottom: .125rem; }
.chat-row.chat-first > .chat-author, .chat-row.chat-first > .chat-time { padding-top: .625rem; }
.chat-actions { position: absolute; top: -.6rem; right: .75rem; z-index: 2; display: flex; align-items: center;
  gap: 1px; padding: 1px; border-radius: .5rem; background: #ffffff; border: 1px solid #e2e8f0;
  box-shadow: 0 1px 3px rgba(15, 23, 42, .12); opacity: 0; }
body.body--dark .chat-actions { background: #1f2937; border-color: #374151; }
.chat-row:hover > .chat-actions, .chat-actions:focus-within { opacity: 1; }
.chat-actions > .chat-time { padding: 0 .375rem; }
.chat-action { color: #64748b; font-size: .9rem; line-height: 1; padding: .3rem .45rem; border-radius: .375rem;
  cursor: pointer; }
body.body--dark .chat-action { color: #94a3b8; }
.chat-action:hover { color: #4f46e5; background: rgba(79, 70, 229, .1); }
.chat-action-danger:hover { color: #dc2626; background: rgba(220, 38, 38, .1); }
@media (hover: none) {
  .chat-actions { position: static; opacity: .8; box-shadow: none; border: 0; background: none;
    grid-column: 3; grid-row: 1; align-self: start; }
  body.body--dark .chat-actions { background: none; }
  .chat-actions > .chat-time { display: none; }
  .chat-row.chat-continued { grid-template-columns: minmax(0, 1fr) auto; }
  .chat-row.chat-continued > :not(.chat-actions) { grid-column: 1; }
  .chat-row.chat-continued > .chat-actions { grid-column: 2; grid-row: 1 / span 3; }
}
/* A message shown from a reply's quote (its #message-<id> is the page's target) flashes briefly. */
@keyframes chat-flash { from { background: rgba(250, 204, 21, .45); } to { background: transparent; } }
.chat-row:target { animation: chat-flash 2.5s ease-out; scroll-margin: 4rem 0; }
/* Mentions: a name in the text, and a stronger mark on the rows that mention the reader. */
.chat-mention { color: #4338ca; background: rgba(79, 70, 229, .12); border-radius: .25rem; padding: 0 .15rem;
  font-weight: 600; }
body.body--dark .chat-mention { color: #c7d2fe; background: rgba(129, 140, 248, .22); }
.chat-row[data-mentioned="true"] { background: rgba(250, 204, 21, .12); box-shadow: inset 3px 0 0 #eab308; }
.chat-row[data-mentioned="true"]:hover { background: rgba(250, 204, 21, .2); }
body.body--dark .chat-row[data-mentioned="true"] { background: rgba(250, 204, 21, .09); }
/* Day separators and the "New" divider: a line with a label in its middle. */
.chat-day-separator, .chat-unread-divider { display: flex; align-items: center; gap: .75rem; margin: .75rem 1rem .25rem;
  font-size: .75rem; font-weight: 600; color: #64748b; }
.chat-day-separator::before, .chat-day-separator::after, .chat-unread-divider::before,
.chat-unread-divider::after { content: ""; flex: 1; height: 1px; background: #e2e8f0; }
body.body--dark .chat-day-separator { color: #94a3b8; }
body.body--dark .chat-day-separator::before, body.body--dark .chat-day-separator::after { background: #334155; }
.chat-unread-divider { color: #dc2626; margin-top: .25rem; }
.chat-unread-divider::before, .chat-unread-divider::after { background: #f87171; }
body.body--dark .chat-unread-divider { color: #f87171; }
/* A reply's quote of the original, above its text; a click shows the original. */
.chat-reply-quote { display: flex; align-items: baseline; gap: .375rem; min-width: 0; max-width: 100%;
  justify-self: start; margin: .125rem 0 .25rem; padding: .125rem .5rem; border-left: 3px solid #c7d2fe;
  border-radius: .25rem; background: rgba(99, 102, 241, .06); font-size: .8rem; color: #475569; cursor: pointer;
  text-align: left; }
.chat-reply-quote:hover { background: rgba(99, 102, 241, .12); }
body.body--dark .chat-reply-quote { color: #cbd5e1; border-left-color: #4f46e5; background: rgba(99, 102, 241, .12); }
.chat-quote-icon { color: #94a3b8; }
.chat-quote-author { font-weight: 600; white-space: nowrap; flex: none; max-width: 10rem; overflow: hidden;
  text-overflow: ellipsis; }
.chat-quote-text { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.chat-quote-deleted { font-style: italic; color: #94a3b8; }
/* Reaction chips: the emoji is drawn from data-emoji, the chip's text is its count. */
.chat-reactions { display: flex; flex-wrap: wrap; gap: .25rem; margin-top: .25rem; }
.chat-reaction { display: inline-flex; align-items: center; gap: .3rem; height: 1.6rem; padding: 0 .5rem;
  border-radius: 9999px; border: 1px solid #e2e8f0; background: #f8fafc; color: #475569; font-size: .8rem;
  font-weight: 600; cursor: pointer; line-height: 1; }
.chat-reaction::before { content: attr(data-emoji); font-size: 1rem; font-weight: 400; }
.chat-reaction:hover { border-color: #a5b4fc; }
body.body--dark .chat-reaction { background: #1f2937; border-color: #374151; color: #cbd5e1; }
.chat-edited { font-size: .7rem; color: #94a3b8; cursor: default; }
/* Message text is Markdown (chat_ui/room/markdown.py): line breaks come as <br>, so white-space is
   normal; code blocks keep theirs and scroll sideways instead of widening the page. "(edited)"
   follows the text on its line when it fits. */
.chat-body { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: .375rem; min-width: 0; }
.chat-message-text { overflow-wrap: anywhere; font-size: 15px; line-height: 1.375; min-width: 0; max-width: 100%; }
.chat-message-text p { margin: 0; }
.chat-message-text > * + * { margin-top: .375rem; }
.chat-message-text code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em;
  padding: .1rem .3rem; border-radius: .25rem; background: rgba(100, 116, 139, .14); }
.chat-message-text pre { margin: .25rem 0; padding: .5rem .75rem; border-radius: .5rem; overflow-x: auto;
  max-width: 100%; white-space: pre; background: #f1f5f9; border: 1px solid #e2e8f0; }
.chat-message-text pre code { padding: 0; background: none; font-size: .85rem; overflow-wrap: normal; }
body.body--dark .chat-message-text pre { background: #0b1120; border-color: #1f2937; }
.chat-message-text blockquote { margin: .125rem 0; padding-left: .75rem; border-left: 3px solid #cbd5e1;
  color: #475569; }
body.body--dark .chat-message-text blockquote { border-left-color: #475569; color: #94a3b8; }
.chat-message-text ul, .chat-message-text ol { margin: .125rem 0; padding-left: 1.5rem; }
.chat-message-text ul { list-style: disc; }
.chat-message-text ol { list-style: decimal; }
.chat-message-text a { color: #4f46e5; text-decoration: underline; text-underline-offset: 2px; }
body.body--dark .chat-message-text a { color: #a5b4fc; }
/* A grouped row keeps its author's name, hidden: the group's first row shows it. */
.chat-author-hidden { display: none; }
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

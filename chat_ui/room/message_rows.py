"""A message as HTML: built in Python, every piece of user text escaped, shared between viewers.

Every NiceGUI element costs server CPU and memory for every viewer of a room (see
docs/PERFORMANCE.md), so messages are not elements: the list groups them into a few chunk
elements whose HTML is made here. The HTML of a row depends only on the message and a small
`RowView` (the reader's time zone and day, what the reader may do to it, whether it mentions
the reader, its place among its neighbours, and the display names it shows), so it is cached:
a message that reaches a thousand viewers in one zone is rendered once. What differs per reader
beyond those flags is not in the HTML: the reader's own reactions are highlighted by one CSS
rule per page (`data-guests` lists who reacted; theme.own_reaction_css).

A group's first row shows the author's avatar: initials on the guest's hue, drawn by CSS (no image
request); the rows after it in the group show their time in the gutter on hover.

The row's buttons need no script either. A thumbnail opens its full-size image in a popover
(`popovertarget`: the browser opens it, and closes it on Escape or a click outside). Every other
button sends an invoker command (`commandfor`/`command`) to the message list, whose `command`
event carries the command's name, e.g. `--delete-42`, to the server; so does a row's "⋯" button
on touch screens, which opens the page's menu of the message (message_menu.py).
"""

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from html import escape
from zoneinfo import ZoneInfo

from chat_ui.room.markdown import plain_text, render_markdown
from models.message import MessagePublic, ReactionPublic, ReplyQuote

# A guest's colour: one of these hues, picked from their id (names, avatars, quotes). The CSS gives each
# hue a light and a dark shade (row_css.py: `.chat-hue-<n>`); these are the light ones, for elements
# that need a colour of their own (the composer's suggestions), each at least 4.5:1 on white.
NAME_COLOURS = ("#4f46e5", "#0e7490", "#047857", "#c2410c", "#b91c1c", "#be185d", "#7c3aed", "#1d4ed8")
ROW_CLASSES = "chat-row"
COMMAND_TARGET = "chat-messages"  # the id of the element whose `command` event the list listens to
GROUP_WITHIN = timedelta(minutes=5)  # consecutive messages of one author this close share a header
TOOLTIP_NAMES = 20  # names listed in a reaction's tooltip before "and N others"
# An emoji travels in a command as its code points in hex joined by "_" (a command name is an
# identifier-like token); at most 16 code points, each a valid scalar value (checked on the way back).
EMOJI_CODE = re.compile(r"[0-9a-f]{1,6}(?:_[0-9a-f]{1,6}){0,15}")


@dataclass(frozen=True)
class RowView:
    """Everything besides the message that a row's HTML depends on; hashable, so part of the key."""

    timezone: ZoneInfo
    today: date
    deletable: bool = False  # the reader may delete it (its author, the room's owner)
    removable: bool = False  # the reader may remove its author from the room (the owner)
    editable: bool = False  # the reader wrote it
    mentioned: bool = False  # it mentions the reader
    continued: bool = False  # grouped under the previous message's header
    day: str | None = None  # the day separator above it ("Today", ...), if any
    unread: bool = False  # the "New" divider above it
    marked: bool = False  # the message a link led to (?message=ID, a quote): marked until the reader moves on
    names: tuple[tuple[int, str], ...] = ()  # current display names of the guests it shows


def row_html(
    message: MessagePublic,
    timezone: ZoneInfo,
    *,
    deletable: bool = False,
    removable: bool = False,
    today: date | None = None,
) -> str:
    """The message's row on its own (no neighbours), as the reader in `timezone` sees it today."""
    return render_row(message, RowView(timezone, today or datetime.now(timezone).date(), deletable, removable))


@lru_cache(maxsize=4096)  # MessagePublic is frozen, so it hashes by value: an edited message is a new key
def render_row(message: MessagePublic, view: RowView) -> str:
    names = dict(view.names)
    author_name = names.get(message.author.id, message.author.display_name)  # current, after a rename
    author = escape(author_name)
    parts = [_separator(view.day) if view.day else "", _UNREAD_DIVIDER if view.unread else ""]
    parts.append(_row_open(message, view))
    parts.append(_gutter_time(message, view, author_name) if view.continued else _header(message, view, author_name))
    if message.reply_to is not None:
        parts.append(_quote(message.reply_to, names))
    if message.image is not None:
        parts.append(_image(message, author))
    parts.append(_body(message, view, names))
    if message.reactions:
        parts.append(_reactions(message.id, message.reactions, names))
    parts.append(_actions(message, view, author))
    parts.append(_menu_button(message.id))
    parts.append("</div>")
    return "".join(parts)


def _row_open(message: MessagePublic, view: RowView) -> str:
    classes = ROW_CLASSES + (" chat-continued" if view.continued else " chat-first")
    flags = ' data-mentioned="true"' if view.mentioned else ""
    if view.marked:  # the class styles it (row_css.py); the attributes say so to tests and screen readers
        classes += " chat-highlighted"
        flags += ' data-highlighted="true" aria-current="true"'
    return (
        f'<div id="message-{message.id}" class="{classes}" data-testid="message" '
        f'data-message-id="{message.id}" data-author-id="{message.author.id}"{flags}>'
    )


def _header(message: MessagePublic, view: RowView, name: str) -> str:
    """A group's first row: the avatar in the gutter, then the author's name and the time on one line."""
    hue = f"chat-hue-{name_hue(message.author.id)}"
    return (
        f'<span class="chat-avatar {hue}" aria-hidden="true">{escape(initials(name))}</span>'
        f'<div class="chat-head"><span data-testid="message-author" class="chat-author {hue}">{escape(name)}</span>'
        f"{_time(message, view)}</div>"
    )


def _gutter_time(message: MessagePublic, view: RowView, name: str) -> str:
    """A grouped row: its time in the gutter (shown on hover), and the author's name kept, hidden."""
    local = message.created_at.astimezone(view.timezone)
    title = escape(local.strftime("%Y-%m-%d %H:%M:%S %Z"))
    return (
        f'<time class="chat-gutter-time" datetime="{message.created_at.isoformat()}" title="{title}">'
        f"{local:%H:%M}</time>"
        f'<span data-testid="message-author" class="chat-author chat-author-hidden">{escape(name)}</span>'
    )


def _time(message: MessagePublic, view: RowView) -> str:
    local = message.created_at.astimezone(view.timezone)
    title = escape(local.strftime("%Y-%m-%d %H:%M:%S %Z"))
    shown = escape(local.strftime("%H:%M") if local.date() == view.today else local.strftime("%b %d, %H:%M"))
    return f'<time class="chat-time" datetime="{message.created_at.isoformat()}" title="{title}">{shown}</time>'


def _actions(message: MessagePublic, view: RowView, author: str) -> str:
    """The row's toolbar: shown on hover and on keyboard focus with a mouse; touch screens get the
    "⋯" menu instead (message_menu.py)."""
    buttons = [
        _command_button(f"--reply-{message.id}", "reply", "Reply", "reply-button"),
        _command_button(f"--react-{message.id}", "add_reaction", "Add a reaction", "react-button"),
    ]
    if view.editable:
        buttons.append(_command_button(f"--edit-{message.id}", "edit", "Edit this message", "edit-message-button"))
    if view.removable:
        buttons.append(
            _command_button(
                f"--remove-{message.author.id}",
                "person_remove",
                f"Remove {author} from the room",
                "remove-author",
                danger=True,
            )
        )
    if view.deletable:
        buttons.append(
            _command_button(f"--delete-{message.id}", "delete", "Delete this message", "delete-message", danger=True)
        )
    return f'<span class="chat-actions" role="toolbar">{"".join(buttons)}</span>'


def _command_button(command: str, icon: str, title: str, testid: str, *, danger: bool = False) -> str:
    """An icon button; the icon is a Material Icons ligature drawn by CSS from data-icon (no text in the
    row, no image). The aria-label is needed besides the title: CSS-generated text (the ligature's
    name, "reply") would otherwise be the button's accessible name."""
    classes = "chat-action chat-action-danger" if danger else "chat-action"
    return (
        f'<button type="button" class="{classes}" data-testid="{testid}" commandfor="{COMMAND_TARGET}" '
        f'command="{command}" title="{title}" aria-label="{title}" data-icon="{icon}"></button>'
    )


def _menu_button(message_id: int) -> str:
    """Touch screens: one "⋯" button per row opens the page's menu of what the reader may do to it."""
    return (
        f'<button type="button" class="chat-menu-button" data-testid="message-menu-button" '
        f'commandfor="{COMMAND_TARGET}" command="--menu-{message_id}" title="Message actions" '
        f'aria-label="Message actions" data-icon="more_horiz"></button>'
    )


def _body(message: MessagePublic, view: RowView, names: Mapping[int, str]) -> str:
    """The text as Markdown (mentions highlighted), then "(edited)" with the edit's time."""
    parts = ['<div class="chat-body">']
    if message.text:
        mentioned = tuple(names[guest] for guest in message.mentions if guest in names)
        html = render_markdown(message.text, mentioned)
        parts.append(f'<div data-testid="message-text" class="chat-message-text">{html}</div>')
    if message.edited_at is not None:
        local = message.edited_at.astimezone(view.timezone)
        title = escape(local.strftime("Edited %Y-%m-%d %H:%M:%S %Z"))
        parts.append(f'<span data-testid="message-edited" class="chat-edited" title="{title}">(edited)</span>')
    parts.append("</div>")
    return "".join(parts)


def _quote(quote: ReplyQuote, names: Mapping[int, str]) -> str:
    """What the message answers; a click shows the original (the list scrolls to it, loading it if needed)."""
    if quote.deleted:
        inner = '<span class="chat-quote-text chat-quote-deleted">Original message deleted</span>'
    else:
        author = escape(names.get(quote.author.id, quote.author.display_name))
        first_line = quote.text.strip().split("\n", 1)[0] if quote.text.strip() else ""
        first_line = plain_text(first_line) or first_line  # "**new**" reads "new"; a lone "#" stays
        text = escape(first_line) if first_line else ("Image" if quote.kind == "image" else "")
        inner = (
            f'<span class="chat-quote-author chat-hue-{name_hue(quote.author.id)}">{author}</span>'
            f'<span class="chat-quote-text">{text}</span>'
        )
    return (
        f'<button type="button" class="chat-reply-quote" data-testid="message-reply-quote" '
        f'commandfor="{COMMAND_TARGET}" command="--jump-{quote.id}" title="Show the original message">'
        f'<span class="chat-quote-icon" aria-hidden="true">↪</span>{inner}</button>'
    )


def _reactions(message_id: int, reactions: Iterable[ReactionPublic], names: Mapping[int, str]) -> str:
    """One chip per emoji: the emoji is drawn by CSS from data-emoji, so the chip's text is its count."""
    chips = []
    for reaction in reactions:
        emoji = escape(reaction.emoji)
        guests = " ".join(f"g{guest}" for guest in reaction.guest_ids)
        who = escape(_who(reaction.guest_ids, names))
        chips.append(
            f'<button type="button" class="chat-reaction" data-testid="reaction" data-emoji="{emoji}" '
            f'data-guests=" {guests} " commandfor="{COMMAND_TARGET}" '
            f'command="--toggle-{message_id}-{emoji_code(reaction.emoji)}" title="{who} reacted with {emoji}" '
            f'aria-label="{emoji} {reaction.count}: {who}">{reaction.count}</button>'
        )
    return f'<div class="chat-reactions">{"".join(chips)}</div>'


def _who(guest_ids: tuple[int, ...], names: Mapping[int, str]) -> str:
    known = [names.get(guest, "someone") for guest in guest_ids[:TOOLTIP_NAMES]]
    others = len(guest_ids) - len(known)
    if others:
        return f"{', '.join(known)} and {others} other{'s' if others > 1 else ''}"
    return known[0] if len(known) == 1 else f"{', '.join(known[:-1])} and {known[-1]}"


def _separator(label: str) -> str:
    return (
        f'<div class="chat-day-separator" data-testid="day-separator" role="separator">'
        f"<span>{escape(label)}</span></div>"
    )


_UNREAD_DIVIDER = (
    '<div class="chat-unread-divider" data-testid="unread-divider" role="separator"><span>New</span></div>'
)


def _image(message: MessagePublic, author: str) -> str:
    """The thumbnail, which opens the full-size image in a popover (loaded only when opened)."""
    assert message.image is not None
    width, height = fit(message.image.width, message.image.height)
    viewer = f"chat-image-{message.id}"
    return (
        f'<button type="button" class="chat-thumb-button" popovertarget="{viewer}" '
        f'aria-label="Show the image from {author} full size">'
        f'<img data-testid="message-image" class="chat-thumb" src="{escape(message.image.thumbnail_url)}" '
        f'width="{width}" height="{height}" loading="lazy" alt="Image from {author}"></button>'
        f'<div id="{viewer}" popover class="chat-lightbox" data-testid="image-viewer">'
        f'<img src="{escape(message.image.url)}" loading="lazy" alt="Image from {author}, full size">'
        f'<button type="button" class="chat-lightbox-close" popovertarget="{viewer}" popovertargetaction="hide" '
        f'aria-label="Close">✕</button></div>'
    )


# Neighbours: grouping and day separators depend on the row before.


def local_day(message: MessagePublic, timezone: ZoneInfo) -> date:
    return message.created_at.astimezone(timezone).date()


def continues(previous: MessagePublic | None, message: MessagePublic, timezone: ZoneInfo) -> bool:
    """Whether `message` goes under `previous`'s header: same author, within 5 minutes, same local
    day, and not a reply (a reply shows its quote under a header of its own)."""
    return (
        previous is not None
        and previous.author.id == message.author.id
        and message.reply_to is None
        and timedelta(0) <= message.created_at - previous.created_at <= GROUP_WITHIN
        and local_day(previous, timezone) == local_day(message, timezone)
    )


def day_label(day: date, today: date) -> str:
    """ "Today", "Yesterday", "Monday, November 30", or with the year when it is not this year's."""
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    label = f"{day:%A}, {day:%B} {day.day}"
    return label if day.year == today.year else f"{label}, {day.year}"


# Reactions in commands


def emoji_code(emoji: str) -> str:
    return "_".join(f"{ord(character):x}" for character in emoji)


def emoji_from_code(code: str) -> str | None:
    """The emoji a command names, or None for anything that is not a well-formed code."""
    if not EMOJI_CODE.fullmatch(code):
        return None
    points = [int(part, 16) for part in code.split("_")]
    if any(point > 0x10FFFF or 0xD800 <= point <= 0xDFFF or point < 0x20 for point in points):
        return None
    return "".join(chr(point) for point in points)


def name_hue(guest_id: int) -> int:
    """Which of the NAME_COLOURS hues is the guest's (stable: from the id, not the name)."""
    return hashlib.blake2s(str(guest_id).encode(), digest_size=1).digest()[0] % len(NAME_COLOURS)


def name_colour(guest_id: int) -> str:
    return NAME_COLOURS[name_hue(guest_id)]


def initials(name: str) -> str:
    """One or two letters for an avatar: the first of the first and last words ("Ada Lovelace" AL,
    "Guest 4821" G4, "bo" B); words that begin with neither letter nor digit (an emoji) are skipped."""
    firsts = [_upper(word[0]) for word in name.split() if word[0].isalnum()]
    if not firsts:
        return _upper(name.strip()[:1]) or "?"
    return firsts[0] + firsts[-1] if len(firsts) > 1 else firsts[0]


def _upper(letter: str) -> str:
    """One letter in capitals, unless that takes more than one ("ß" stays "ß", not "SS")."""
    upper = letter.upper()
    return upper if len(upper) == len(letter) else letter


def fit(width: int, height: int, box: int = 320) -> tuple[int, int]:
    """Display size of a thumbnail: known up front so the layout never jumps when it loads."""
    scale = min(1.0, box / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))

"""A message as HTML: built in Python, every piece of user text escaped, shared between viewers.

Every NiceGUI element costs server CPU and memory for every viewer of a room (see
docs/PERFORMANCE.md), so messages are not elements: the list groups them into a few chunk
elements whose HTML is made here. The HTML of a message depends only on the message, the
reader's time zone and day, and whether the reader may delete it, so it is cached: a message
that reaches a thousand viewers in one zone is rendered once.

The row's buttons need no script either. A thumbnail opens its full-size image in a popover
(`popovertarget`: the browser opens it, and closes it on Escape or a click outside). A
moderation button sends an invoker command (`commandfor`/`command`) to the message list, whose
`command` event carries the command's name, e.g. `--delete-42`, to the server.
"""

import hashlib
from datetime import date, datetime
from functools import lru_cache
from html import escape
from zoneinfo import ZoneInfo

from models.message import MessagePublic

NAME_COLOURS = ("#4f46e5", "#0891b2", "#059669", "#d97706", "#dc2626", "#db2777", "#7c3aed", "#2563eb")
ROW_CLASSES = "chat-row grid grid-cols-[auto_1fr_auto] items-baseline gap-x-2 px-4 py-1.5"
COMMAND_TARGET = "chat-messages"  # the id of the element whose `command` event the list listens to


def row_html(message: MessagePublic, timezone: ZoneInfo, *, deletable: bool = False, removable: bool = False) -> str:
    """The message's row, as the reader in `timezone` sees it today; with buttons to delete it and
    to remove its author from the room when the reader may (its author, the room's owner)."""
    return _row_html(message, timezone, datetime.now(timezone).date(), deletable, removable)


@lru_cache(maxsize=4096)  # MessagePublic is frozen, so it hashes by value: a renamed author is a new key
def _row_html(message: MessagePublic, timezone: ZoneInfo, today: date, deletable: bool, removable: bool) -> str:
    author = escape(message.author.display_name)
    local = message.created_at.astimezone(timezone)
    title = escape(local.strftime("%Y-%m-%d %H:%M:%S %Z"))
    shown = escape(local.strftime("%H:%M") if local.date() == today else local.strftime("%b %d, %H:%M"))
    parts = [
        f'<div class="{ROW_CLASSES}" data-testid="message" data-message-id="{message.id}">',
        f'<span data-testid="message-author" class="chat-author" style="color: {name_colour(message.author.id)}">'
        f"{author}</span>",
        f'<time class="chat-time" datetime="{message.created_at.isoformat()}" title="{title}">{shown}</time>',
    ]
    parts.append('<span class="chat-actions">')
    if removable:
        parts.append(
            _command_button(f"--remove-{message.author.id}", "⊘", f"Remove {author} from the room", "remove-author")
        )
    if deletable:
        parts.append(_command_button(f"--delete-{message.id}", "✕", "Delete this message", "delete-message"))
    parts.append("</span>")
    if message.image is not None:
        parts.append(_image(message, author))
    if message.text:
        parts.append(
            f'<div data-testid="message-text" class="chat-message-text col-span-3">{escape(message.text)}</div>'
        )
    parts.append("</div>")
    return "".join(parts)


def _command_button(command: str, label: str, title: str, testid: str) -> str:
    return (
        f'<button type="button" class="chat-action" data-testid="{testid}" commandfor="{COMMAND_TARGET}" '
        f'command="{command}" title="{title}" aria-label="{title}">{label}</button>'
    )


def _image(message: MessagePublic, author: str) -> str:
    """The thumbnail, which opens the full-size image in a popover (loaded only when opened)."""
    assert message.image is not None
    width, height = fit(message.image.width, message.image.height)
    viewer = f"chat-image-{message.id}"
    return (
        f'<button type="button" class="chat-thumb-button col-span-3 mt-1" popovertarget="{viewer}" '
        f'aria-label="Show the image from {author} full size">'
        f'<img data-testid="message-image" class="chat-thumb" src="{escape(message.image.thumbnail_url)}" '
        f'width="{width}" height="{height}" loading="lazy" alt="Image from {author}"></button>'
        f'<div id="{viewer}" popover class="chat-lightbox" data-testid="image-viewer">'
        f'<img src="{escape(message.image.url)}" loading="lazy" alt="Image from {author}, full size">'
        f'<button type="button" class="chat-lightbox-close" popovertarget="{viewer}" popovertargetaction="hide" '
        f'aria-label="Close">✕</button></div>'
    )


def name_colour(guest_id: int) -> str:
    digest = hashlib.blake2s(str(guest_id).encode(), digest_size=1).digest()[0]
    return NAME_COLOURS[digest % len(NAME_COLOURS)]


def fit(width: int, height: int, box: int = 320) -> tuple[int, int]:
    """Display size of a thumbnail: known up front so the layout never jumps when it loads."""
    scale = min(1.0, box / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))

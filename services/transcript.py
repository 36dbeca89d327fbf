"""A room's history as text, a page of messages at a time: JSON for programs, Markdown for people.

Both are written in pieces (`opening`, then `page` for each page of messages oldest first, then
`closing`) so that services/export.py can stream them into the zip without holding the history:
the JSON array is written item by item, the Markdown's day headings are kept across pages.

Images are referred to by the file the archive holds them under, `images/<message id>.<ext>`
(`image_file`), never by their URL: the archive must read without the server.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import TypeAdapter

from models.message import MessagePublic, ReplyQuote
from services.media import MEDIA_URL_PREFIX

ExportFormat = Literal["json", "markdown"]
FILE_NAMES: dict[ExportFormat, str] = {"json": "messages.json", "markdown": "messages.md"}
IMAGES_FOLDER = "images"
# What Markdown would read as markup in a name or a caption (a heading's or an image's text):
# each is escaped with a backslash, which CommonMark allows before any ASCII punctuation.
_MARKDOWN_PUNCTUATION = str.maketrans({char: f"\\{char}" for char in "\\`*_[]<>~|&"})
_TIME = TypeAdapter(datetime)
# A message's text is Markdown as written, but not HTML: the chat shows `<b>` as text, and so must
# a Markdown viewer. Entities, outside code (where HTML is shown as text anyway and `&lt;` would
# show as it is).
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# What at the start of a line of a message would make a heading (`#`, a `===` or `---` under a
# line), a thematic break, or a line in the shape of a message's own `**Author** · 12:00`.
_LINE_MARKERS = re.compile(r"^(\s*)([#*=_-]+)")
# Fixed English names, not the server locale's (%A, %B).
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class RoomSnapshot:
    """The room as the export describes it, taken once when the export starts; `last_id` is the
    newest message then, so that an export is the history of one moment however long it runs."""

    slug: str
    name: str
    description: str
    is_private: bool
    exported_at: datetime
    last_id: int


class Transcript(Protocol):
    def opening(self) -> str: ...
    def page(self, messages: list[MessagePublic]) -> str: ...
    def closing(self) -> str: ...


def transcript_for(fmt: ExportFormat, room: RoomSnapshot) -> Transcript:
    return JsonTranscript(room) if fmt == "json" else MarkdownTranscript(room)


def image_key(message: MessagePublic) -> str | None:
    """The media-store key of an image message's original (its URL is /media/<key>)."""
    if message.image is None:
        return None
    return message.image.url.removeprefix(MEDIA_URL_PREFIX)


def image_file(message_id: int, key: str) -> str:
    """Where the archive holds a message's image: named by the message, so each is there once."""
    return f"{IMAGES_FOLDER}/{message_id:06d}.{key.rsplit('.', 1)[-1]}"


class JsonTranscript:
    """`{"room": {...}, "messages": [...]}`, each message as the API shows it, one per line."""

    def __init__(self, room: RoomSnapshot) -> None:
        self._room = room
        self._first = True

    def opening(self) -> str:
        room = self._room
        about = {
            "slug": room.slug,
            "name": room.name,
            "description": room.description,
            "is_private": room.is_private,
            "exported_at": _TIME.dump_python(room.exported_at, mode="json"),  # as the messages' times
        }
        return f'{{"room": {_json(about)},\n"messages": ['

    def page(self, messages: list[MessagePublic]) -> str:
        items = [_json(exported_message(message)) for message in messages]
        if not items:
            return ""
        text = ("\n" if self._first else ",\n") + ",\n".join(items)
        self._first = False
        return text

    def closing(self) -> str:
        return "\n]}\n"


def exported_message(message: MessagePublic) -> dict[str, Any]:
    """MessagePublic's fields (the room is said once, at the top), with the image as the file in
    the archive. The archive keeps only originals: no thumbnail, and no field that names one."""
    fields = message.model_dump(mode="json", exclude={"room", "image"})
    key = image_key(message)
    if message.image is not None and key is not None:
        fields["image"] = {
            "file": image_file(message.id, key),
            "width": message.image.width,
            "height": message.image.height,
        }
    else:
        fields["image"] = None
    return fields


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class MarkdownTranscript:
    """A transcript to read: the room's name and description, a heading per day, and each message
    under its author and time (UTC), replies quoted, images linked to their files."""

    def __init__(self, room: RoomSnapshot) -> None:
        self._room = room
        self._day: str | None = None

    def opening(self) -> str:
        room = self._room
        lines = [f"# {markdown_escape(room.name)}", ""]
        if room.description:
            lines += [markdown_body(room.description), ""]
        moment = f"{room.exported_at:%Y-%m-%d %H:%M}"
        lines += [f"*Exported from the room `{room.slug}` on {moment} UTC. All times are in UTC.*", ""]
        return "\n".join(lines) + "\n"

    def page(self, messages: list[MessagePublic]) -> str:
        parts: list[str] = []
        for message in messages:
            day = day_heading(message.created_at)
            if day != self._day:
                self._day = day
                parts.append(f"## {day}\n\n")
            parts.append(markdown_message(message))
        return "".join(parts)

    def closing(self) -> str:
        return "" if self._day is not None else "*No messages.*\n"


def day_heading(moment: datetime) -> str:
    return f"{_DAYS[moment.weekday()]}, {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def markdown_message(message: MessagePublic) -> str:
    header = f"**{markdown_escape(message.author.display_name)}** · {message.created_at:%H:%M}"
    if message.edited_at is not None:
        header += " · *edited*"
    blocks = [header]
    if message.reply_to is not None:
        blocks.append(_quote(message.reply_to))
    key = image_key(message)
    if key is not None:
        caption = " ".join(message.text.split())  # the alt text is one line
        blocks.append(f"![{markdown_escape(caption)}]({image_file(message.id, key)})")
    elif message.text:
        blocks.append(markdown_body(message.text))  # Markdown as written: the chat shows it as Markdown too
    if message.reactions:
        blocks.append("Reactions: " + " · ".join(f"{r.emoji} {r.count}" for r in message.reactions))
    return "\n\n".join(blocks) + "\n\n"


def _quote(quote: ReplyQuote) -> str:
    """The message replied to, as a block quote: who wrote it, and its first words."""
    author = f"**{markdown_escape(quote.author.display_name)}**"
    if quote.deleted:
        return f"> {author}: *a deleted message*"
    text = quote.text or ("*an image*" if quote.kind == "image" else "")
    lines = [safe_line(line) for line in text.splitlines()] or [""]
    return "\n".join([f"> {author}: {lines[0]}", *(f"> {line}" for line in lines[1:])])


def markdown_body(text: str) -> str:
    """A message's text (or the room's description) as written, made safe to put in the transcript:
    outside code, HTML is escaped and no line can start a heading or pose as a message's header
    (`safe_line`); a code fence left open is closed, else it would swallow every later message.
    The chat shows each new line of a message as one (markdown-it's `breaks`); CommonMark joins the
    lines of a paragraph, so two spaces at a line's end make the break hard, as in the chat, except
    inside a fenced code block, which keeps its lines (and its text) as they are."""
    lines, fence = text.split("\n"), None
    for index, line in enumerate(lines):
        opening = _FENCE.match(line)
        if opening is not None and (fence is None or _closes(opening.group(1), fence, line)):
            fence = opening.group(1) if fence is None else None
        elif fence is None:
            lines[index] = safe_line(line)
            if line.strip() and index + 1 < len(lines) and lines[index + 1].strip():
                lines[index] += "  "
    if fence is not None:
        lines.append(fence)
    return "\n".join(lines)


def _closes(run: str, fence: str, line: str) -> bool:
    """CommonMark: a fence closes with a run of its character at least as long, and nothing after."""
    return run[0] == fence[0] and len(run) >= len(fence) and not line.strip()[len(run) :].strip()


def safe_line(line: str) -> str:
    """One line of a message, outside a code block: `&`, `<` and `>` as entities outside code spans,
    and the marks at its start that would make it a heading, a thematic break or a line in the
    shape of a message's header (`**Mallory** · 12:00`) escaped, so that they show as written."""
    parts, start = [], 0
    for span in _CODE_SPAN.finditer(line):
        parts += [line[start : span.start()].translate(_HTML), span.group(0)]
        start = span.end()
    escaped = "".join([*parts, line[start:].translate(_HTML)])
    return _LINE_MARKERS.sub(lambda m: m.group(1) + "".join(f"\\{char}" for char in m.group(2)), escaped, count=1)


def markdown_escape(text: str) -> str:
    return text.translate(_MARKDOWN_PUNCTUATION)

"""A search result's text as the panel shows it: the message read as plain text (its Markdown
dropped), cut to an excerpt around the first match, HTML-escaped, with the query's words marked.

Words are the search's own (services.search.query_words: runs of letters and digits) and match as
the search does (CONTRACT §7): ignoring case and accents (SQLite's index finds "café" for "cafe"),
each a whole word, the last one also the start of a longer word (it may still be being typed).
Where the text holds a word only inside a longer one, that occurrence is marked rather than none.
Everything here is plain functions of strings, so it is tested without a browser."""

import re
import unicodedata
from datetime import datetime
from functools import lru_cache
from html import escape
from zoneinfo import ZoneInfo

from chat_ui.room.markdown import plain_text
from services.search import query_words

EXCERPT_CHARS = 160  # about two lines of the panel
LEAD_CHARS = 40  # of text kept before the first match, so it reads in context
NOT_IN_WORD = r"(?<![^\W_])"  # the search's words are letters and digits: "_" separates, as in its index
WORD_ENDS = r"(?![^\W_])"


def marked_words(query: str) -> list[str]:
    """The words to mark for a query: the search's words (query_words), in order, accents dropped,
    without repeats (ignoring case)."""
    seen: dict[str, str] = {}
    for word in query_words(query):
        seen.setdefault(fold(word).casefold(), fold(word))
    return list(seen.values())


def fold(text: str) -> str:
    """`text` without its accents, character for character (the same length, so that a place in
    one is the same place in the other): "Café" → "Cafe"."""
    return "".join(_fold_char(char) for char in text)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[:1]
    return base if base and not unicodedata.combining(base) else char


def match_spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """Where the (folded) words occur in `text`, accents ignored: (start, end) pairs in order,
    never overlapping."""
    if not words:
        return []
    folded, last = fold(text), words[-1].casefold()
    whole = [f"{NOT_IN_WORD}{re.escape(w)}{WORD_ENDS}" for w in words if w.casefold() != last]
    spans = _spans(folded, [*whole, f"{NOT_IN_WORD}{re.escape(words[-1])}"])
    if not spans:  # only inside longer words: mark those rather than nothing
        spans = _spans(folded, [re.escape(w) for w in words])
    return spans


def _spans(text: str, alternatives: list[str]) -> list[tuple[int, int]]:
    # Longer alternatives first, so "hello" wins over "he" where both start.
    ordered = sorted(alternatives, key=len, reverse=True)
    return [m.span() for m in re.finditer("|".join(ordered), text, re.IGNORECASE) if m.end() > m.start()]


def excerpt_html(text: str, query: str, *, length: int = EXCERPT_CHARS) -> str:
    """The message's text around its first match, as escaped HTML with every match in <mark>."""
    plain = " ".join(plain_text(text).split())
    spans = match_spans(plain, marked_words(query))
    start, end = _window(plain, spans[0][0] if spans else 0, length)
    parts = ["…" if start > 0 else ""]
    cursor = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        parts += [escape(plain[cursor:span_start]), f"<mark>{escape(plain[span_start:span_end])}</mark>"]
        cursor = span_end
    parts += [escape(plain[cursor:end]), "…" if end < len(plain) else ""]
    return "".join(parts)


def _window(plain: str, first: int, length: int) -> tuple[int, int]:
    """A stretch of about `length` characters holding `first`, cut between words."""
    if len(plain) <= length:
        return 0, len(plain)
    start = max(0, min(first - LEAD_CHARS, len(plain) - length))
    if start > 0:
        space = plain.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = min(len(plain), start + length)
    if end < len(plain):
        space = plain.rfind(" ", max(first + 1, start), end)
        end = space if space != -1 else end
    return start, end


def when(moment: datetime, timezone: ZoneInfo, now: datetime | None = None) -> str:
    """A result's time, short: the time today, the day this year, else the date."""
    local = moment.astimezone(timezone)
    today = (now or datetime.now(timezone)).astimezone(timezone)
    if local.date() == today.date():
        return f"{local:%H:%M}"
    if local.year == today.year:
        return f"{local:%b} {local.day}, {local:%H:%M}"
    return f"{local:%b} {local.day}, {local.year}"

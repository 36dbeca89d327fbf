"""The one rule for every piece of text people type: trimmed, within its length, storable in every
database we support, and for single-line names, free of control characters."""

import unicodedata

from services.errors import InvalidInput

ZERO_WIDTH_JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: emoji sequences, Persian and Indic spelling
BLACK_FLAG = "\U0001f3f4"  # the base of a tag sequence: 🏴 + tag letters + CANCEL TAG is a flag (Scotland, ...)
TAG_CHARACTERS = range(0xE0020, 0xE007F)  # TAG SPACE .. TAG TILDE
CANCEL_TAG = "\U000e007f"


def checked_text(raw: str, *, what: str, max_length: int, allow_empty: bool = False, single_line: bool = False) -> str:
    """The trimmed text, or InvalidInput saying what is wrong with it ("the room name must ...")."""
    # PostgreSQL text cannot hold NUL and neither database can encode a lone surrogate: refuse both
    # here, for every text, so SQLite and PostgreSQL answer the same 422 and nothing is half-stored.
    if "\x00" in raw:
        raise InvalidInput(f"the {what} must not contain the NUL character (U+0000)")
    if any(unicodedata.category(char) == "Cs" for char in raw):
        raise InvalidInput(f"the {what} must be valid Unicode: it holds an unpaired surrogate")
    text = raw.strip()
    if not text and not allow_empty:
        raise InvalidInput(f"the {what} must not be empty")
    if len(text) > max_length:
        raise InvalidInput(f"the {what} must be at most {max_length} characters")
    if single_line and _has_control_character(text):
        raise InvalidInput(f"the {what} must not contain control characters")
    return text


def _has_control_character(text: str) -> bool:
    """Cc covers newlines, tabs and escape sequences; Cf would let a name hide or reverse text
    (bidi overrides, zero-width spaces). Format characters that only glue visible characters
    together are allowed: a joiner between two visible characters (👨‍👩‍👧, Persian names), and
    the tag letters of a flag sequence (🏴󠁧󠁢󠁳󠁣󠁴󠁿)."""
    in_flag = False
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cc":
            return True
        if char == BLACK_FLAG:
            in_flag = True
            continue
        if ord(char) in TAG_CHARACTERS or char == CANCEL_TAG:
            if not in_flag:
                return True
            in_flag = char != CANCEL_TAG
            continue
        if in_flag:  # the tag letters stopped without CANCEL TAG: a malformed sequence hides text
            in_flag = False
            if text[index - 1] != BLACK_FLAG:
                return True
        if category == "Cf" and not (char in ZERO_WIDTH_JOINERS and _between_visible(text, index)):
            return True
    return in_flag and text[-1] != BLACK_FLAG


def _between_visible(text: str, index: int) -> bool:
    if index == 0 or index == len(text) - 1:
        return False
    return all(_visible(text[index + offset]) for offset in (-1, 1))


def _visible(char: str) -> bool:
    # Letters, marks (a variation selector such as the one in ❤️ is Mn), digits, symbols (emoji are So).
    return unicodedata.category(char)[0] in "LMNS"

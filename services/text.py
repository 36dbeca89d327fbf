"""The one rule for every piece of text people type: trimmed, within its length, and for
single-line names, free of control characters."""

import unicodedata

from services.errors import InvalidInput


def checked_text(raw: str, *, what: str, max_length: int, allow_empty: bool = False, single_line: bool = False) -> str:
    """The trimmed text, or InvalidInput saying what is wrong with it ("the room name must ...")."""
    text = raw.strip()
    if not text and not allow_empty:
        raise InvalidInput(f"the {what} must not be empty")
    if len(text) > max_length:
        raise InvalidInput(f"the {what} must be at most {max_length} characters")
    # Cc covers newlines, tabs and escape sequences; Cf would let a name hide or reverse text.
    if single_line and any(unicodedata.category(char) in ("Cc", "Cf") for char in text):
        raise InvalidInput(f"the {what} must not contain control characters")
    return text

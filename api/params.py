"""Path and query parameters, bounded where they are declared.

Ids live in INTEGER columns, 32-bit on PostgreSQL (SQLite's hold 64 bits): an id or cursor past
2^31-1 made PostgreSQL raise "integer out of range", and one past 2^63-1 made SQLite raise too,
each a 500 before these bounds existed. Bounded here, a path id out of range is a 404 (see
api.errors: it cannot name anything) and a query cursor out of range a 422, and the bounds
appear in /openapi.json for clients and the schema fuzzer.
"""

from typing import Annotated

from fastapi import Path, Query

from models.base import ID_MAX
from models.room import ROOM_SLUG_MAX

MessageId = Annotated[int, Path(ge=1, le=ID_MAX, description="a message's id")]
GuestId = Annotated[int, Path(ge=1, le=ID_MAX, description="a guest's id")]
# Slugs are made by services.rooms.slugify: lower-case letters, digits and dashes. Anything else
# names no room, and must not reach the database (PostgreSQL refuses a NUL in a query: a 500).
SLUG_PATTERN = r"^[a-z0-9-]+$"
Slug = Annotated[
    str, Path(min_length=1, max_length=ROOM_SLUG_MAX, pattern=SLUG_PATTERN, description="the room's address")
]
BeforeId = Annotated[int | None, Query(ge=0, le=ID_MAX, description="the newest messages older than this message id")]
AfterId = Annotated[int | None, Query(ge=0, le=ID_MAX, description="the oldest messages newer than this message id")]

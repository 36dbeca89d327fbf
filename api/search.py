"""Searching messages (CONTRACT §7)."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Context, OptionalGuest
from api.errors import COMMON, responses
from api.params import SLUG_PATTERN, BeforeId
from models.room import ROOM_SLUG_MAX
from models.search import SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX, SEARCH_QUERY_MAX, SearchPage
from services import search

router = APIRouter(tags=["search"])

SearchQuery = Annotated[
    str,
    Query(
        max_length=SEARCH_QUERY_MAX,
        description="words to find, each in any case; the last may be the start of a word. Punctuation "
        "and operators (quotes, *, -, AND, OR, NOT, ...) are plain text, never query syntax",
        examples=["release not"],
    ),
]
# A slug as api.params.Slug has it, here in the query string: a malformed one is a 422.
RoomSlug = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=ROOM_SLUG_MAX,
        pattern=SLUG_PATTERN,
        description="only this room (its slug); a room the caller may not read is 404, as a missing one",
    ),
]


@router.get("/search", response_model=SearchPage, responses=responses(401, 404, *COMMON))
async def search_messages(
    q: SearchQuery,
    context: Context,
    guest: OptionalGuest,
    room: RoomSlug = None,
    limit: Annotated[int, Query(ge=1, le=SEARCH_LIMIT_MAX, description="results per page")] = SEARCH_LIMIT_DEFAULT,
    before: BeforeId = None,
) -> SearchPage:
    """Messages holding every word of `q`, ignoring case, the last word also as the start of a
    longer one; newest first, in the public rooms and, with a guest token, the private rooms the
    caller belongs to. `has_more`: older matches exist; pass the last result's id as `before` for
    them. A `q` without any letter or digit is 422; a token that names nobody is 401."""
    return await context.db.run_read(
        search.search_messages,
        query=q,
        reader_id=guest.id if guest else None,
        room_slug=room,
        limit=limit,
        before=before,
    )

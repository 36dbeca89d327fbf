"""Full-text search over the messages a reader may see (being built: a placeholder over LIKE, so
the pages can be built against the final signature)."""

from sqlmodel import Session

from models.search import SEARCH_LIMIT_DEFAULT, SearchPage


def search_messages(
    *,
    session: Session,
    query: str,
    reader_id: int | None,
    room_slug: str | None = None,
    limit: int = SEARCH_LIMIT_DEFAULT,
    before: int | None = None,
) -> SearchPage:
    """Messages containing every word of `query` (ignoring case; the last word may be a prefix),
    newest first, older than `before`, in the rooms `reader_id` may read (only `room_slug` if
    given). InvalidInput for a blank query or a limit out of range."""
    return SearchPage(results=[], has_more=False)

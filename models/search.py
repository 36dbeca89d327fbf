"""Search results (CONTRACT §7)."""

from pydantic import BaseModel

from models.message import MessagePublic

SEARCH_LIMIT_DEFAULT = 20
SEARCH_LIMIT_MAX = 100
SEARCH_QUERY_MAX = 200  # characters of a query


class SearchPage(BaseModel):
    results: list[MessagePublic]  # newest first; each names its room (`room`, the slug)
    has_more: bool  # older matches exist: pass the last result's id as `before`

"""Search results (CONTRACT §7), and the parts of the schema that only the search index uses."""

from collections.abc import Mapping

from pydantic import BaseModel

from models.message import MessagePublic

SEARCH_LIMIT_DEFAULT = 20
SEARCH_LIMIT_MAX = 100
SEARCH_QUERY_MAX = 200  # characters of a query

# Made by migration 0007 and kept current by the database itself (SQLite: an FTS5 table and its
# shadow tables, filled by triggers; PostgreSQL: a generated column and its GIN index). No model
# describes them: SQLModel could not declare an FTS5 table, nor a column that exists on one
# database only.
SEARCH_INDEX_TABLE = "message_fts"
SEARCH_VECTOR_COLUMN = "search_vector"
SEARCH_VECTOR_INDEX = "ix_message_search_vector"


class SearchPage(BaseModel):
    results: list[MessagePublic]  # newest first; each names its room (`room`, the slug)
    has_more: bool  # older matches exist: pass the last result's id as `before`


def described_by_models(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic's `include_name` hook: False for the search index's own tables, column and index,
    so that comparing the models with the database (autogenerate, tests/test_schema.py) neither
    proposes to drop them nor reports them as differences."""
    if type_ == "table":
        return not (name == SEARCH_INDEX_TABLE or (name or "").startswith(f"{SEARCH_INDEX_TABLE}_"))
    if parent_names.get("table_name") == "message":
        return name not in (SEARCH_VECTOR_COLUMN, SEARCH_VECTOR_INDEX)
    return True

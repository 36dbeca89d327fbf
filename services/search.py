"""Full-text search over the messages a reader may see (CONTRACT §7), on each database's own engine.

The index is migration 0007's: SQLite's FTS5 table `message_fts` (unicode61, diacritics removed),
PostgreSQL's generated `search_vector` column (to_tsvector 'simple') with a GIN index. Both fold
case; SQLite also folds diacritics (é finds e), PostgreSQL does not (unaccent is an extension,
and not immutable).

A query is never handed to an engine as typed: it is cut here into words, runs of letters and
digits (what both engines call a word), and the engine's query is built from those words only, as
a bound parameter. Quotes, `*`, `-`, `:`, `&`, `|`, `!`, parentheses, NEAR/AND/OR/NOT are then
plain words or separators, never syntax: every word must match, the last one as a prefix (search
as you type).

A page costs a fixed number of queries whatever its size: one for the matching ids (newest first,
keyset by id, one more than asked to tell `has_more`), then services.messages.messages_by_ids
(three), and one more to check `room_slug` when given.
"""

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, bindparam, column, func, literal_column, table
from sqlmodel import Session, col, select

from models.message import Message
from models.room import Room
from models.search import (
    SEARCH_INDEX_TABLE,
    SEARCH_LIMIT_DEFAULT,
    SEARCH_LIMIT_MAX,
    SEARCH_QUERY_MAX,
    SEARCH_VECTOR_COLUMN,
    SearchPage,
)
from services.access import readable_room, readable_rooms
from services.errors import InvalidInput
from services.messages import messages_by_ids
from services.room_names import RoomLabel, room_labels

# Letters and digits of any script; `_` and everything else separate words, as in FTS5's
# unicode61 and in the text migration 0007 gives PostgreSQL's parser.
_WORD = re.compile(r"[^\W_]+")

_fts = table(SEARCH_INDEX_TABLE, column("rowid"), column(SEARCH_INDEX_TABLE))  # the hidden column MATCH takes
_vector = literal_column(f"message.{SEARCH_VECTOR_COLUMN}")  # a column no model declares (see models.search)


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
    if not 1 <= limit <= SEARCH_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {SEARCH_LIMIT_MAX}")
    if len(query) > SEARCH_QUERY_MAX:
        raise InvalidInput(f"the search must be at most {SEARCH_QUERY_MAX} characters")
    words = query_words(query)
    if not words:
        raise InvalidInput("the search must contain a word: letters or digits")
    if room_slug is not None:  # a room the reader may not see is NotFound, as one that does not exist
        in_rooms = col(Message.room_id) == readable_room(session, room_slug, reader_id).id
    else:
        in_rooms = col(Message.room_id).in_(select(Room.id).where(readable_rooms(reader_id)))
    ids = _matching_ids(session, words, in_rooms=in_rooms, before=before, count=limit + 1)
    return SearchPage(results=messages_by_ids(session=session, ids=ids[:limit]), has_more=len(ids) > limit)


class NamedSearchPage(BaseModel):
    page: SearchPage
    rooms: dict[str, RoomLabel]  # by slug: every room the page's results are in


def search_named(
    *,
    session: Session,
    query: str,
    reader_id: int | None,
    room_slug: str | None = None,
    limit: int = SEARCH_LIMIT_DEFAULT,
    before: int | None = None,
) -> NamedSearchPage:
    """`search_messages` and the names of the rooms its results are in (services.room_names), in
    one session: one trip to a worker thread for the page that shows them."""
    page = search_messages(
        session=session, query=query, reader_id=reader_id, room_slug=room_slug, limit=limit, before=before
    )
    return NamedSearchPage(page=page, rooms=room_labels(session=session, slugs=(m.room for m in page.results)))


def query_words(query: str) -> list[str]:
    """The words of a query: runs of letters and digits, composed (NFC) as typed text usually is."""
    return _WORD.findall(unicodedata.normalize("NFC", query))


def _matching_ids(
    session: Session, words: list[str], *, in_rooms: ColumnElement[bool], before: int | None, count: int
) -> list[int]:
    """Up to `count` ids of live messages in `in_rooms` holding every word, newest first."""
    on_postgres = session.get_bind().dialect.name == "postgresql"
    statement = _postgres_query(words, before) if on_postgres else _sqlite_query(words, before)
    statement = statement.where(col(Message.deleted_at).is_(None), in_rooms)
    with _planned_for_its_words(session):
        return list(session.execute(statement.limit(count)).scalars())


def _sqlite_query(words: list[str], before: int | None) -> Select[Any]:
    """FTS5 gives the ids newest first by itself (ORDER BY rowid DESC walks its index backwards),
    so the LIMIT stops the walk early however common the words; each id is then checked against
    its message row by primary key. `before` bounds FTS5's own rowid (SQLite would not carry a
    bound on message.id over the join), so a later page starts where the last one ended."""
    phrases = [f'"{word}"' for word in words]  # a quoted string is a plain token for FTS5, never syntax
    match = " ".join(phrases) + "*"  # implicit AND; the last one a prefix
    statement = (
        select(col(Message.id))
        .select_from(_fts)
        .join(Message, col(Message.id) == _fts.c.rowid)
        .where(_fts.c[SEARCH_INDEX_TABLE].op("MATCH")(bindparam("match", match)))
        .order_by(_fts.c.rowid.desc())
    )
    return statement if before is None else statement.where(_fts.c.rowid < before)


def _postgres_query(words: list[str], before: int | None) -> Select[Any]:
    """The planner chooses by the words' frequencies (the column's statistics): for common words it
    walks message ids backwards and stops at the LIMIT, for rarer ones it reads the GIN index and
    sorts the few matches (docs/PERFORMANCE.md, "Search (#16)")."""
    lexemes = [f"'{word}'" for word in words]  # quoted: a lexeme, whatever it spells
    tsquery = " & ".join(lexemes) + ":*"
    matches = _vector.bool_op("@@")(
        func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("tsquery", tsquery))
    )
    statement = select(col(Message.id)).where(matches).order_by(col(Message.id).desc())
    return statement if before is None else statement.where(col(Message.id) < before)


@contextmanager
def _planned_for_its_words(session: Session) -> Iterator[None]:
    """psycopg prepares a statement once it has run five times, and PostgreSQL may then plan it
    once for any tsquery: a plan good for common words (walk ids backwards) reads the whole table
    for a rare one. A search is planned afresh for its own words instead; the connection's setting
    comes back afterwards. (SQLite plans every statement anyway.)"""
    driver = session.connection().connection.driver_connection
    if not hasattr(driver, "prepare_threshold"):  # not psycopg
        yield
        return
    threshold, driver.prepare_threshold = driver.prepare_threshold, None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold

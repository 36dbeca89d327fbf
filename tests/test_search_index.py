"""SQLite's search index merges its segments in the background, not inside a send (migration 0008,
services.search_index): what a send leaves behind, what a merge round does to it, that searches
find the same messages throughout, and that the app's merger does its rounds by itself, and
nothing at all on PostgreSQL. (What it is for, the send's p99: benchmarks/search.py.)"""

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session

from models.search import SEARCH_INDEX_TABLE
from services import guests, messages, rooms
from services.bus import make_bus
from services.database import Database, alembic_config
from services.search import search_messages
from services.search_index import SearchIndexMerger, merge_step
from tests.support import create_postgres_database, drop_postgres_database

SENDS = 120  # each its own transaction, so its own segment: enough for several levels


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'chat.db'}", bus=make_bus(None))
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()


def automerge(db: Database) -> int:
    with db.engine.connect() as connection:
        value = connection.execute(text(f"SELECT v FROM {SEARCH_INDEX_TABLE}_config WHERE k = 'automerge'")).scalar()
    return 4 if value is None else int(value)  # FTS5 keeps no row for its default


def index_records(db: Database) -> int:
    """Rows of FTS5's data table: every segment has its own, so merging makes fewer."""
    with db.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {SEARCH_INDEX_TABLE}_data")).scalar_one())


def assert_index_consistent(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO {SEARCH_INDEX_TABLE}({SEARCH_INDEX_TABLE}, rank) VALUES ('integrity-check', 1)")
        )


def send_many(db: Database, count: int, *, extra_words: int = 0) -> str:
    """`count` messages in a new room, each sent in its own transaction as the app sends them,
    each with `extra_words` more words of its own (a longer message: more index pages)."""
    with db.session() as session:
        ada = guests.create_guest(session=session, display_name="Ada").id
        session.commit()
        slug = rooms.create_room(session=session, owner_id=ada, name="Lobby").slug
        session.commit()
    for number in range(count):
        with Session(db.engine) as session:
            messages.send_message(
                session=session,
                room_slug=slug,
                author_id=ada,
                text=f"apple pie number{number}" + "".join(f" w{number}x{k}" for k in range(extra_words)),
            )
            session.commit()
    return slug


def found_ids(db: Database, query: str) -> list[int]:
    ids: list[int] = []
    before = None
    while True:
        page = db.read(search_messages, query=query, reader_id=None, limit=100, before=before)
        ids += [result.id for result in page.results]
        if not page.has_more:
            return ids
        before = ids[-1]


def test_sends_no_longer_merge_the_index_and_a_merge_round_does(sqlite_db: Database) -> None:
    db = sqlite_db
    assert automerge(db) == 0, "migration 0008 turns FTS5's merging inside writes off"
    send_many(db, SENDS)
    unmerged = index_records(db)
    found_before = found_ids(db, "apple pi")
    assert len(found_before) == SENDS

    steps = asyncio.run(SearchIndexMerger(db, pause=0).merge())

    assert steps >= 1
    assert index_records(db) < unmerged / 2, "a round merges the sends' small segments into a few"
    assert found_ids(db, "apple pi") == found_before, "a merge changes where words are kept, not what is found"
    assert len(found_ids(db, "number7 apple")) == 1
    assert_index_consistent(db)
    assert asyncio.run(SearchIndexMerger(db).merge()) == 0, "a second round finds nothing left to merge"


def test_a_merge_step_is_bounded_and_says_whether_it_merged(sqlite_db: Database) -> None:
    db = sqlite_db
    send_many(db, 40, extra_words=300)  # segments of several pages each
    steps = 0
    while db.transaction(merge_step, pages=1):  # the smallest budget: one page a step
        steps += 1
        assert steps < 10_000, "merging never ended"
    assert steps > 1, "a budget of one page cannot merge forty segments of several pages in one step"
    assert db.transaction(merge_step) is False
    assert_index_consistent(db)


async def test_the_merger_merges_by_itself_while_the_app_runs(sqlite_db: Database) -> None:
    db = sqlite_db
    await asyncio.to_thread(send_many, db, SENDS)
    unmerged = index_records(db)
    merger = SearchIndexMerger(db, interval=0.05)
    await merger.start()
    try:
        async with asyncio.timeout(10):
            while index_records(db) >= unmerged / 2:
                await asyncio.sleep(0.05)
    finally:
        await merger.stop()
    assert found_ids(db, "apple") == sorted(found_ids(db, "apple"), reverse=True)
    assert len(found_ids(db, "pie")) == SENDS


async def test_the_merger_keeps_going_after_a_failed_round(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    db = sqlite_db
    await asyncio.to_thread(send_many, db, SENDS)
    unmerged = index_records(db)
    with db.engine.begin() as connection:  # rounds fail while the index is away
        connection.execute(text(f"ALTER TABLE {SEARCH_INDEX_TABLE} RENAME TO message_fts_away"))
    merger = SearchIndexMerger(db, interval=0.02)
    await merger.start()
    try:
        with caplog.at_level(logging.WARNING, logger="services.search_index"):
            async with asyncio.timeout(10):
                while "merging the search index failed" not in caplog.text:
                    await asyncio.sleep(0.02)
        with db.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE message_fts_away RENAME TO {SEARCH_INDEX_TABLE}"))
        async with asyncio.timeout(10):
            while index_records(db) >= unmerged / 2:
                await asyncio.sleep(0.02)
    finally:
        await merger.stop()
    assert_index_consistent(db)


def test_postgresql_has_nothing_to_merge(caplog: pytest.LogCaptureFixture) -> None:
    url = create_postgres_database()
    db = Database(url, bus=make_bus(None))
    try:
        db.migrate()

        async def run_for_a_while() -> None:
            merger = SearchIndexMerger(db, interval=0.01)
            await merger.start()
            await asyncio.sleep(0.2)
            await merger.stop()

        with caplog.at_level(logging.WARNING):
            asyncio.run(run_for_a_while())
        warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
        assert warnings == [], "no round runs on PostgreSQL: its index has no FTS5 table to merge"
    finally:
        db.dispose()
        drop_postgres_database(url)


def test_downgrading_0008_gives_fts5_its_own_merging_back(sqlite_db: Database) -> None:
    db = sqlite_db
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    assert automerge(db) == 4
    db.migrate()
    assert automerge(db) == 0

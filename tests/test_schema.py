"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from models.base import ID_MAX
from models.search import SEARCH_INDEX_TABLE, SEARCH_VECTOR_COLUMN, SEARCH_VECTOR_INDEX, described_by_models
from services import guests, messages, moderation, rooms
from services.audit import ADMIN
from services.bus import make_bus
from services.database import Database
from services.media import LocalMediaStore
from services.search import search_messages


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "include_name": described_by_models}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], "models changed without a migration: alembic revision --autogenerate"


def test_migrating_again_changes_nothing(db: Database) -> None:
    db.migrate()
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None
        assert (
            compare_metadata(
                MigrationContext.configure(connection, opts={"include_name": described_by_models}), SQLModel.metadata
            )
            == []
        )


# The search index (migration 0007) is made of objects no model describes, which the comparisons
# above skip (described_by_models): these tests are what notices if one goes missing. On SQLite it
# would go silently: a batch migration of `message` (Alembic copies the table and drops the old
# one) takes its triggers with it, and from then on new and edited messages are never found.

SEARCH_TRIGGERS = {"message_fts_insert", "message_fts_update", "message_fts_delete"}


def search_index_faults(db: Database) -> list[str]:
    """What is missing from the search index's machinery at head, in words; [] when whole."""
    with db.engine.connect() as connection:
        if db.dialect == "sqlite":
            rows = connection.execute(
                text("SELECT type, name FROM sqlite_master WHERE tbl_name IN ('message', :fts)"),
                {"fts": SEARCH_INDEX_TABLE},
            ).all()
            triggers = {name for type_, name in rows if type_ == "trigger"}
            faults = [f"trigger {name} is missing" for name in sorted(SEARCH_TRIGGERS - triggers)]
            if ("table", SEARCH_INDEX_TABLE) not in rows:
                faults.append(f"table {SEARCH_INDEX_TABLE} is missing")
            return faults
        column = connection.execute(
            text(
                "SELECT is_generated, generation_expression FROM information_schema.columns "
                "WHERE table_name = 'message' AND column_name = :column"
            ),
            {"column": SEARCH_VECTOR_COLUMN},
        ).first()
        index = connection.execute(
            text("SELECT indexdef FROM pg_indexes WHERE tablename = 'message' AND indexname = :index"),
            {"index": SEARCH_VECTOR_INDEX},
        ).scalar()
    faults = []
    if column is None or column.is_generated != "ALWAYS" or "to_tsvector" not in (column.generation_expression or ""):
        faults.append(f"generated column {SEARCH_VECTOR_COLUMN} is missing")
    if index is None or "USING gin" not in index or SEARCH_VECTOR_COLUMN not in index:
        faults.append(f"GIN index {SEARCH_VECTOR_INDEX} is missing")
    return faults


def test_the_search_index_is_whole_at_head(db: Database) -> None:
    assert search_index_faults(db) == []


def test_the_search_index_follows_inserts_edits_and_deletes(db: Database, tmp_path: Path) -> None:
    with db.session() as session:
        ada = guests.create_guest(session=session, display_name="Ada").id
        kept = rooms.create_room(session=session, owner_id=ada, name="Kept").slug
        doomed = rooms.create_room(session=session, owner_id=ada, name="Doomed").slug
        session.commit()
        sent = [
            messages.send_message(session=session, room_slug=slug, author_id=ada, text=f"{word} {index}")
            for index, (slug, word) in enumerate([(kept, "alpha"), (kept, "beta"), (doomed, "gamma")])
        ]
        session.commit()
        messages.edit_message(session=session, room_slug=kept, message_id=sent[0].id, editor_id=ada, text="delta")
        moderation.delete_message(session=session, message_id=sent[1].id, by=ADMIN)
        moderation.delete_room(session=session, media=LocalMediaStore(tmp_path), slug=doomed, by=ADMIN)
        session.commit()
    found = {word: db.read(search_messages, query=word, reader_id=None).results for word in ("alpha", "delta")}
    assert [message.id for message in found["delta"]] == [sent[0].id] and found["alpha"] == []
    if db.dialect == "sqlite":  # FTS5 compares its index with the message table (a generated column cannot differ)
        with db.engine.begin() as connection:
            connection.execute(
                text(f"INSERT INTO {SEARCH_INDEX_TABLE}({SEARCH_INDEX_TABLE}, rank) VALUES ('integrity-check', 1)")
            )


def test_a_batch_migration_of_message_on_sqlite_is_noticed(tmp_path: Path) -> None:
    """The hazard the docstring of migration 0007 warns about, and proof the check above sees it."""
    db = Database(f"sqlite:///{tmp_path / 'chat.db'}", bus=make_bus(None))
    try:
        db.migrate()
        with db.engine.begin() as connection:
            batch = Operations(MigrationContext.configure(connection)).batch_alter_table("message", recreate="always")
            with batch as message:
                message.alter_column("text", existing_type=sa.String(), nullable=False)
        assert search_index_faults(db) == [f"trigger {name} is missing" for name in sorted(SEARCH_TRIGGERS)]
    finally:
        db.dispose()


# One id limit, one slug pattern

APP_PACKAGES = ("api", "chat_ui", "models", "services")


def test_id_max_is_the_largest_id_every_database_holds(db: Database) -> None:
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT CAST(:id AS INTEGER)"), {"id": ID_MAX}).scalar() == ID_MAX
        if db.dialect == "postgresql":  # SQLite's INTEGER holds 64 bits: PostgreSQL sets the limit
            with pytest.raises(sa.exc.DataError, match="out of range"):
                connection.execute(text("SELECT CAST(:id AS INTEGER)"), {"id": str(ID_MAX + 1)})


def test_the_id_limit_and_the_slug_pattern_are_written_once() -> None:
    """A copy drifts: each limit is defined in one place and imported everywhere else."""
    root = Path(__file__).resolve().parent.parent
    written: dict[str, list[str]] = {"2**31": [], "[a-z0-9-]+$": []}
    for package in APP_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            for literal, places in written.items():
                if literal in source:
                    places.append(path.relative_to(root).as_posix())
    assert written == {"2**31": ["models/base.py"], "[a-z0-9-]+$": ["api/params.py"]}

"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from models.search import described_by_models
from services.database import Database


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

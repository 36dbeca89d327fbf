"""Alembic environment: migrations run at start-up on the app's own connection.

From the command line (`alembic revision --autogenerate -m ...`), the URL comes from
CHAT_DATABASE_URL or the default SQLite file, exactly as the app would choose it.
"""

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from models.search import described_by_models
from services.database import make_engine

target_metadata = SQLModel.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write plain SQLAlchemy types into migrations, so old revisions never import app code."""
    from sqlalchemy import String

    from models.base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, String) and type(obj).__name__ == "AutoString":
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table copies for ALTERs
        compare_type=True,
        render_item=render_item,
        include_name=described_by_models,  # the search index is the database's own (0007)
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    from services.config import load_settings

    engine = make_engine(load_settings().effective_database_url)
    with engine.begin() as own_connection:
        run_migrations(own_connection)

"""The engine, sessions run off the event loop, and migrations applied at start."""

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, create_engine

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any fixed number: instances starting together take turns at migrating a shared PostgreSQL.
MIGRATION_LOCK_ID = 7_310_455


# What SQLAlchemy raises when the database is down or overloaded (as opposed to a bug).
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


class DatabaseUnavailable(Exception):
    """The database did not answer; the message names the reason without a traceback."""


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers work while one writer commits; foreign keys are off by default in SQLite.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # a PostgreSQL restart leaves dead connections in the pool; drop them quietly
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )


class Database:
    """Owns the engine; runs service functions in a worker thread inside one transaction."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        # For reads (see read()): the same pool without transactions, on PostgreSQL. SQLite has no
        # round trips to save, and there switching the isolation level costs a PRAGMA per checkout.
        self._reader = (
            self.engine if self.dialect == "sqlite" else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def transaction(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Call fn(session=..., **kwargs) and commit; any exception rolls everything back."""
        with self.session() as session:
            result = fn(session=session, **kwargs)
            session.commit()
            return result

    async def run(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Like transaction(), in a worker thread, so the event loop never waits on the database."""
        return await anyio.to_thread.run_sync(lambda: self.transaction(fn, **kwargs))

    def read(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Call fn(session=..., **kwargs) outside a transaction, for a function that only reads and
        whose queries need not see one moment (a page of history is one query). On PostgreSQL that
        saves the BEGIN and COMMIT round trips: for a page of history, p99 3.8 ms -> 2.2 ms here."""
        with Session(self._reader, expire_on_commit=False) as session:
            return fn(session=session, **kwargs)

    async def run_read(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Like read(), in a worker thread."""
        return await anyio.to_thread.run_sync(lambda: self.read(fn, **kwargs))

    def check(self) -> None:
        """SELECT 1: SQLAlchemy connects lazily, so a bad URL would otherwise surface on first use."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            raise DatabaseUnavailable(_short_reason(error)) from None

    async def health(self) -> str:
        try:
            await anyio.to_thread.run_sync(self.check)
        except DatabaseUnavailable as error:
            return f"unreachable: {error}"
        return "ok"

    def migrate(self) -> None:
        """Bring the schema to the newest revision (a no-op when it is already there)."""
        config = alembic_config()
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _short_reason(error: SQLAlchemyError) -> str:
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__

"""The engine, transactions run off the event loop, events published on commit, migrations at start.

Every change follows *check, do, notify* in one service function that gets a session: it checks,
writes, records its audit entry and queues its events with `send_event_on_commit`, all in one
transaction. `Database.run` commits it in a worker thread, then publishes the queued events on the
bus; if anything fails before the commit, everything rolls back and nothing is published.
"""

import logging
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, create_engine

from services import metrics
from services.bus import EventBus

T = TypeVar("T")
log = logging.getLogger(__name__)
_EVENTS = "chat.events_on_commit"  # keys of Session.info, the session's own scratch space
_AFTER_COMMIT = "chat.after_commit"

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any fixed number: instances starting together take turns at migrating a shared PostgreSQL.
MIGRATION_LOCK_ID = 7_310_455


# What SQLAlchemy raises when the database is down or overloaded (as opposed to a bug).
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


class DatabaseUnavailable(Exception):
    """The database did not answer; the message names the reason without a traceback."""


class Announceable(Protocol):
    """An event (services/events.py): its JSON shape, and the channels it goes to."""

    def channels(self) -> Iterable[str]: ...
    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


def send_event_on_commit(session: Session, event: Announceable) -> None:
    """Queue `event`: `Database.run` publishes it once this session's transaction has committed,
    and drops it if the transaction rolls back (Zulip's send_event_on_commit)."""
    payload = event.model_dump(mode="json")  # encoded here, in the worker thread, not on the event loop
    session.info.setdefault(_EVENTS, []).extend((channel, payload) for channel in event.channels())


def run_after_commit(session: Session, work: Callable[[], object], *, what: str) -> None:
    """Work that belongs to the change but cannot be rolled back (deleting the files of deleted
    rows): run after the commit and after the events went out. A failure there is logged, and the
    change stands: it is committed and announced."""
    session.info.setdefault(_AFTER_COMMIT, []).append((what, work))


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
    """Owns the engine; runs service functions in a worker thread inside one transaction, and
    publishes the events they queued on `bus` once that transaction has committed."""

    def __init__(self, url: str, *, bus: EventBus, pool_size: int = 10) -> None:
        self.url = url
        self.bus = bus
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

    async def run(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Call fn(session=..., **kwargs) in a worker thread and commit; any exception rolls
        everything back. Then publish the events fn queued, then run its after-commit work."""
        result, events, after_commit = await anyio.to_thread.run_sync(partial(self._commit, fn, kwargs))
        metrics.count_committed(events)
        for channel, payload in events:
            await self.bus.publish(channel, payload)
        for what, work in after_commit:
            try:
                await anyio.to_thread.run_sync(work)
            except Exception:
                log.exception("after the commit, %s failed; the change itself stands", what)
        return result

    def transaction(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Like run(), synchronously, for scripts that seed or inspect data (benchmarks). It has no
        event loop to publish from, so a change that queues events is refused before it commits."""
        result, _, _ = self._commit(fn, kwargs, announced=False)
        return result

    def _commit(
        self, fn: Callable[..., T], kwargs: dict[str, Any], *, announced: bool = True
    ) -> tuple[T, list[tuple[str, Any]], list[tuple[str, Callable[[], object]]]]:
        with self.session() as session:
            result = fn(session=session, **kwargs)
            events, after_commit = session.info.pop(_EVENTS, []), session.info.pop(_AFTER_COMMIT, [])
            if (events or after_commit) and not announced:
                raise RuntimeError(f"{getattr(fn, '__name__', fn)} announces its change: call it with Database.run")
            session.commit()
            return result, events, after_commit

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

"""History paging at a million messages: how long one page takes, on PostgreSQL and on SQLite.

What it measures: services.messages.page_messages, called as the app calls it (a fresh Session
per call, outside a transaction, through Database.read), on one room holding --messages
messages. Three kinds of page, --pages calls each after 20 warm-up calls:

  newest  the latest 50 messages (what a room shows when opened)
  before  50 messages older than a random id (scrolling back through history)
  after   50 messages newer than a random id (catching up after a reconnect)

On PostgreSQL it also times the OFFSET way of reaching a page half-way back
(ORDER BY id DESC OFFSET ~N/2 LIMIT 50), to show what keyset paging saves.
Every page is checked (50 messages, the expected ids, oldest first) before it counts.

The database is seeded in bulk with SQL (generate_series on PostgreSQL, a recursive CTE on
SQLite), not through the ORM, then analysed. SQLite lives in a temporary folder; PostgreSQL
gets a fresh database that is dropped at the end (see tests/support.py for the server DSN,
CHAT_TEST_POSTGRES_DSN).

Run from the project folder:

    .venv/bin/python benchmarks/history.py                       # both backends, 1,000,000 messages
    .venv/bin/python benchmarks/history.py --backend sqlite --messages 100000 --pages 100
    .venv/bin/python benchmarks/history.py --json history.json   # figures also as JSON
"""

import argparse
import gc
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.support when run as `python benchmarks/history.py`

from models.guest import Guest  # noqa: E402
from models.image import Image  # noqa: E402
from models.message import Message, MessagePublic  # noqa: E402
from services.bus import make_bus  # noqa: E402
from services.database import Database  # noqa: E402
from services.guests import create_guest  # noqa: E402
from services.messages import page_messages  # noqa: E402
from services.rooms import create_room  # noqa: E402
from tests.support import create_postgres_database, drop_postgres_database  # noqa: E402

T = TypeVar("T")

PAGE = 50
WARMUP = 20
OFFSET_RUNS = 5
BACKENDS = ("sqlite", "postgresql")


@dataclass
class Seeded:
    """The room the messages went into, and the (contiguous) ids they got."""

    room_id: int
    room_slug: str
    first_id: int
    last_id: int
    seconds: float


# Seeding.


def create_room_and_guest(db: Database) -> tuple[int, int, str]:
    """One guest owning one room, made by the services as the app would; (guest id, room id, slug)."""

    with db.session() as session:  # seeding: nobody is listening, so the room's event is left unpublished
        guest = create_guest(session=session, display_name="Bench")
        room = create_room(session=session, owner_id=guest.id, name="History bench")
        session.commit()
        return guest.id, room.id, room.slug


POSTGRES_INSERT = """
INSERT INTO message (room_id, author_id, kind, text, created_at)
SELECT :room_id, :author_id, 'text', 'message ' || n, now() - (:count - n) * interval '1 second'
FROM generate_series(1, :count) AS n
ORDER BY n
"""

# Times are written as SQLAlchemy writes them for SQLite ('YYYY-MM-DD HH:MM:SS.ffffff', UTC),
# so they sort as text and read back as the app's datetimes.
SQLITE_INSERT = """
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count)
INSERT INTO message (room_id, author_id, kind, text, created_at)
SELECT :room_id, :author_id, 'text', 'message ' || n,
       strftime('%Y-%m-%d %H:%M:%f', :now, '-' || (:count - n) || ' seconds') || '000'
FROM seq
"""

UPDATE_ROOM = """
UPDATE room SET last_message_at = (SELECT max(created_at) FROM message WHERE room_id = :room_id),
                last_activity_at = (SELECT max(created_at) FROM message WHERE room_id = :room_id)
WHERE id = :room_id
"""


def seed(db: Database, count: int) -> Seeded:
    """`count` messages, one a second up to now, in one room; ids contiguous and growing with time."""
    started = time.perf_counter()
    author_id, room_id, slug = create_room_and_guest(db)
    params = {"room_id": room_id, "author_id": author_id, "count": count}
    with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            connection.execute(text(POSTGRES_INSERT), params)
        else:
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]  # SQLite keeps milliseconds
            connection.execute(text(SQLITE_INSERT), {**params, "now": now})
        connection.execute(text(UPDATE_ROOM), {"room_id": room_id})
        first_id, last_id, rows = connection.execute(
            text("SELECT min(id), max(id), count(*) FROM message WHERE room_id = :room_id"), {"room_id": room_id}
        ).one()
    inserted = time.perf_counter()
    analyse(db)
    seconds = time.perf_counter() - started
    print(
        f"  seeded {rows:,} messages in {seconds:.1f} s "
        f"(insert {inserted - started:.1f} s, analyse {seconds - (inserted - started):.1f} s)",
        flush=True,
    )
    if rows != count or last_id - first_id + 1 != count:
        raise RuntimeError(f"expected {count} contiguous ids, got {rows} rows in {first_id}..{last_id}")
    return Seeded(room_id=room_id, room_slug=slug, first_id=first_id, last_id=last_id, seconds=seconds)


def analyse(db: Database) -> None:
    """Fresh planner statistics. On PostgreSQL VACUUM too, so autovacuum does not wake up
    mid-measurement to process the million new rows (and the visibility map is set), and a
    checkpoint on both, so that writing the bulk load out does not happen mid-measurement either."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if db.dialect == "postgresql":
            connection.execute(text("VACUUM (ANALYZE)"))
            connection.execute(text("CHECKPOINT"))
        else:
            connection.execute(text("ANALYZE"))
            # Likewise the write-ahead log: a bulk load (or an index built over it) left in the WAL
            # is copied into the database by the checkpoints of whatever writes next.
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


# Measuring.


def summarise(samples: list[float]) -> dict[str, float]:
    """p50, p99 (nearest rank) and max of timings in seconds, as milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
    return {
        "calls": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def timed(call: Callable[[], T], check: Callable[[T], None]) -> float:
    """Seconds one call took; its answer is checked afterwards, outside the timing."""
    started = time.perf_counter()
    answer = call()
    elapsed = time.perf_counter() - started
    check(answer)
    return elapsed


def check_page(messages: Sequence[MessagePublic | Message], first: int) -> None:
    """Exactly the 50 messages first..first+49, oldest first, with times growing with ids."""
    ids = [message.id for message in messages]
    if ids != list(range(first, first + PAGE)):
        raise AssertionError(f"expected ids {first}..{first + PAGE - 1}, got {ids[:3]}...{ids[-3:]} ({len(ids)})")
    times = [message.created_at for message in messages]
    if times != sorted(times):
        raise AssertionError(f"page starting at {first}: times do not grow with ids")


def measure_pages(db: Database, seeded: Seeded, kind: str, pages: int, rng: random.Random) -> dict[str, float]:
    """Time WARMUP + `pages` calls of one kind of page; return the figures for the timed ones."""

    def one_call() -> float:
        if kind == "newest":
            first, kwargs = seeded.last_id - PAGE + 1, {}
        elif kind == "before":
            before = rng.randint(seeded.first_id + PAGE, seeded.last_id)
            first, kwargs = before - PAGE, {"before": before}
        else:
            after = rng.randint(seeded.first_id - 1, seeded.last_id - PAGE)
            first, kwargs = after + 1, {"after": after}
        return timed(
            lambda: db.read(page_messages, room_slug=seeded.room_slug, limit=PAGE, **kwargs),
            lambda page: check_page(page.messages, first),
        )

    for _ in range(WARMUP):
        one_call()
    return summarise([one_call() for _ in range(pages)])


def offset_page(*, session: Session, room_id: int, offset: int) -> list[Message]:
    """page_messages' query with OFFSET instead of a keyset: the page `offset` messages back, oldest first."""
    rows = session.exec(
        select(Message, Guest, Image)
        .join(Guest, col(Guest.id) == Message.author_id)
        .outerjoin(Image, col(Image.id) == Message.image_id)
        .where(Message.room_id == room_id)
        .order_by(col(Message.id).desc())
        .offset(offset)
        .limit(PAGE)
    ).all()
    return [message for message, _, _ in reversed(rows)]


def measure_offset(db: Database, seeded: Seeded) -> dict[str, float]:
    """The OFFSET page half-way back, one warm-up and OFFSET_RUNS timed calls."""
    offset = (seeded.last_id - seeded.first_id + 1) // 2
    first = seeded.last_id - offset - PAGE + 1

    def one_call() -> float:
        return timed(
            lambda: db.transaction(offset_page, room_id=seeded.room_id, offset=offset),
            lambda messages: check_page(messages, first),
        )

    one_call()
    figures = summarise([one_call() for _ in range(OFFSET_RUNS)])
    return {**figures, "offset": offset}


@contextmanager
def startup_objects_frozen() -> Iterator[None]:
    """Keep the objects made so far (imports, engine, seeding) out of the garbage collector's scans.

    Otherwise a full collection of them every few hundred calls shows up as a ~75 ms "page"
    in max_ms: a pause of this Python process, not of the query.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# Backends.


@contextmanager
def database(backend: str) -> Iterator[Database]:
    """A migrated, empty database of the given kind, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="chat-history-bench-") as folder:
            db = Database(f"sqlite:///{folder}/chat.db", bus=make_bus(None))
            try:
                db.migrate()
                yield db
            finally:
                db.dispose()
        return
    try:
        url = create_postgres_database()
    except pytest.skip.Exception as error:  # tests.support skips when the server is unreachable
        raise SystemExit(str(error)) from None
    db = Database(url, bus=make_bus(None))
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()
        drop_postgres_database(url)


def run_backend(backend: str, messages: int, pages: int, seed_value: int) -> tuple[dict[str, Any], float]:
    print(f"{backend}:", flush=True)
    rng = random.Random(seed_value)
    with database(backend) as db:
        seeded = seed(db, messages)
        results: dict[str, Any] = {}
        with startup_objects_frozen():
            for kind in ("newest", "before", "after"):
                results[kind] = measure_pages(db, seeded, kind, pages, rng)
                print(f"  {kind:<7} p50 {results[kind]['p50_ms']:.2f} ms", flush=True)
            if backend == "postgresql":
                results["offset_deep"] = measure_offset(db, seeded)
                offset = results["offset_deep"]
                print(f"  OFFSET {offset['offset']:,} p50 {offset['p50_ms']:.2f} ms", flush=True)
    return results, seeded.seconds


def print_table(report: dict[str, Any]) -> None:
    print()
    print(f"{'backend':<11} {'query':<12} {'calls':>5} {'p50_ms':>9} {'p99_ms':>9} {'max_ms':>9}")
    for backend in BACKENDS:
        for query, figures in report.get(backend, {}).items():
            print(
                f"{backend:<11} {query:<12} {figures['calls']:>5} "
                f"{figures['p50_ms']:>9.2f} {figures['p99_ms']:>9.2f} {figures['max_ms']:>9.2f}"
            )
    for backend, seconds in report["seed_seconds"].items():
        print(f"seeding {backend}: {seconds:.1f} s for {report['messages']:,} messages")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages in the room (default 1,000,000)")
    parser.add_argument("--pages", type=int, default=300, help="timed calls per kind of page (default 300)")
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures to this JSON file")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the page positions")
    args = parser.parse_args(argv)
    if args.messages < 2 * PAGE:
        parser.error(f"--messages must be at least {2 * PAGE}")
    if args.pages < 1:
        parser.error("--pages must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    started = time.perf_counter()
    report: dict[str, Any] = {"messages": args.messages, "pages": args.pages, "seed_seconds": {}}
    for backend in backends:
        report[backend], report["seed_seconds"][backend] = run_backend(backend, args.messages, args.pages, args.seed)
    report["seed_seconds"] = {name: round(seconds, 2) for name, seconds in report["seed_seconds"].items()}
    print_table(report)
    print(f"total run time {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

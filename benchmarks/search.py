"""Search at a million messages (#16): how long a search takes, and what the index costs a send,
on PostgreSQL and on SQLite.

Seeding: as benchmarks/history.py (bulk SQL into one room, contiguous ids, one message a second up
to now), but with texts drawn from a vocabulary, so that common and rare words exist as they do
in real chat. The vocabulary is VOCABULARY made-up words, ranked: rank r is spelled by the digits
of r + 20 in base 20, one two-letter syllable per digit ("dede", "defi", ... "fiseba"), so common
words have four letters and rare ones six, and a 3-letter prefix names a family of words. Each
message holds 4 to 12 words (4 + id mod 9), each drawn in SQL by rank = floor(VOCABULARY ** u)
with u uniform in [0, 1): a log-uniform draw, P(r) proportional to 1/r, Zipf's law with exponent
1. PostgreSQL draws with random() (setseed first: repeatable) into an array of the words passed as
a parameter; SQLite with random() into a TEMP table of the words. The word of rank 1 is then in
about half the messages, rank 30 in 3 %, rank 1,000 in 0.1 %.

Steps, per backend:
  1. a fresh database migrated to 0006 (before the search index), seeded, analysed;
  2. send, before: --sends calls of services.messages.send_message through Database.run, as the
     app posts, into the seeded room (texts from the same vocabulary);
  3. migrate to the newest revision: 0007 builds the index over the million rows (timed);
  4. analysed again (PostgreSQL: VACUUM, the generated column rewrote the table), then send,
     after: --sends more;
  5. search: for each pair of words (common, medium, rare) a two-word query and one whose last word
     is its first 3 letters, WARMUP + --searches calls each of services.search.search_messages
     (the first page, 20 results) as the app calls it: Database.read, a fresh session per call
     outside a transaction. Every answer is checked (each result holds both words, newest first,
     a full page when there are enough matches) before it counts;
  6. the plan of each kind's id query, captured from the service's own statement: EXPLAIN
     (ANALYZE) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite.

SQLite lives in a temporary folder; PostgreSQL gets a fresh database that is dropped at the end.

Run from the project folder:

    .venv/bin/python benchmarks/search.py                        # both backends, 1,000,000 messages
    .venv/bin/python benchmarks/search.py --backend sqlite --messages 100000 --searches 50
    .venv/bin/python benchmarks/search.py --json search.json     # figures also as JSON
"""

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.support when run as `python benchmarks/search.py`

from benchmarks.history import (  # noqa: E402
    UPDATE_ROOM,
    Seeded,
    analyse,
    create_room_and_guest,
    startup_objects_frozen,
    summarise,
    timed,
)
from models.search import SEARCH_LIMIT_DEFAULT, SearchPage  # noqa: E402
from services.bus import make_bus  # noqa: E402
from services.database import Database, alembic_config  # noqa: E402
from services.messages import send_message  # noqa: E402
from services.search import search_messages  # noqa: E402
from services.search_index import SearchIndexMerger  # noqa: E402
from tests.support import create_postgres_database, drop_postgres_database  # noqa: E402

VOCABULARY = 5000
SYLLABLES = ("ba", "de", "fi", "go", "hu", "ka", "le", "mi", "no", "pu")
SYLLABLES += ("ra", "se", "ti", "vo", "wu", "za", "ce", "ji", "lo", "ne")
# Ranks of the two words: both common, both of middling frequency, both rare (so rare that the
# pair is in almost no message: the search that finds nothing), and a common word with a rare one.
PAIRS = {"common": (1, 2), "medium": (30, 50), "rare": (1000, 2000), "mixed": (1, 1000)}
PREFIX = 3  # letters of the last word in a prefix query
WARMUP = 20
BACKENDS = ("sqlite", "postgresql")
BEFORE_INDEX = "0006"
OLDER_PAGE = "common, older"


def word(rank: int) -> str:
    """The vocabulary's word of `rank` (1 is the most common): the base-20 digits of rank + 20."""
    number, syllables = rank + 20, []
    while number:
        number, digit = divmod(number, len(SYLLABLES))
        syllables.append(SYLLABLES[digit])
    return "".join(reversed(syllables))


WORDS = [word(rank) for rank in range(1, VOCABULARY + 1)]


# Seeding.

POSTGRES_INSERT = """
INSERT INTO message (room_id, author_id, kind, text, created_at)
SELECT :room_id, :author_id, 'text',
       (SELECT string_agg((CAST(:words AS text[]))[floor(pow(:vocabulary, random()))::int], ' ')
        FROM generate_series(1, 4 + n % 9)),
       now() - (:count - n) * interval '1 second'
FROM generate_series(1, :count) AS n
ORDER BY n
"""

# One correlated subquery per word (it names n, so SQLite draws again for every row), and the
# fifth to twelfth words only where 4 + n % 9 asks for them.
_SQLITE_WORD = (
    "(SELECT word FROM temp.vocabulary WHERE rank = "
    "CAST(pow(:vocabulary, abs(random() % 1000000007) / 1000000007.0) AS INTEGER) + (n - n))"
)
_SQLITE_TEXT = " || ' ' || ".join([_SQLITE_WORD] * 4) + "".join(
    f" || CASE WHEN n % 9 >= {extra} THEN ' ' || {_SQLITE_WORD} ELSE '' END" for extra in range(1, 9)
)
SQLITE_INSERT = f"""
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count)
INSERT INTO message (room_id, author_id, kind, text, created_at)
SELECT :room_id, :author_id, 'text', {_SQLITE_TEXT},
       strftime('%Y-%m-%d %H:%M:%f', :now, '-' || (:count - n) || ' seconds') || '000'
FROM seq
"""


def seed(db: Database, count: int) -> tuple[Seeded, int]:
    """`count` messages of vocabulary words in one room; the room and its owner's id."""
    started = time.perf_counter()
    author_id, room_id, slug = create_room_and_guest(db)
    params = {"room_id": room_id, "author_id": author_id, "count": count, "vocabulary": VOCABULARY}
    with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            connection.execute(text("SELECT setseed(0.16)"))
            connection.execute(text(POSTGRES_INSERT), {**params, "words": WORDS})
        else:
            connection.execute(text("CREATE TEMP TABLE vocabulary (rank INTEGER PRIMARY KEY, word TEXT NOT NULL)"))
            connection.execute(
                text("INSERT INTO temp.vocabulary VALUES (:rank, :word)"),
                [{"rank": rank, "word": spelled} for rank, spelled in enumerate(WORDS, start=1)],
            )
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            connection.execute(text(SQLITE_INSERT), {**params, "now": now})
            connection.execute(text("DROP TABLE temp.vocabulary"))
        connection.execute(text(UPDATE_ROOM), {"room_id": room_id})
        first_id, last_id, rows = connection.execute(
            text("SELECT min(id), max(id), count(*) FROM message WHERE room_id = :room_id"), {"room_id": room_id}
        ).one()
    inserted = time.perf_counter()
    analyse(db)
    seconds = time.perf_counter() - started
    print(f"  seeded {rows:,} messages in {seconds:.1f} s (insert {inserted - started:.1f} s)", flush=True)
    if rows != count:
        raise RuntimeError(f"expected {count} messages, got {rows}")
    return Seeded(room_id=room_id, room_slug=slug, first_id=first_id, last_id=last_id, seconds=seconds), author_id


def database_size(db: Database) -> int:
    """Bytes on disk: the whole database (PostgreSQL) or file (SQLite)."""
    with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            return int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
        pages = connection.execute(text("PRAGMA page_count")).scalar_one()
        return int(pages * connection.execute(text("PRAGMA page_size")).scalar_one())


# Sending.


def measure_sends(
    db: Database, seeded: Seeded, author_id: int, count: int, rng: random.Random, *, indexed: bool
) -> dict[str, float]:
    """`count` sends (after WARMUP more), each a transaction through Database.run, as the API posts;
    once `indexed`, with the search index's background merging running beside them as the app runs
    it (services.search_index: SQLite only)."""

    async def sends() -> list[float]:
        merger = SearchIndexMerger(db)
        if indexed:
            await merger.start()
        try:
            return await timed_sends()
        finally:
            await merger.stop()

    async def timed_sends() -> list[float]:
        samples = []
        for index in range(WARMUP + count):
            words = " ".join(rng.choice(WORDS[:500]) for _ in range(rng.randint(4, 12)))
            started = time.perf_counter()
            await db.run(send_message, room_slug=seeded.room_slug, author_id=author_id, text=words)
            if index >= WARMUP:
                samples.append(time.perf_counter() - started)
        return samples

    return summarise(asyncio.run(sends()))


# Searching.


def queries() -> dict[str, str]:
    """Each kind of search: the pair's two words, and the pair with its last word cut to PREFIX letters."""
    found = {}
    for name, (first, second) in PAIRS.items():
        found[f"{name}"] = f"{word(first)} {word(second)}"
        found[f"{name} prefix"] = f"{word(first)} {word(second)[:PREFIX]}"
    return found


def check_results(page: SearchPage, query: str, matches: int, before: int | None = None) -> None:
    """Every result holds each word (the last as a prefix), newest first, a full page if there are
    enough (an older page of the common pair: there always are), older than `before`."""
    *whole, last = query.split()
    for message in page.results:
        words = message.text.lower().split()
        if not all(w in words for w in whole) or not any(w.startswith(last) for w in words):
            raise AssertionError(f"{query!r} found {message.text!r}")
    ids = [message.id for message in page.results]
    if before is not None and any(message_id >= before for message_id in ids):
        raise AssertionError(f"{query!r}: results not older than {before}")
    if ids != sorted(ids, reverse=True) or len(ids) != min(matches, SEARCH_LIMIT_DEFAULT):
        raise AssertionError(f"{query!r}: {len(ids)} results of {matches} matches, ids {ids[:3]}...")


def count_matches(db: Database, query: str) -> int:
    """How many messages a query matches in all (walking every page would take minutes for the
    common pair): the engine's own count, outside the timing."""
    *whole, last = query.split()
    with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            tsquery = " & ".join([*whole, f"{last}:*"])
            return int(
                connection.execute(
                    text("SELECT count(*) FROM message WHERE search_vector @@ to_tsquery('simple', :q)"), {"q": tsquery}
                ).scalar_one()
            )
        match = " ".join([*(f'"{w}"' for w in whole), f'"{last}"*'])
        return int(
            connection.execute(
                text("SELECT count(*) FROM message_fts WHERE message_fts MATCH :q"), {"q": match}
            ).scalar_one()
        )


def measure_search(db: Database, query: str, matches: int, calls: int, before: int | None = None) -> dict[str, float]:
    def one_call() -> float:
        return timed(
            lambda: db.read(search_messages, query=query, reader_id=None, before=before),
            lambda page: check_results(page, query, matches, before),
        )

    for _ in range(WARMUP):
        one_call()
    return summarise([one_call() for _ in range(calls)])


def id_query_plan(db: Database, query: str, before: int | None = None) -> str:
    """The plan of the first statement a search runs (the id query), as the service wrote it."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        db.read(search_messages, query=query, reader_id=None, before=before)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    statement, parameters = captured[0]
    explain = "EXPLAIN (ANALYZE, BUFFERS) " if db.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(explain + statement, parameters).all()
    if db.dialect == "postgresql":
        return "\n".join(row[0] for row in rows)
    return "\n".join(f"{'  ' * _depth(rows, row)}{row[-1]}" for row in rows)


def _depth(rows: list[Any], row: Any) -> int:
    """EXPLAIN QUERY PLAN's rows are (id, parent, notused, detail): indent by the parent chain."""
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent:
        depth, parent = depth + 1, parents.get(parent, 0)
    return depth


# Backends.


@contextmanager
def database(backend: str) -> Iterator[Database]:
    """A fresh database of the given kind, migrated to BEFORE_INDEX, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="chat-search-bench-") as folder:
            db = Database(f"sqlite:///{folder}/chat.db", bus=make_bus(None))
            try:
                migrate(db, BEFORE_INDEX)
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
        migrate(db, BEFORE_INDEX)
        yield db
    finally:
        db.dispose()
        drop_postgres_database(url)


def migrate(db: Database, revision: str) -> None:
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def run_backend(backend: str, messages: int, searches: int, sends: int, seed_value: int) -> dict[str, Any]:
    print(f"{backend}:", flush=True)
    rng = random.Random(seed_value)
    report: dict[str, Any] = {"search": {}, "matches": {}, "plans": {}}
    with database(backend) as db:
        seeded, author_id = seed(db, messages)
        report["seed_seconds"] = round(seeded.seconds, 1)
        size_before = database_size(db)
        with startup_objects_frozen():
            report["send_before_index"] = measure_sends(db, seeded, author_id, sends, rng, indexed=False)
        print(f"  send before the index p99 {report['send_before_index']['p99_ms']:.2f} ms", flush=True)

        started = time.perf_counter()
        db.migrate()
        report["index_build_seconds"] = round(time.perf_counter() - started, 1)
        analyse(db)
        report["database_mb"] = {"before": round(size_before / 2**20, 1), "after": round(database_size(db) / 2**20, 1)}
        print(f"  index migrations in {report['index_build_seconds']} s, {report['database_mb']} MB", flush=True)

        with startup_objects_frozen():
            report["send_after_index"] = measure_sends(db, seeded, author_id, sends, rng, indexed=True)
            print(f"  send after the index p99 {report['send_after_index']['p99_ms']:.2f} ms", flush=True)
            for kind, query in queries().items():
                matches = report["matches"][kind] = count_matches(db, query)
                report["search"][kind] = figures = measure_search(db, query, matches, searches)
                report["plans"][kind] = id_query_plan(db, query)
                print(f"  {kind:<15} {query!r:<20} {matches:>7,} matches  p99 {figures['p99_ms']:.2f} ms", flush=True)
            # Paging on: the common pair's page older than the room's middle message.
            middle, query = (seeded.first_id + seeded.last_id) // 2, queries()["common"]
            report["search"][OLDER_PAGE] = figures = measure_search(db, query, 10**9, searches, before=middle)
            report["matches"][OLDER_PAGE] = report["matches"]["common"]
            report["plans"][OLDER_PAGE] = id_query_plan(db, query, before=middle)
            print(f"  {OLDER_PAGE:<15} {query!r:<20} before {middle:,}  p99 {figures['p99_ms']:.2f} ms", flush=True)
    return report


def print_report(report: dict[str, Any]) -> None:
    print()
    print(f"{'backend':<11} {'search':<15} {'query':<16} {'matches':>8} {'p50_ms':>8} {'p99_ms':>8} {'max_ms':>8}")
    for backend in BACKENDS:
        if backend not in report:
            continue
        for kind, query in [*queries().items(), (OLDER_PAGE, queries()["common"])]:
            figures = report[backend]["search"][kind]
            print(
                f"{backend:<11} {kind:<15} {query:<16} {report[backend]['matches'][kind]:>8,} "
                f"{figures['p50_ms']:>8.2f} {figures['p99_ms']:>8.2f} {figures['max_ms']:>8.2f}"
            )
    print()
    print(f"{'backend':<11} {'send':<13} {'calls':>5} {'p50_ms':>8} {'p99_ms':>8} {'max_ms':>8}")
    for backend in BACKENDS:
        for when in ("before_index", "after_index"):
            if backend in report:
                figures = report[backend][f"send_{when}"]
                print(
                    f"{backend:<11} {when:<13} {figures['calls']:>5} "
                    f"{figures['p50_ms']:>8.2f} {figures['p99_ms']:>8.2f} {figures['max_ms']:>8.2f}"
                )
    for backend in BACKENDS:
        if backend in report:
            figures = report[backend]
            print(
                f"{backend}: seeded in {figures['seed_seconds']} s; "
                f"index migrations in {figures['index_build_seconds']} s; "
                f"database {figures['database_mb']['before']} MB -> {figures['database_mb']['after']} MB"
            )
            for kind, plan in figures["plans"].items():
                print(f"\n{backend}, {kind} ({queries().get(kind, queries()['common'])!r}):\n{_indent(plan)}")


def _indent(plan: str) -> str:
    return re.sub(r"^", "    ", plan, flags=re.MULTILINE)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages in the room (default 1,000,000)")
    parser.add_argument("--searches", type=int, default=200, help="timed calls per kind of search (default 200)")
    parser.add_argument("--sends", type=int, default=300, help="timed sends before and after the index (default 300)")
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures to this JSON file")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the sent texts")
    args = parser.parse_args(argv)
    if args.messages < 1000:
        parser.error("--messages must be at least 1000")
    if args.searches < 1 or args.sends < 1:
        parser.error("--searches and --sends must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    started = time.perf_counter()
    report: dict[str, Any] = {"messages": args.messages, "searches": args.searches, "sends": args.sends}
    for backend in backends:
        report[backend] = run_backend(backend, args.messages, args.searches, args.sends, args.seed)
    print_report(report)
    print(f"total run time {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

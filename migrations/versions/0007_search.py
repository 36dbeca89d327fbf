"""search: a full-text index of message.text on each database's own engine

SQLite: an FTS5 table over message.text (external content: it stores the index only, the text
stays in message), kept current by triggers on INSERT, UPDATE OF text and DELETE of message, and
filled from the rows already there. No column sizes are kept (`columnsize=0`): results are ordered
by id, never ranked, and without them every insert writes one row less. Prefix indexes of 1 to 4
characters: the last word of every search is a prefix, and without them FTS5 merges the whole
doclist of every word the prefix starts before it can return the newest match (at a million
messages, 90-180 ms for a common 3- or 4-letter prefix, 2.5 s for one letter; with them, under
1.5 ms). They cost disk: the index grows from 26 MB to 105 MB there (the messages take 88 MB).

PostgreSQL: a STORED generated tsvector column with a GIN index. Chosen over an expression index
by measurement (docs/PERFORMANCE.md, "Search (#16)"): for words common enough that the planner
walks message ids backwards and tests each row, a stored vector costs ~0.5 µs a row where the
expression's to_tsvector costs ~10 µs, so a query that reads a few thousand rows stays in
single-digit milliseconds. The 'simple' configuration lower-cases without stemming or stop words,
so that every language is searched alike.

Both engines see the same words as services.search: ASCII punctuation separates words. FTS5's
unicode61 does that by itself; PostgreSQL's parser would keep `ada@example.org`, `example.com/x`
or `node.js` as single tokens that a search for `example` never finds, so its vector is made from
the text with ASCII punctuation turned into spaces (translate: immutable, and independent of the
database's locale).

The columns and tables made here are described by no model; models.search.described_by_models
keeps them out of schema comparisons (alembic autogenerate, tests/test_schema.py).

Warning for later migrations of `message` on SQLite: Alembic's batch mode (op.batch_alter_table,
which SQLite needs for most column changes) copies the table to a new one and drops the old, and
the three triggers go with it. Nothing fails: search just stops seeing new and edited messages.
Such a migration must drop the triggers before the batch and create them again after it (the
statements in SQLITE_UPGRADE, then a 'rebuild'). tests/test_schema.py checks that they exist at
head and that FTS5's integrity-check passes.

Revision ID: 0007
Revises: 0006
"""

import string
from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out here, not imported: a migration must build the same schema whatever the app becomes.
FTS_TABLE = "message_fts"
VECTOR_COLUMN = "search_vector"
VECTOR_INDEX = "ix_message_search_vector"

_PUNCTUATION = string.punctuation.replace("'", "''")  # as an SQL literal
_SPACES = " " * len(string.punctuation)
PG_VECTOR = f"to_tsvector('simple'::regconfig, translate(text, '{_PUNCTUATION}', '{_SPACES}'))"

SQLITE_UPGRADE = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "text, content='message', content_rowid='id', tokenize='unicode61 remove_diacritics 2', columnsize=0, "
    "prefix='1 2 3 4')",
    # External content: FTS5 is told each change, with the old text for what leaves the index.
    f"""CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
        INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.id, new.text);
    END""",
    f"""CREATE TRIGGER message_fts_update AFTER UPDATE OF text ON message BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.id, new.text);
    END""",
    f"""CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS message_fts_delete",
    "DROP TRIGGER IF EXISTS message_fts_update",
    "DROP TRIGGER IF EXISTS message_fts_insert",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)
POSTGRES_UPGRADE = (
    # Rewrites the table once (about 20 s at a million messages here), under an exclusive lock.
    f"ALTER TABLE message ADD COLUMN {VECTOR_COLUMN} tsvector GENERATED ALWAYS AS ({PG_VECTOR}) STORED",
    f"CREATE INDEX {VECTOR_INDEX} ON message USING gin ({VECTOR_COLUMN})",
)
POSTGRES_DOWNGRADE = (
    f"DROP INDEX IF EXISTS {VECTOR_INDEX}",
    f"ALTER TABLE message DROP COLUMN IF EXISTS {VECTOR_COLUMN}",
)


def upgrade() -> None:
    for statement in POSTGRES_UPGRADE if _dialect() == "postgresql" else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRES_DOWNGRADE if _dialect() == "postgresql" else SQLITE_DOWNGRADE:
        op.execute(statement)


def _dialect() -> str:
    return op.get_bind().dialect.name

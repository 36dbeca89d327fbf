"""search: SQLite's FTS5 index stops merging its segments while a message is being sent

FTS5 writes each transaction's new words as a small segment and, by default ('automerge' 4), merges
segments as part of the write that made a level full. That merge ran inside the send: at a million
messages a send's p99 went from 6.2 ms before the index to 26-37 ms after it, with spikes of a
quarter of a second (docs/PERFORMANCE.md, "Search (#16)"). With automerge off, a send only writes
its own segment, and services.search_index merges in the background, a few pages at a time, off
the send path. FTS5's 'crisismerge' (16 segments on one level) still merges in the write if the
background task is not running (a script, a test without the app): searches stay correct and the
index stays bounded either way.

PostgreSQL: nothing to do (its GIN index has its own pending list, merged by autovacuum).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_TABLE = "message_fts"  # written out, as in 0007: a migration must not follow the app
FTS5_DEFAULT_AUTOMERGE = 4


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', 0)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', {FTS5_DEFAULT_AUTOMERGE})")

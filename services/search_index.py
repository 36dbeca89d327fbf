"""Keeps SQLite's search index compact in the background, so that no send pays for merging it.

Migration 0008 turns FTS5's automatic merging off: each send then writes only its own small
segment of the index. Left alone, segments pile up until FTS5's crisis merge (16 on one level)
merges a whole level inside some unlucky send. SearchIndexMerger merges instead, every few
seconds, a bounded number of pages per step with a pause between steps, so a send waits for the
write lock a few milliseconds at most. PostgreSQL needs none of this: the merger does nothing there.
"""

import asyncio
import logging

from sqlmodel import Session

from models.search import SEARCH_INDEX_TABLE
from services.database import Database
from services.periodic import Periodic

log = logging.getLogger(__name__)

MERGE_INTERVAL_SECONDS = 5.0  # between rounds; a round runs steps until nothing is left to merge
MERGE_PAGES_PER_STEP = 64  # index pages written per step: a few ms holding SQLite's write lock
MERGE_PAUSE_SECONDS = 0.02  # between steps, for the sends waiting on the lock
MERGE_STEPS_PER_ROUND = 500  # a bound, should merging ever keep finding work


def merge_step(*, session: Session, pages: int = MERGE_PAGES_PER_STEP) -> bool:
    """One step of FTS5's incremental merge, writing up to `pages` pages; True if it merged
    anything (FTS5's documented test: the connection's total_changes() moved by 2 or more)."""
    connection = session.connection()
    before = connection.exec_driver_sql("SELECT total_changes()").scalar_one()
    connection.exec_driver_sql(
        f"INSERT INTO {SEARCH_INDEX_TABLE}({SEARCH_INDEX_TABLE}, rank) VALUES ('merge', ?)", (pages,)
    )
    return connection.exec_driver_sql("SELECT total_changes()").scalar_one() - before >= 2


class SearchIndexMerger:
    """Runs merge rounds on SQLite while the app serves (AppContext starts and stops it)."""

    def __init__(
        self,
        db: Database,
        *,
        interval: float = MERGE_INTERVAL_SECONDS,
        pages: int = MERGE_PAGES_PER_STEP,
        pause: float = MERGE_PAUSE_SECONDS,
    ) -> None:
        self.db = db
        self.interval = interval
        self.pages = pages
        self.pause = pause
        # A round that fails (the database down, a locked file) is logged; the next one tries again.
        self._rounds = Periodic(
            self.merge,
            interval=interval,
            name="search-index-merger",
            log=log,
            failure="merging the search index failed",
        )

    async def start(self) -> None:
        if self.db.dialect == "sqlite":
            self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()

    async def merge(self) -> int:
        """One round: steps until nothing is left to merge; how many steps merged something."""
        merged = 0
        while merged < MERGE_STEPS_PER_ROUND and await self.db.run(merge_step, pages=self.pages):
            merged += 1
            await asyncio.sleep(self.pause)
        return merged

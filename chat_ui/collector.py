"""When Python's garbage collector runs: rarely while people chat, soon after pages close.

Each open page is a few thousand long-lived objects. With the default thresholds the
collector walked all of them every 2-3 s under load: 300-400 ms pauses at 200 viewers, which
set the p99 of live delivery (docs/PERFORMANCE.md). So start-up objects are frozen out of it
and its thresholds are raised; young cycles are still collected within seconds.

A closed page, though, is mostly cyclic garbage that has grown old, which only a full
collection frees: with raised thresholds that could take an hour of traffic, and memory
would grow meanwhile (about 0.4 MB per closed page). So a full collection runs at most once
every COLLECT_EVERY seconds, and only when some page has closed since the last one. On a busy
server, where someone always leaves, that is one pause a minute (about 300 ms at 200 open
pages) instead of one every few seconds; while the same people keep chatting, none.
"""

import asyncio
import gc
import logging
import time

from nicegui import app, background_tasks

log = logging.getLogger(__name__)
COLLECT_EVERY = 60.0  # seconds


class Collector:
    def __init__(self) -> None:
        self._pages_closed = 0

    def install(self) -> None:
        """Call once, after everything is imported and before the server starts."""
        gc.freeze()  # what start-up made lives as long as the process: leave it out of every collection
        gc.set_threshold(10_000, 10, 100)
        app.on_delete(self._page_closed)
        app.on_startup(lambda: background_tasks.create(self._collect_closed_pages(), name="collect closed pages"))

    def _page_closed(self) -> None:
        self._pages_closed += 1

    async def _collect_closed_pages(self) -> None:
        while True:
            await asyncio.sleep(COLLECT_EVERY)
            if not self._pages_closed:
                continue
            closed, self._pages_closed = self._pages_closed, 0
            started = time.perf_counter()
            freed = gc.collect()
            took = (time.perf_counter() - started) * 1000
            log.debug("collected %d objects after %d pages closed, in %.0f ms", freed, closed, took)


collector = Collector()

"""A background task that does one piece of work every few seconds while the app runs (read
marks, the presence heartbeat, merging SQLite's search index)."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class Periodic:
    """Calls `work` every `interval` seconds from `start()` until `stop()`. A round that fails is
    logged with `failure` and the next one tries again: the task itself never dies."""

    def __init__(
        self, work: Callable[[], Awaitable[object]], *, interval: float, name: str, log: logging.Logger, failure: str
    ) -> None:
        self.work, self.interval, self.name = work, interval, name
        self._log, self._failure = log, failure
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.work()
            except Exception:
                self._log.exception(self._failure)

"""Where uploaded images are decoded: a few worker processes, a short queue, and a clear "busy".

Decoding an image the limits allow still takes up to about 2 s of CPU and 450 MB (see
services/images.py and docs/PERFORMANCE.md "Hostile uploads"). In a thread of the app's own
process that memory stays with the process afterwards (the allocator keeps it), eight at once
starve the event loop through the GIL, and nothing stops a hundred at once. So images go to a
`ProcessPoolExecutor`:

- each worker handles one image and exits (`max_tasks_per_child=1`): whatever it used goes
  back to the system with it, and a worker that hit its memory cap leaves nothing behind;
- workers come from a fork server, a clean process started once, never forked from the running
  server with its event loop and threads;
- each worker's address space is capped (RLIMIT_AS): a bomb the header checks missed ends in
  a clean 413 or 415 instead of taking the machine;
- workers run at a lower CPU priority (nice 10) than the app, so pages and /healthz stay quick
  while every core decodes;
- at most `workers` images are decoded at once and `waiting` more wait in line; past that an
  upload is refused at once with `Busy` (503 and Retry-After), so a flood costs the server
  neither memory nor time.
"""

import asyncio
import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Protocol

import anyio.to_thread
from PIL import Image

from services.errors import ServiceError
from services.images import ProcessedImage, process_image

# Pillow imports its format plugins on first use, which took a fresh worker 0.2 s per image; done
# here, it is done once in the fork server (which imports this module) and every worker has them.
Image.init()

# A worker decoding the largest image the limits allow peaks at about 450 MB; its Python and
# libraries reserve some address space besides. Past this cap an allocation fails cleanly.
WORKER_MEMORY_CAP = 1536 * 1024 * 1024
WORKER_NICENESS = 10  # below the app's own process, which answers every page and request
WAITING_PER_WORKER = 2  # images that may wait for a worker, per worker, before uploads are refused


class Busy(ServiceError):
    """Every image worker is taken and the line is full: try again shortly."""

    status_code = 503

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, round(retry_after + 0.499))
        super().__init__(f"the server is busy with other images; try again in {self.retry_after} s")


class ImageProcessor(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    async def process(self, data: bytes, *, max_bytes: int) -> ProcessedImage:
        """Decode, check and re-encode an upload; raise a ServiceError (413, 415, 503) if not."""
        ...


class ThreadImageProcessor:
    """In a worker thread of this process: for tests and scripts that use the services directly."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    async def process(self, data: bytes, *, max_bytes: int) -> ProcessedImage:
        return await anyio.to_thread.run_sync(partial(process_image, data, max_bytes=max_bytes))


def _prepare_worker(memory_cap: int) -> None:
    """Runs first in every worker. Allocations past the cap raise MemoryError instead of growing;
    a lower CPU priority lets the event loop of the app (every open page, /healthz) run first
    when the workers keep every core busy."""
    import resource

    with contextlib.suppress(ValueError, OSError):  # a lower hard limit already set is kept
        resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


class ProcessImagePool:
    """A bounded pool of image workers. `start()` before use, `stop()` at shutdown."""

    def __init__(self, workers: int, *, waiting: int | None = None, memory_cap: int = WORKER_MEMORY_CAP) -> None:
        self.workers = workers
        self.capacity = workers + (WAITING_PER_WORKER * workers if waiting is None else waiting)
        self._memory_cap = memory_cap
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # the count is released from the executor's own thread
        self._in_flight = 0
        self._seconds_per_image = 1.0  # a running average, for Retry-After

    @property
    def in_flight(self) -> int:
        """Images being decoded or waiting for a worker: for metrics and tests."""
        return self._in_flight

    def start(self) -> None:
        """Blocks for a moment (starting the fork server, which imports Pillow): call it in a thread."""
        self._executor = self._new_executor()
        multiprocessing.forkserver.ensure_running()  # now, rather than in the first upload's time

    def stop(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            # Do not wait: a worker in the middle of an image finishes it and exits on its own.
            executor.shutdown(wait=False, cancel_futures=True)

    async def process(self, data: bytes, *, max_bytes: int) -> ProcessedImage:
        started = time.monotonic()
        try:
            future = self._submit(data, max_bytes)
            result = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            # A worker died outright (killed from outside, a crash in a codec): every image it
            # shared the pool with failed too. A fresh pool serves the next ones; these may retry.
            self._renew()
            raise Busy(self._retry_after()) from None
        except asyncio.CancelledError:
            future.cancel()  # the client went away: drop the image if it has not started yet
            raise
        self._seconds_per_image = 0.8 * self._seconds_per_image + 0.2 * (time.monotonic() - started)
        return result

    def _submit(self, data: bytes, max_bytes: int) -> "Future[ProcessedImage]":
        with self._lock:
            if self._executor is None:
                raise RuntimeError("the image pool is not started")
            if self._in_flight >= self.capacity:
                raise Busy(self._retry_after())
            self._in_flight += 1
        try:
            future = self._executor.submit(process_image, data, max_bytes=max_bytes)
        except BaseException:
            self._release()
            raise
        # Released when the work is really over, not when a cancelled request stops waiting for it.
        future.add_done_callback(lambda _: self._release())
        return future

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _retry_after(self) -> float:
        """About when a place in the line frees up: the line's length in images per worker."""
        return min(30.0, self._seconds_per_image * self.capacity / self.workers)

    def _renew(self) -> None:
        with self._lock:
            old, self._executor = self._executor, self._new_executor()
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)

    def _new_executor(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # The fork server imports Pillow, its plugins and the main module once; each worker is a
        # fork of it, ready at once (a worker would otherwise import the main module again itself).
        context.set_forkserver_preload(["__main__", "services.image_pool"])
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            max_tasks_per_child=1,
            initializer=_prepare_worker,
            initargs=(self._memory_cap,),
        )

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
- each worker watches the app's process and exits within a second of its end, however it ended
  (SIGKILL, the OOM killer): an idle worker would otherwise wait for work forever, and keep the
  fork server alive with it (the fork server exits once nothing holds its "alive" pipe, which
  every worker holds);
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
from pathlib import Path
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
APP_WATCH_SECONDS = 0.5  # how often a worker checks that the app is still there


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


def _process_identity(pid: int) -> str | None:
    """The start time of a living process (from /proc, so a reused pid is not taken for it), or
    None once it has ended, a zombie included. Where there is no /proc, only whether it exists."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "alive"
    return None if fields[0] in ("Z", "X") else fields[19]


def _exit_with(app_pid: int, app_identity: str | None) -> None:
    """In a worker's thread: end the worker as soon as the app that started it is gone."""
    while _process_identity(app_pid) == app_identity:
        time.sleep(APP_WATCH_SECONDS)
    os._exit(1)


def _prepare_worker(memory_cap: int, app_pid: int, app_identity: str | None) -> None:
    """Runs first in every worker. Allocations past the cap raise MemoryError instead of growing;
    a lower CPU priority lets the event loop of the app (every open page, /healthz) run first
    when the workers keep every core busy; and the worker ends with the app (its parent is the
    fork server, not the app, so nothing else would tell it)."""
    import resource

    threading.Thread(target=_exit_with, args=(app_pid, app_identity), name="app-watch", daemon=True).start()
    with contextlib.suppress(ValueError, OSError):  # a lower hard limit already set is kept
        resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


def _shut_down(executor: ProcessPoolExecutor) -> None:
    """Shut a pool down without waiting for it here. Not `shutdown(wait=False)`: in Python 3.11
    that clears the pool's process table while its manager thread may still be replacing a worker
    that exited after its image (max_tasks_per_child), and that thread dies of it, leaving any
    image already handed to a worker unanswered. Waiting, in a thread of its own, avoids the race;
    images not yet started are cancelled (their uploads hear Busy)."""
    threading.Thread(
        target=partial(executor.shutdown, wait=True, cancel_futures=True), name="image-pool-shutdown", daemon=True
    ).start()


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
            _shut_down(executor)

    async def process(self, data: bytes, *, max_bytes: int) -> ProcessedImage:
        started = time.monotonic()
        executor, future = self._submit(data, max_bytes)
        try:
            result = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            # A worker died outright (killed from outside, a crash in a codec): every image it
            # shared the pool with failed too. A fresh pool serves the next ones; these may retry.
            self._renew(executor)
            raise Busy(self._retry_after()) from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                future.cancel()  # the client went away: drop the image if it has not started yet
                raise
            # Not this request's cancellation: the image's pool was replaced after a broken worker,
            # or stopped, while the image waited in its line. The client may retry.
            raise Busy(self._retry_after()) from None
        self._seconds_per_image = 0.8 * self._seconds_per_image + 0.2 * (time.monotonic() - started)
        return result

    def _submit(self, data: bytes, max_bytes: int) -> tuple[ProcessPoolExecutor, "Future[ProcessedImage]"]:
        with self._lock:
            executor = self._executor
            if executor is None:
                raise RuntimeError("the image pool is not started")
            if self._in_flight >= self.capacity:
                raise Busy(self._retry_after())
            self._in_flight += 1
        try:
            future = executor.submit(process_image, data, max_bytes=max_bytes)
        except BrokenProcessPool:  # broken by another image a moment ago, not yet renewed
            self._release()
            self._renew(executor)
            raise Busy(self._retry_after()) from None
        except BaseException:
            self._release()
            raise
        # Released when the work is really over, not when a cancelled request stops waiting for it.
        future.add_done_callback(lambda _: self._release())
        return executor, future

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _retry_after(self) -> float:
        """About when a place in the line frees up: the line's length in images per worker."""
        return min(30.0, self._seconds_per_image * self.capacity / self.workers)

    def _renew(self, broken: ProcessPoolExecutor) -> None:
        """Replace the pool that broke, once: every image it held reports the same breakage, and
        the ones after the first must not replace (and cancel the line of) the fresh pool."""
        with self._lock:
            if self._executor is not broken:
                return  # already renewed, or stopped
            self._executor = self._new_executor()
        _shut_down(broken)

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
            initargs=(self._memory_cap, os.getpid(), _process_identity(os.getpid())),
        )

"""A running app's processes, seen from /proc (no psutil): its descendants, their memory, and a
watch of its /healthz latency and memory during a test or a benchmark round.

Shared by tests/test_image_limits.py and benchmarks/images.py.
"""

import contextlib
import os
import threading
import time
from pathlib import Path

import httpx


def parents() -> dict[int, int]:
    """Every living process's parent, by pid."""
    found: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                found[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def descendants(pid: int) -> list[int]:
    """Children, grandchildren and so on, whichever of its threads started them (an app's image
    pool is started from a worker thread, which /proc/<pid>/task/<pid>/children would miss)."""
    children: dict[int, list[int]] = {}
    for child, parent in parents().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], list(children.get(pid, []))
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def family_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (image workers included)."""
    return sum(rss_kib(member) for member in [pid, *descendants(pid)])


class Watch:
    """Until stopped, asks /healthz every 50 ms (what every other visitor feels) and samples the
    memory of the app and its descendants every 20 ms, on two threads."""

    def __init__(self, pid: int, url: str, *, timeout: float = 10) -> None:
        self.pid, self.url, self.timeout = pid, url, timeout
        self.health_seconds: list[float] = []  # every request's time, answered or not
        self.health_failures = 0
        self.idle_kib = family_rss_kib(pid)
        self.peak_kib = self.idle_kib
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._health), threading.Thread(target=self._memory)]

    def __enter__(self) -> "Watch":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)

    @property
    def rise_kib(self) -> int:
        return self.peak_kib - self.idle_kib

    @property
    def slowest_health_seconds(self) -> float:
        """The longest /healthz took; infinite if any request failed."""
        return float("inf") if self.health_failures else max(self.health_seconds, default=0.0)

    def _health(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    answered = client.get(f"{self.url}/healthz").status_code == 200
                except httpx.HTTPError:
                    answered = False
                self.health_seconds.append(time.perf_counter() - started)
                self.health_failures += not answered
                self._stop.wait(0.05)

    def _memory(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, family_rss_kib(self.pid))
            self._stop.wait(0.02)

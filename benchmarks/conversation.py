"""Typing and presence at scale (#14): does a busy room stay fast while people type?

    .venv/bin/python benchmarks/run.py --only typing                 # 200 viewers, 10 msg/s, 30 s
    .venv/bin/python benchmarks/conversation.py --viewers 50 --viewers 100 --viewers 200

For each viewer count, the `live` run of benchmarks/run.py twice, each on a fresh app on SQLite
with the in-process bus: first without typing, then with 10 typists, each POSTing
/rooms/{slug}/typing every 3 s as the room page does while someone types (the service
announces at most one typing.started per typist every 2 s, so every POST here is one event to
every view). In both runs the viewers open the room page, so each enters presence (every
enter announces the room's whole list to every view); the messages are measured once that has
settled, i.e. once GET /rooms/{slug}/presence lists every viewer (or after 120 s). The issue's bound: the p99
with typing within 1.2x of the p99 without.

Printed and returned per run: p50/p99/max delivery latency and loss (as `live`), the server's
CPU per message and per second, the typing calls made and refused, and how many typing
indicator updates the viewers received (the page sends the indicator's text only when it
changes, so ten typists mostly show one unchanging "Several people are typing…").
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import Viewer, chat_poster, close_viewers, cpu_seconds, latency_report, send_steadily  # noqa: E402
from benchmarks.run import chat_server, collector_paused, open_and_weigh, seed_room  # noqa: E402

TYPISTS = 10
TYPING_EVERY = 3.0  # s between one typist's calls: chat_ui/room/composer.py announces at most every 3 s
PRESENCE_SETTLE_TIMEOUT = 120.0  # s for every viewer to be listed as present


@dataclass
class Typists:
    """Guests who keep typing: each calls POST /typing every TYPING_EVERY seconds, staggered."""

    tokens: list[str]
    slug: str
    calls: int = 0
    refused: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    async def run(self, http: httpx.AsyncClient) -> None:
        """Until cancelled."""
        await asyncio.gather(*(self._type(http, n, token) for n, token in enumerate(self.tokens)))

    async def _type(self, http: httpx.AsyncClient, n: int, token: str) -> None:
        await asyncio.sleep(n * TYPING_EVERY / len(self.tokens))  # spread over the interval, as people are
        while True:
            started = time.perf_counter()
            response = await http.post(
                f"/api/v1/rooms/{self.slug}/typing", headers={"Authorization": f"Bearer {token}"}
            )
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
            self.calls += 1
            if response.status_code != 204:
                self.refused.append(f"{response.status_code} {response.text[:200]}")
            await asyncio.sleep(max(0.0, TYPING_EVERY - (time.perf_counter() - started)))

    def report(self) -> dict:
        ordered = sorted(self.latencies_ms)
        p99 = round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1) if ordered else None
        return {"typing_calls": self.calls, "typing_refused": len(self.refused), "typing_call_p99_ms": p99}


def make_typists(url: str, slug: str, count: int) -> list[str]:
    """`count` guests who joined the room; their tokens."""
    tokens = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for n in range(count):
            token = http.post("/api/v1/guests", json={"display_name": f"Typist {n}"}).json()["token"]
            http.post(f"/api/v1/rooms/{slug}/join", headers={"Authorization": f"Bearer {token}"}).raise_for_status()
            tokens.append(token)
    return tokens


async def presence_settled(url: str, slug: str, expected: int) -> dict:
    """How long until GET /presence lists all `expected` viewers (each is a guest of its own); after
    PRESENCE_SETTLE_TIMEOUT, None and how many it listed last (a saturated app is measured anyway)."""
    started = time.perf_counter()
    online: int | None = None
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        while time.perf_counter() - started < PRESENCE_SETTLE_TIMEOUT:
            try:
                online = len((await http.get(f"/api/v1/rooms/{slug}/presence")).json()["online"])
            except httpx.TimeoutException:  # the server is too busy to answer: keep waiting
                continue
            if online >= expected:
                return {"presence_settled_seconds": round(time.perf_counter() - started, 1), "present": online}
            await asyncio.sleep(0.5)
    print(f"  presence did not settle: {online} of {expected} viewers listed", flush=True)
    return {"presence_settled_seconds": None, "present": online}


async def measure(
    url: str,
    pid: int,
    chat: tuple[str, str],
    viewers: list[Viewer],
    typists: Typists | None,
    *,
    rate: float,
    duration: float,
) -> dict:
    """Send the messages (with the typists going, if any) and wait for the deliveries, as `live` does."""
    slug, token = chat
    cpu_before = cpu_seconds(pid)
    with collector_paused():
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            typing_task = asyncio.create_task(typists.run(http)) if typists else None
            started = time.perf_counter()
            sent = await send_steadily(chat_poster(token, slug), http, rate=rate, duration=duration)
            elapsed = time.perf_counter() - started
            deadline = time.perf_counter() + max(5.0, duration)
            while time.perf_counter() < deadline and any(len(v.arrivals) < len(sent) for v in viewers if not v.error):
                await asyncio.sleep(0.25)
            if typing_task:
                typing_task.cancel()
                await asyncio.gather(typing_task, return_exceptions=True)
            busy = time.perf_counter() - started
    cpu_used = cpu_seconds(pid) - cpu_before
    report = latency_report(viewers, sent, elapsed)
    report["server_cpu_ms_per_message"] = round(cpu_used * 1000 / max(1, len(sent)), 1)
    report["server_cpu_percent"] = round(100 * cpu_used / busy, 1)  # of one core, over sending and the grace
    report["typing_updates_seen"] = sum(viewer.typing_frames for viewer in viewers)
    return report


async def one_round(url: str, pid: int, count: int, *, typing: bool, rate: float, duration: float) -> dict:
    slug, token = seed_room(url, 50, f"Typing {count}")
    typists = Typists(make_typists(url, slug, TYPISTS), slug) if typing else None
    cpu_before = cpu_seconds(pid)
    viewers, weight = await open_and_weigh(url, pid, [f"/rooms/{slug}"] * count, settle=4)
    settle = await presence_settled(url, slug, count)
    await asyncio.sleep(2)  # the last presence announcements reach every view
    settle["opening_cpu_seconds"] = round(cpu_seconds(pid) - cpu_before, 1)  # pages, presence and all
    report = await measure(url, pid, (slug, token), viewers, typists, rate=rate, duration=duration)
    await close_viewers(viewers)
    report = {**weight, **settle, **report, "typing": typing}
    if typists:
        report.update(typists.report())
        if typists.refused:
            print(f"  typing refused, e.g. {typists.refused[0]}", flush=True)
    return report


def typing(workdir: Path, viewer_counts: list[int], rate: float, duration: float) -> list[dict]:
    """Per viewer count: the run without typing, the run with, and the ratio of their p99."""
    results = []
    for count in viewer_counts:
        pair = {}
        for with_typing in (False, True):
            fresh = workdir / f"typing-{count}-{with_typing}"  # a database of its own: both runs start alike
            with chat_server("sqlite", fresh) as (url, pid):
                report = asyncio.run(one_round(url, pid, count, typing=with_typing, rate=rate, duration=duration))
            label = "with typing" if with_typing else "no typing"
            print(f"  typing {count:4} viewers, {label:11} {json.dumps(report)}", flush=True)
            pair["with" if with_typing else "without"] = report
        without, with_ = pair["without"]["p99_ms"], pair["with"]["p99_ms"]
        ratio = round(with_ / max(without, 0.1), 2) if without is not None and with_ is not None else None
        print(f"  typing {count:4} viewers: p99 {without} ms -> {with_} ms, ratio {ratio} (bound 1.2)", flush=True)
        results.append({"viewers": count, **pair, "p99_ratio": ratio})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, action="append", help="viewer counts (default 200)")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        results = typing(Path(directory), args.viewers or [200], args.rate, args.duration)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

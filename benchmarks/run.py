"""Run the benchmarks and print their figures (never part of the test run).

    .venv/bin/python benchmarks/run.py            # everything, about 20 minutes on 2 cores
    .venv/bin/python benchmarks/run.py --only live --viewers 50 --duration 10   # a quick look

Scenarios (see docs/PERFORMANCE.md for the targets and the last figures):
- live: N viewers in one room (50 messages shown), 10 messages/s for 30 s through the REST
  API; delivery latency from send to arrival at each viewer, loss, server CPU and memory.
  On SQLite with the in-process bus at 50, 100 and 200 viewers, and on PostgreSQL with Redis at 200.
- reference: 200 viewers of a room with 500 messages, ours against benchmarks/reference_chat.py
  (NiceGUI's own chat example: one refreshable that re-renders every message for every viewer).
- idle: 1,000 viewers over 20 rooms of 50 messages each; server memory per viewer.
- churn: 150 viewers open a room and leave, 12 times; the server's memory after each round.
- history: benchmarks/history.py, pages of 50 at 1,000,000 messages on PostgreSQL and SQLite.
- typing: benchmarks/conversation.py, the live run at 200 viewers (or --viewers) without and with
  10 people typing (#14); not part of "everything", run it with --only typing.
Results go to benchmarks/results.json and the plot to docs/performance.png.
"""

import argparse
import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import (  # noqa: E402
    Viewer,
    chat_poster,
    close_viewers,
    cpu_seconds,
    latency_report,
    open_viewers,
    reference_post,
    rss_bytes,
    send_steadily,
)
from tests.support import (  # noqa: E402
    app_environment,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    running_app,
)

RESULTS = ROOT / "benchmarks" / "results.json"
PLOT = ROOT / "docs" / "performance.png"


@contextlib.contextmanager
def chat_server(backend: str, workdir: Path) -> Iterator[tuple[str, int]]:
    """Our app on 'sqlite' (in-process bus) or 'postgresql' (with Redis); yields (url, pid)."""
    settings = {"CHAT_DATA_DIR": str(workdir / backend), "CHAT_RATE_LIMIT": "off"}
    database_url = None
    if backend == "postgresql":
        database_url = settings["CHAT_DATABASE_URL"] = create_postgres_database()
        settings["CHAT_REDIS_URL"] = os.environ.get("CHAT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
        settings["CHAT_REDIS_PREFIX"] = f"bench-{os.getpid()}"
    try:
        with running_app(workdir / "logs", **settings) as app:
            yield app.url, app.process.pid
    finally:
        if database_url:
            drop_postgres_database(database_url)


@contextlib.contextmanager
def reference_server(workdir: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    log = (workdir / "reference.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "reference_chat.py"), "--port", str(port)],
        env=app_environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the reference peer did not start")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def seed_room(url: str, count: int, name: str) -> tuple[str, str]:
    """A room with `count` messages; returns (slug, a guest token for sending)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        token = http.post("/api/v1/guests", json={"display_name": "Bench"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        slug = http.post("/api/v1/rooms", json={"name": name}, headers=auth).json()["slug"]
        for n in range(count):
            http.post(f"/api/v1/rooms/{slug}/messages", json={"text": f"history {n}"}, headers=auth)
    return slug, token


async def open_and_weigh(url: str, pid: int, paths: list[str], *, settle: float) -> tuple[list[Viewer], dict]:
    """Open the viewers and measure what they cost the server: memory, and the time to open them."""
    rss_before = rss_bytes(pid)
    opened = time.perf_counter()
    viewers = await open_viewers(url, paths)
    open_seconds = time.perf_counter() - opened
    await asyncio.sleep(settle)
    rss_after = rss_bytes(pid)
    return viewers, {
        "failed_viewers": sum(1 for viewer in viewers if viewer.error),
        "open_seconds": round(open_seconds, 1),
        "rss_mb_before": round(rss_before / 2**20, 1),
        "rss_mb_with_viewers": round(rss_after / 2**20, 1),
        "mb_per_viewer": round((rss_after - rss_before) / 2**20 / max(1, len(viewers)), 3),
    }


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The load generator holds hundreds of viewers too: its own garbage collection pauses
    would show up as delivery latency, so it does not collect while it measures."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def live_round(  # type: ignore[no-untyped-def]
    url: str, pid: int, paths: list[str], post, *, rate: float, duration: float, grace: float | None = None
) -> dict:
    # A room page asks the browser for its time zone and waits up to 3 s for the answer, which
    # these viewers (no JavaScript) never give: until then the page holds back live messages.
    viewers, weight = await open_and_weigh(url, pid, paths, settle=4)
    cpu_before = cpu_seconds(pid)
    with collector_paused():
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            started = time.perf_counter()
            sent = await send_steadily(post, http, rate=rate, duration=duration)
            elapsed = time.perf_counter() - started
        # Deliveries still on their way are waited for this long after the last send, then count as lost.
        deadline = time.perf_counter() + (grace if grace is not None else max(5.0, duration))
        while time.perf_counter() < deadline and any(len(v.arrivals) < len(sent) for v in viewers if not v.error):
            await asyncio.sleep(0.25)
    cpu_used = cpu_seconds(pid) - cpu_before
    # latency_report comes last: its count of failed viewers includes any that failed during the run.
    report = {**weight, **latency_report(viewers, sent, elapsed)}
    report["server_cpu_ms_per_message"] = round(cpu_used * 1000 / max(1, len(sent)), 1)
    await close_viewers(viewers)
    return report


def live(workdir: Path, backend: str, viewer_counts: list[int], rate: float, duration: float) -> list[dict]:
    results = []
    for count in viewer_counts:
        with chat_server(backend, workdir) as (url, pid):
            slug, token = seed_room(url, 50, f"Live {count}")
            report = asyncio.run(
                live_round(url, pid, [f"/rooms/{slug}"] * count, chat_poster(token, slug), rate=rate, duration=duration)
            )
            report["backend"] = backend
            print(f"  live {backend:10} {json.dumps(report)}", flush=True)
            results.append(report)
    return results


def reference(workdir: Path, viewers: int, rate: float, duration: float) -> dict:
    out = {}
    with chat_server("sqlite", workdir) as (url, pid):
        slug, token = seed_room(url, 500, "Reference room")
        out["ours"] = asyncio.run(
            live_round(url, pid, [f"/rooms/{slug}"] * viewers, chat_poster(token, slug), rate=rate, duration=duration)
        )
        print(f"  ours      {json.dumps(out['ours'])}", flush=True)
    with reference_server(workdir) as (url, pid):
        httpx.post(f"{url}/seed", params={"count": 500}, timeout=60).raise_for_status()
        # The peer cannot keep up with 10 messages/s at this size: a few messages show its latency.
        out["reference"] = asyncio.run(live_round(url, pid, ["/"] * viewers, reference_post, rate=0.5, duration=4))
        print(f"  reference {json.dumps(out['reference'])}", flush=True)
    theirs, ours = out["reference"]["p99_ms"], out["ours"]["p99_ms"]
    # None when the reference delivered nothing at all: no finite ratio says how much better that is.
    out["p99_ratio"] = round(theirs / max(ours, 0.1), 1) if theirs is not None and ours is not None else None
    return out


def idle(workdir: Path, viewers: int, rooms: int) -> dict:
    with chat_server("sqlite", workdir) as (url, pid):
        slugs = [seed_room(url, 50, f"Idle {n}")[0] for n in range(rooms)]
        paths = [f"/rooms/{slugs[n % rooms]}" for n in range(viewers)]

        async def measure() -> dict:
            await asyncio.sleep(1)  # let the seeding settle before the baseline
            open_, weight = await open_and_weigh(url, pid, paths, settle=5)
            await close_viewers(open_)
            return {"viewers": viewers, "rooms": rooms, **weight}

        report = asyncio.run(measure())
        print(f"  idle      {json.dumps(report)}", flush=True)
        return report


def churn(workdir: Path, viewers: int, rounds: int) -> dict:
    """Visitors come and go: `viewers` pages opened and closed, `rounds` times. Memory must level
    off: closed pages are freed (chat_ui/collector.py), not kept until the process ends."""
    with chat_server("sqlite", workdir) as (url, pid):
        slug, _ = seed_room(url, 50, "Churn")

        async def measure() -> list[float]:
            after_round = []
            for _ in range(rounds):
                pages = await open_viewers(url, [f"/rooms/{slug}"] * viewers)
                await asyncio.sleep(4)
                await close_viewers(pages)
                await asyncio.sleep(15)  # NiceGUI drops a closed page after its reconnect grace (10 s)
                after_round.append(round(rss_bytes(pid) / 2**20, 1))
            return after_round

        rss = asyncio.run(measure())
        report = {"viewers_per_round": viewers, "rounds": rounds, "rss_mb_after_each_round": rss}
        print(f"  churn     {json.dumps(report)}", flush=True)
        return report


def history(messages: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "history.py"), "--messages", str(messages), "--json", out.name],
            check=True,
        )
        return json.loads(Path(out.name).read_text())


def plot(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in results.get("live", []) if r["backend"] == "sqlite"]
    if not rows:
        return
    viewers = [r["viewers"] for r in rows]
    latency, memory = "#4f46e5", "#059669"
    figure, left = plt.subplots(figsize=(7.5, 4.6), dpi=120)
    left.plot(viewers, [r["p99_ms"] for r in rows], "o-", color=latency, label="p99 delivery, SQLite")
    for r in results.get("live", []):
        if r["backend"] == "postgresql":
            left.plot(
                [r["viewers"]], [r["p99_ms"]], "D", color=latency, fillstyle="none", label="p99, PostgreSQL + Redis"
            )
    left.axhline(250, color=latency, linestyle=":", linewidth=1)
    left.annotate("p99 target, 250 ms", (viewers[0], 250), textcoords="offset points", xytext=(0, 4), color=latency)
    left.set_ylim(0, max(300, 1.2 * max(r["p99_ms"] for r in rows)))
    left.set_xlabel("viewers in one room (10 messages/s for 30 s)")
    left.set_ylabel("p99 delivery latency, ms", color=latency)
    right = left.twinx()
    right.plot(viewers, [r["mb_per_viewer"] for r in rows], "s--", color=memory, label="server memory per viewer")
    right.axhline(1.0, color=memory, linestyle=":", linewidth=1)
    right.annotate(
        "memory target, 1 MB", (viewers[-1], 1.0), textcoords="offset points", xytext=(-110, 4), color=memory
    )
    right.set_ylim(0, 1.2)
    right.set_ylabel("MB per viewer", color=memory)
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.set_title("Live delivery, one app process on 2 cores")
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    figure.legend(handles=handles, loc="lower center", ncol=3, fontsize="small", frameon=False)
    PLOT.parent.mkdir(exist_ok=True)
    figure.savefig(PLOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["live", "reference", "idle", "churn", "history", "typing"], action="append")
    parser.add_argument("--viewers", type=int, action="append", help="viewer counts for 'live' (default 50 100 200)")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--messages", type=int, default=1_000_000, help="history size")
    args = parser.parse_args()
    chosen = set(args.only or ["live", "reference", "idle", "churn", "history"])
    results: dict = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = {"cores": os.cpu_count(), "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        if "live" in chosen:
            print("live delivery", flush=True)
            counts = args.viewers or [50, 100, 200]
            results["live"] = live(workdir, "sqlite", counts, args.rate, args.duration)
            results["live"] += live(workdir, "postgresql", [max(counts)], args.rate, args.duration)
        if "reference" in chosen:
            print("reference peer", flush=True)
            results["reference"] = reference(workdir, 200, args.rate, min(args.duration, 15))
        if "idle" in chosen:
            print("idle viewers", flush=True)
            results["idle"] = idle(workdir, 1000, 20)
        if "churn" in chosen:
            print("pages opened and closed", flush=True)
            results["churn"] = churn(workdir, 150, 12)
        if "history" in chosen:
            print("history", flush=True)
            results["history"] = history(args.messages)
        if "typing" in chosen:
            from benchmarks.conversation import typing  # imports this module: not at the top

            print("typing and presence", flush=True)
            results["typing"] = typing(workdir, args.viewers or [200], args.rate, args.duration)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    plot(results)
    print(f"\nwrote {RESULTS.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

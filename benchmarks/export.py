"""Exporting a room (#16): time, zip size, messages per second and memory, at 10,000 and 100,000
messages, on SQLite and PostgreSQL.

What it measures: services.export.stream_export, consumed as the API's StreamingResponse consumes
it (chunks thrown away as they come; the zip's size and a check of its end are kept), on a room
seeded in bulk with SQL (like benchmarks/history.py) with --images image messages whose files are
real JPEGs in a media folder. Each room is exported three times per format:

  timed    the wall time and this process's CPU time, messages per second of each, the zip's
           size, and the process's RSS growth
           (its peak during the export, sampled every 5 ms, over the RSS before it)
  traced   the same under tracemalloc: the peak of Python's allocations during the export
           (tracemalloc slows the run, so it is not timed)
  http     once, for the largest room: the app started on the same database and media folder,
           GET /api/v1/rooms/{slug}/export read to the end by httpx; the time, and the app
           process's RSS growth (sampled the same way)

Both peaks should be about the same for 10,000 and 100,000 messages: the export holds a page, not
the history. The zip is checked: the JSON is parsed (after the run, from a file) and holds every
message; the Markdown holds one header per message.

Run from the project folder:

    .venv/bin/python benchmarks/export.py                        # both backends, 10,000 and 100,000
    .venv/bin/python benchmarks/export.py --backend sqlite --sizes 10000 --images 5
    .venv/bin/python benchmarks/export.py --json export.json     # figures also as JSON
"""

import argparse
import asyncio
import io
import json
import os
import sys
import tempfile
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for the app's packages when run as `python benchmarks/export.py`

from benchmarks.history import analyse, database  # noqa: E402
from services import export, messages  # noqa: E402
from services.database import Database  # noqa: E402
from services.guests import create_guest  # noqa: E402
from services.media import LocalMediaStore  # noqa: E402
from services.rooms import create_room  # noqa: E402
from services.transcript import ExportFormat  # noqa: E402
from tests.support import running_app  # noqa: E402

BACKENDS = ("sqlite", "postgresql")
FORMATS: tuple[ExportFormat, ...] = ("json", "markdown")
TEXT = "the quick brown fox jumps over the lazy dog, and then it sends a message about it"

POSTGRES_INSERT = f"""
INSERT INTO message (room_id, author_id, kind, text, created_at)
SELECT :room_id, :author_id, 'text', 'message ' || n || ': {TEXT}', now() - (:count - n) * interval '1 second'
FROM generate_series(1, :count) AS n
ORDER BY n
"""
SQLITE_INSERT = f"""
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count)
INSERT INTO message (room_id, author_id, kind, text, created_at)
SELECT :room_id, :author_id, 'text', 'message ' || n || ': {TEXT}',
       strftime('%Y-%m-%d %H:%M:%f', :now, '-' || (:count - n) || ' seconds') || '000'
FROM seq
"""


# Seeding


def noise_jpeg(seed: int) -> bytes:
    """A 1024x768 photo-like JPEG (noise does not compress: some 400 KB, like a phone's photo)."""
    image = Image.effect_noise((1024, 768), 64 + seed % 32).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def seed_room(db: Database, media: LocalMediaStore, count: int, images: int) -> str:
    """A room of `count` text messages written in bulk, then `images` image messages sent through
    the service (files and all); its slug."""
    started = time.perf_counter()
    with db.session() as session:
        guest = create_guest(session=session, display_name="Bench")
        room = create_room(session=session, owner_id=guest.id, name=f"Export bench {count}")
        session.commit()
        params = {"room_id": room.id, "author_id": guest.id, "count": count}
    with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            connection.execute(text(POSTGRES_INSERT), params)
        else:
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            connection.execute(text(SQLITE_INSERT), {**params, "now": now})

    async def send_images() -> None:
        for n in range(images):
            await messages.send_image(
                db=db,
                media=media,
                room_slug=room.slug,
                author_id=guest.id,
                data=noise_jpeg(n),
                caption=f"photo {n}",
                max_bytes=20_000_000,
            )

    asyncio.run(send_images())
    analyse(db)
    print(f"  seeded {count:,} messages and {images} images in {time.perf_counter() - started:.1f} s", flush=True)
    return room.slug


# Measuring


def rss_bytes(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc: this benchmark needs Linux")


@contextmanager
def rss_peak(pid: int | str = "self") -> Iterator[Callable[[], tuple[int, int]]]:
    """A process's RSS at its highest (sampled every 5 ms), and its growth over its value at the start."""
    before, peak, done = rss_bytes(pid), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield lambda: (peak[0], max(0, peak[0] - before))
    finally:
        done.set()
        sampler.join()


async def export_to(db: Database, media: LocalMediaStore, slug: str, fmt: ExportFormat, out: Path | None) -> int:
    """Export the room; the zip's size. Into `out` if given, else counted and dropped."""
    room = await db.run_read(export.snapshot_room, slug=slug, reader_id=None)
    size = 0
    file = out.open("wb") if out else None
    try:
        async for chunk in export.stream_export(db=db, media=media, room=room, fmt=fmt):
            size += len(chunk)
            if file:
                file.write(chunk)
    finally:
        if file:
            file.close()
    return size


def check_zip(path: Path, fmt: ExportFormat, count: int, images: int) -> None:
    with zipfile.ZipFile(path) as zipped:
        names = zipped.namelist()
        if sum(name.startswith("images/") for name in names) != images:
            raise AssertionError(f"expected {images} images in the zip, found {names[:5]}...")
        if fmt == "json":
            exported = json.loads(zipped.read("messages.json"))["messages"]
            if len(exported) != count + images:
                raise AssertionError(f"expected {count + images} messages, got {len(exported)}")
        elif zipped.read("messages.md").decode().count("**Bench** · ") != count + images:
            raise AssertionError("expected one header per message in messages.md")


def measure(db: Database, media: LocalMediaStore, slug: str, fmt: ExportFormat, count: int, images: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="chat-export-check-") as folder:
        checked = Path(folder) / "room.zip"
        asyncio.run(export_to(db, media, slug, fmt, checked))  # warm-up, and the zip to check
        check_zip(checked, fmt, count, images)
    with rss_peak() as growth:
        started, cpu_started = time.perf_counter(), time.process_time()
        size = asyncio.run(export_to(db, media, slug, fmt, None))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        rss, rss_growth = growth()
    tracemalloc.start()
    try:
        asyncio.run(export_to(db, media, slug, fmt, None))
        traced_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {
        "messages": count + images,
        "seconds": round(seconds, 2),
        "messages_per_s": round((count + images) / seconds),
        # This process's CPU time in all its threads (the database server's not included): unlike
        # the wall time, it hardly depends on what else the machine runs.
        "cpu_s": round(cpu, 2),
        "messages_per_cpu_s": round((count + images) / cpu),
        "zip_mb": round(size / 1e6, 2),
        "traced_peak_mb": round(traced_peak / 1e6, 2),
        "rss_mb": round(rss / 1e6, 1),
        "rss_growth_mb": round(rss_growth / 1e6, 1),
    }


def measure_http(db: Database, media_dir: Path, slug: str) -> dict:
    """The same export through the app's route, once: the app runs on the same database and media."""
    with tempfile.TemporaryDirectory(prefix="chat-export-app-") as folder:
        settings = {"CHAT_DATA_DIR": folder, "CHAT_MEDIA_DIR": str(media_dir), "CHAT_DATABASE_URL": db.url}
        with (
            running_app(Path(folder) / "logs", **settings) as app,
            httpx.Client(base_url=app.url, timeout=60) as client,
        ):
            client.get(f"/api/v1/rooms/{slug}/export", params={"format": "json"}).raise_for_status()  # warm-up
            size = 0
            with rss_peak(app.process.pid) as growth:
                started = time.perf_counter()
                with client.stream("GET", f"/api/v1/rooms/{slug}/export") as response:
                    response.raise_for_status()
                    for chunk in response.iter_raw():
                        size += len(chunk)
                seconds = time.perf_counter() - started
                rss, rss_growth = growth()
    return {
        "seconds": round(seconds, 2),
        "zip_mb": round(size / 1e6, 2),
        "app_rss_mb": round(rss / 1e6, 1),
        "app_rss_growth_mb": round(rss_growth / 1e6, 1),
    }


def run_backend(backend: str, sizes: list[int], images: int, http: bool) -> dict[str, Any]:
    print(f"{backend}:", flush=True)
    results: dict[str, Any] = {}
    with database(backend) as db, tempfile.TemporaryDirectory(prefix="chat-export-media-") as media_dir:
        media = LocalMediaStore(Path(media_dir))
        slugs = {count: seed_room(db, media, count, images) for count in sizes}
        for count, slug in slugs.items():
            for fmt in FORMATS:
                figures = measure(db, media, slug, fmt, count, images)
                results[f"{count}/{fmt}"] = figures
                print(f"  {count:>7,} {fmt:<8} {figures}", flush=True)
        if http:
            largest = max(sizes)
            results[f"{largest}/json/http"] = measure_http(db, Path(media_dir), slugs[largest])
            print(f"  {largest:>7,} json/http {results[f'{largest}/json/http']}", flush=True)
    return results


def print_table(report: dict[str, Any]) -> None:
    print()
    print(
        f"{'backend':<11} {'room':>8} {'format':<9} {'s':>6} {'msg/s':>8} {'CPU s':>6} {'msg/CPU s':>9}"
        f" {'zip MB':>7} {'traced MB':>9} {'RSS MB':>7} {'growth':>7}"
    )
    for backend in BACKENDS:
        for key, row in report.get(backend, {}).items():
            count, fmt = key.split("/", 1)
            if fmt.endswith("http"):
                print(
                    f"{backend:<11} {int(count):>8,} {fmt:<9} {row['seconds']:>6.2f} {'':>8} {'':>6} {'':>9}"
                    f" {row['zip_mb']:>7.2f} {'':>9} {row['app_rss_mb']:>7.1f} {row['app_rss_growth_mb']:>7.1f}"
                )
                continue
            print(
                f"{backend:<11} {int(count):>8,} {fmt:<9} {row['seconds']:>6.2f} {row['messages_per_s']:>8,}"
                f" {row['cpu_s']:>6.2f} {row['messages_per_cpu_s']:>9,}"
                f" {row['zip_mb']:>7.2f} {row['traced_peak_mb']:>9.2f}"
                f" {row['rss_mb']:>7.1f} {row['rss_growth_mb']:>7.1f}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000,100000", help="messages per room, comma-separated")
    parser.add_argument("--images", type=int, default=20, help="image messages per room (real JPEG files)")
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument("--no-http", action="store_true", help="skip the export through the app's route")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    report: dict[str, Any] = {"sizes": sizes, "images": args.images, "cpus": os.cpu_count()}
    for backend in backends:
        report[backend] = run_backend(backend, sizes, args.images, http=not args.no_http)
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

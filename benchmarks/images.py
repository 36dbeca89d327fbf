"""Hostile uploads against a running app: what they cost the server and everyone else.

Starts main.py (of this tree, or of another checkout with --root, to measure the code before a
change), then sends rounds of concurrent uploads while two samplers watch: one asks /healthz every
50 ms (what every other visitor feels), one sums the resident memory of the app process and all its
children from /proc every 20 ms (image workers included). Prints, per round, each upload's answer
and time, the peak memory above the idle app, the memory a few seconds afterwards, and the
/healthz latencies.

    .venv/bin/python -m benchmarks.images                  # this tree
    .venv/bin/python -m benchmarks.images --root /tmp/old  # another checkout, same interpreter

Every file is made here with Pillow: nothing binary is committed.
"""

import argparse
import contextlib
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

from tests.process_watch import Watch, family_rss_kib

ROOT = Path(__file__).resolve().parent.parent


# --- the hostile files ----------------------------------------------------------------------------------


def wide_webp() -> bytes:
    """58 KB that declares 16383×2000 pixels (32.8 megapixels): the probe's file."""
    buffer = io.BytesIO()
    Image.new("RGB", (16383, 2000), (200, 30, 30)).save(buffer, "WEBP", quality=80)
    return buffer.getvalue()


def many_frame_gif(frames: int = 5000, side: int = 64) -> bytes:
    """About 130 KB of 5000 distinct 64×64 frames (Pillow merges identical ones, so each differs)."""
    images = [Image.new("P", (side, side), 0) for _ in range(frames)]
    for index, image in enumerate(images):
        image.putpixel((index % side, (index // side) % side), 1 + index % 200)
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=20, loop=0)
    return buffer.getvalue()


def large_allowed_webp() -> bytes:
    """A 24-megapixel WebP (6000×4000, a camera's size): heavy but within every limit, so it is decoded."""
    buffer = io.BytesIO()
    Image.new("RGB", (6000, 4000), (30, 90, 200)).save(buffer, "WEBP", quality=80)
    return buffer.getvalue()


# --- the app and what it uses ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_app(root: Path, workers: int) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-images-") as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CHAT_"))}
        env |= {
            "CHAT_PORT": str(port),
            "CHAT_DATA_DIR": data_dir,
            "CHAT_RATE_LIMIT": "off",
            "CHAT_ADDRESS_RATE_LIMIT": "off",
            "CHAT_IMAGE_WORKERS": str(workers),
        }
        log = open(Path(data_dir) / "app.log", "wb")  # noqa: SIM115 - closed below, after the process
        process = subprocess.Popen([sys.executable, str(root / "main.py")], cwd=root, env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the app did not start:\n{(Path(data_dir) / 'app.log').read_text()}")
                time.sleep(0.2)
            yield process, url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def upload(url: str, token: str, slug: str, name: str, data: bytes) -> tuple[int, float, str]:
    started = time.perf_counter()
    try:
        response = httpx.post(
            f"{url}/api/v1/rooms/{slug}/images",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (name, data)},
            timeout=300,
        )
        answer = response.status_code
        detail = response.json().get("detail", "") if answer >= 400 else ""
        if response.headers.get("retry-after"):
            detail += f" (Retry-After: {response.headers['retry-after']})"
    except httpx.HTTPError as error:
        answer, detail = 0, type(error).__name__
    return answer, time.perf_counter() - started, str(detail)[:90]


def run_round(process: subprocess.Popen[bytes], url: str, label: str, name: str, data: bytes, count: int) -> None:
    token = httpx.post(f"{url}/api/v1/guests", json={"display_name": "Bench"}, timeout=30).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    room = httpx.post(f"{url}/api/v1/rooms", json={"name": f"images {time.time_ns()}"}, headers=headers, timeout=30)
    slug = room.json()["slug"]
    time.sleep(1)
    with Watch(process.pid, url, timeout=60) as watch, ThreadPoolExecutor(count) as pool:
        started = time.perf_counter()
        answers = list(pool.map(lambda _: upload(url, token, slug, name, data), range(count)))
        elapsed = time.perf_counter() - started
    time.sleep(3)  # what stays held once the work is done
    after = family_rss_kib(process.pid)
    idle = watch.idle_kib
    print(f"\n## {label}: {count} concurrent uploads of {len(data) / 1024:.0f} KB, all answered in {elapsed:.1f} s")
    for status, seconds, detail in sorted(answers, key=lambda answer: answer[1]):
        print(f"  {status}  {seconds:6.2f} s  {detail}")
    mib = 1024
    print(
        f"  memory (app + workers): idle {idle / mib:.0f} MiB, peak {watch.peak_kib / mib:.0f} MiB "
        f"(+{(watch.peak_kib - idle) / mib:.0f}), 3 s after {after / mib:.0f} MiB (+{(after - idle) / mib:.0f})"
    )
    latencies = sorted(seconds * 1000 for seconds in watch.health_seconds)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"  /healthz during the round: {len(latencies)} answers, p50 {statistics.median(latencies):.0f} ms, "
        f"p99 {p99:.0f} ms, max {latencies[-1]:.0f} ms, failed {watch.health_failures}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose main.py to run")
    parser.add_argument("--count", type=int, default=8, help="concurrent uploads per round")
    parser.add_argument("--workers", type=int, default=2, help="CHAT_IMAGE_WORKERS")
    parser.add_argument("--rounds", default="webp,gif,large", help="any of webp, gif, large")
    args = parser.parse_args()
    files = {
        "webp": ("16383×2000 WebP", "wide.webp", wide_webp),
        "gif": ("5000-frame GIF", "frames.gif", many_frame_gif),
        "large": ("6000×4000 WebP (allowed)", "large.webp", large_allowed_webp),
    }
    print(f"# hostile uploads against {args.root} (CHAT_IMAGE_WORKERS={args.workers}, {os.cpu_count()} cores)")
    with running_app(args.root.resolve(), args.workers) as (process, url):
        for key in args.rounds.split(","):
            label, name, make = files[key]
            run_round(process, url, label, name, make(), args.count)


if __name__ == "__main__":
    main()

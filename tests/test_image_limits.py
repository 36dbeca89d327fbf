"""Hostile uploads, as the issue's probe sent them: each gets a clear 413 or 415 at once, heavy work
waits its turn in a small pool of worker processes or is told 503 with Retry-After, and the server's
memory and its answers to everyone else stay within the contract (§8: four concurrent uploads of a
small file that declares 16383×2000 pixels raise memory by less than 1 GB, /healthz within 2 s).

Every file is made here with Pillow or by hand; nothing binary is committed.
"""

import asyncio
import contextlib
import io
import os
import signal
import struct
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from PIL import Image

from benchmarks.images import large_allowed_webp, many_frame_gif, wide_webp
from services.errors import ServiceError, TooLarge, UnsupportedMedia
from services.image_pool import Busy, ProcessImagePool
from services.images import MAX_FRAMES, MAX_PIXELS, check_header, process_image
from tests.process_watch import Watch, alive, descendants, family_rss_kib, rss_kib
from tests.support import AppProcess, running_app

LIMIT = 10 * 1024 * 1024
GIB_KIB = 1024 * 1024


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header that declares width×height, with one tiny row of data: the size is a lie."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    )


def gif_declaring(width: int, height: int) -> bytes:
    """A real 8×8 GIF whose logical screen says width×height (bytes 6-9, little-endian)."""
    data = bytearray(encode(Image.new("P", (8, 8), 0), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def animation(frames: int, side: int, image_format: str = "GIF") -> bytes:
    images = [Image.new("L", (side, side), 0) for _ in range(frames)]
    for index, image in enumerate(images):  # every frame looks different, or Pillow merges them
        image.putpixel((index % side, (index // side) % side), 1 + index % 250)
    return encode(images[0], image_format, save_all=True, append_images=images[1:], duration=20, loop=0)


def refusal(data: bytes) -> tuple[ServiceError, float]:
    """What process_image says, and the CPU seconds it took to say it."""
    started = time.process_time()
    with pytest.raises(ServiceError) as refused:
        process_image(data, max_bytes=LIMIT)
    return refused.value, time.process_time() - started


# --- the limits, in the process ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("16383×2000 WebP (the probe's 58 KB file)", wide_webp),
        ("PNG declaring 30000×30000", lambda: png_declaring(30000, 30000)),
        ("PNG declaring 6000×5000", lambda: png_declaring(6000, 5000)),
        ("GIF declaring 40000×40000", lambda: gif_declaring(40000, 40000)),
    ],
)
def test_an_image_declaring_too_many_pixels_is_refused_from_its_header(name: str, make: object) -> None:
    data = make()  # type: ignore[operator]
    assert len(data) < 100_000, name

    error, cpu = refusal(data)

    assert isinstance(error, TooLarge) and error.status_code == 413
    assert "megapixels" in error.detail
    assert cpu < 0.5, f"{name}: refusing took {cpu:.2f} s of CPU: it was decoded"
    with pytest.raises(TooLarge):
        check_header(data, max_bytes=LIMIT)  # what the app asks before an image takes a worker


def test_an_animation_past_the_frame_limit_is_refused_naming_the_limit() -> None:
    error, cpu = refusal(many_frame_gif())  # the probe's: 5000 frames of 64×64 took 7.5 s of CPU

    assert isinstance(error, TooLarge)
    assert f"at most {MAX_FRAMES}" in error.detail and "5000 frames" in error.detail
    assert cpu < 0.5


def test_an_animation_past_the_total_pixel_limit_is_refused() -> None:
    error, _ = refusal(animation(60, 1500))  # 60 frames of 2.25 megapixels: 135 in all

    assert isinstance(error, TooLarge)
    assert "60 frames of 1500×1500" in error.detail


def test_an_animation_within_the_limits_keeps_every_frame() -> None:
    result = process_image(animation(MAX_FRAMES, 32), max_bytes=LIMIT)

    assert Image.open(io.BytesIO(result.data)).n_frames == MAX_FRAMES


@pytest.mark.parametrize("image_format", ["PNG", "GIF", "WEBP"])
def test_a_truncated_file_is_refused_as_unreadable(image_format: str) -> None:
    data = encode(Image.effect_noise((400, 300), 90).convert("RGB"), image_format)

    error, _ = refusal(data[: len(data) // 2])

    assert isinstance(error, UnsupportedMedia) and error.status_code == 415


def test_a_big_jpeg_is_decoded_at_half_scale_instead_of_refused() -> None:
    """A 50-megapixel phone photo arrives as 12.5 megapixels: libjpeg never holds the full size."""
    data = encode(Image.new("RGB", (8160, 6120), (30, 90, 200)), "JPEG", quality=80)
    assert MAX_PIXELS < 8160 * 6120

    result = process_image(data, max_bytes=LIMIT)

    assert (result.width, result.height) == (4080, 3060)
    assert Image.open(io.BytesIO(result.data)).size == (4080, 3060)


def test_the_largest_allowed_image_is_accepted() -> None:
    result = process_image(large_allowed_webp(), max_bytes=LIMIT)

    assert (result.width, result.height) == (6000, 4000)
    assert max(Image.open(io.BytesIO(result.thumbnail)).size) == 400


# --- the pool of worker processes -------------------------------------------------------------------


@contextlib.contextmanager
def pool(workers: int, **options: int) -> Iterator[ProcessImagePool]:
    images = ProcessImagePool(workers, **options)
    images.start()
    try:
        yield images
    finally:
        images.stop()


def small_png() -> bytes:
    return encode(Image.new("RGB", (64, 48), "red"), "PNG")


def test_a_worker_past_its_memory_cap_refuses_cleanly_and_the_next_image_is_fine() -> None:
    """The cap is the backstop for a bomb the header checks miss. Where the allocation fails decides
    the answer: in Pillow, MemoryError (413); inside libwebp, a decoder error (415). Either way a
    clear refusal, and the worker that failed is gone with everything it held."""

    async def scenario() -> None:
        with pool(1, memory_cap=400 * 1024 * 1024) as images:
            with pytest.raises((TooLarge, UnsupportedMedia)):
                await asyncio.wait_for(images.process(large_allowed_webp(), max_bytes=LIMIT), timeout=60)
            result = await asyncio.wait_for(images.process(small_png(), max_bytes=LIMIT), timeout=60)
            assert result.width == 64

    asyncio.run(scenario())


def test_a_full_line_is_refused_at_once_with_retry_after() -> None:
    async def scenario() -> None:
        with pool(1, waiting=1) as images:
            heavy = large_allowed_webp()
            uploads = [images.process(heavy, max_bytes=LIMIT) for _ in range(4)]
            answers = await asyncio.wait_for(asyncio.gather(*uploads, return_exceptions=True), timeout=120)
            busy = [answer for answer in answers if isinstance(answer, Busy)]
            assert len(busy) == 2, answers  # one decoding, one waiting, two turned away
            assert all(error.status_code == 503 and error.retry_after >= 1 for error in busy)
            assert sum(not isinstance(answer, BaseException) for answer in answers) == 2
            assert images.in_flight == 0

    asyncio.run(scenario())


def test_a_worker_killed_mid_image_leaves_a_pool_that_still_works() -> None:
    async def scenario() -> None:
        with pool(1) as images:
            upload = asyncio.ensure_future(images.process(large_allowed_webp(), max_bytes=LIMIT))
            worker = await asyncio.wait_for(busy_worker(), timeout=30)
            os.kill(worker, signal.SIGKILL)
            with pytest.raises(Busy):
                await asyncio.wait_for(upload, timeout=60)
            result = await asyncio.wait_for(images.process(small_png(), max_bytes=LIMIT), timeout=60)
            assert result.width == 64

    asyncio.run(scenario())


def test_every_image_of_a_broken_pool_hears_busy_and_the_pool_is_renewed_once() -> None:
    """Two images on one worker, the worker killed: the one decoding and the one waiting both get
    Busy (503), not a CancelledError from a second renewal shutting down the first's fresh pool."""

    async def scenario() -> None:
        with pool(1) as images:
            uploads = [asyncio.ensure_future(images.process(large_allowed_webp(), max_bytes=LIMIT)) for _ in range(2)]
            worker = await asyncio.wait_for(busy_worker(), timeout=30)
            executor = images._executor
            os.kill(worker, signal.SIGKILL)
            answers = await asyncio.wait_for(asyncio.gather(*uploads, return_exceptions=True), timeout=60)
            assert [type(answer) for answer in answers] == [Busy, Busy], answers
            renewed = images._executor
            assert renewed is not None and renewed is not executor
            result = await asyncio.wait_for(images.process(small_png(), max_bytes=LIMIT), timeout=60)
            assert result.width == 64
            assert images._executor is renewed and images.in_flight == 0

    asyncio.run(scenario())


async def busy_worker() -> int:
    """The pid of an image worker under ours that is using a lot of memory: the one decoding. Only
    the pool's processes count: the session's Chromium is under ours too, and as big."""
    while True:
        for pid in descendants(os.getpid()):
            if is_pool_process(pid) and rss_kib(pid) > 150 * 1024:
                return pid
        await asyncio.sleep(0.02)


def is_pool_process(pid: int) -> bool:
    """A process of multiprocessing's fork server (the pool's server and its workers)."""
    try:
        return b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


# --- the running app --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """One image worker, so that a handful of uploads fills the line."""
    data_dir = tmp_path_factory.mktemp("image-limits")
    with running_app(data_dir / "logs", CHAT_DATA_DIR=str(data_dir), CHAT_IMAGE_WORKERS="1") as process:
        yield process


def room_for_uploads(app: AppProcess) -> tuple[str, dict[str, str]]:
    token = httpx.post(f"{app.url}/api/v1/guests", json={"display_name": "Uploader"}, timeout=10).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    room = httpx.post(f"{app.url}/api/v1/rooms", json={"name": f"uploads {time.time_ns()}"}, headers=auth, timeout=10)
    return room.json()["slug"], auth


def upload_at_once(app: AppProcess, data: bytes, count: int) -> list[httpx.Response]:
    slug, auth = room_for_uploads(app)
    url = f"{app.url}/api/v1/rooms/{slug}/images"

    def send(_: int) -> httpx.Response:
        return httpx.post(url, files={"file": ("upload", data)}, headers=auth, timeout=120)

    with ThreadPoolExecutor(count) as senders:
        return list(senders.map(send, range(count)))


def test_four_uploads_declaring_16383_by_2000_pixels_cost_little_and_keep_the_server_answering(
    app: AppProcess,
) -> None:
    with Watch(app.process.pid, app.url) as watch:
        answers = upload_at_once(app, wide_webp(), 4)

    assert [answer.status_code for answer in answers] == [413] * 4
    assert all("16383×2000" in answer.json()["detail"] for answer in answers)
    assert watch.rise_kib < GIB_KIB, f"memory rose by {watch.rise_kib / 1024:.0f} MiB"
    assert watch.slowest_health_seconds < 2, f"/healthz took {watch.slowest_health_seconds:.1f} s"


def test_heavy_uploads_wait_their_turn_or_hear_busy_and_their_memory_is_given_back(app: AppProcess) -> None:
    """Six 24-megapixel images at one worker: one decodes, two wait, three are told to come back."""
    with Watch(app.process.pid, app.url) as watch:
        answers = upload_at_once(app, large_allowed_webp(), 6)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 201, 201, 503, 503, 503], [answer.text for answer in answers]
    for answer in answers:
        if answer.status_code == 503:
            assert int(answer.headers["Retry-After"]) >= 1
            assert "busy" in answer.json()["detail"]
        else:
            thumbnail = httpx.get(app.url + answer.json()["image"]["thumbnail_url"], timeout=10)
            assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/webp"
    assert watch.rise_kib < GIB_KIB, f"memory rose by {watch.rise_kib / 1024:.0f} MiB"
    assert watch.slowest_health_seconds < 2, f"/healthz took {watch.slowest_health_seconds:.1f} s"
    # Each worker exits after its image: what it used goes back to the system, not to the app.
    time.sleep(1)
    held = family_rss_kib(app.process.pid) - watch.idle_kib
    assert held < 150 * 1024, f"{held / 1024:.0f} MiB still held after the uploads"


@pytest.mark.parametrize(
    ("make", "status"),
    [(many_frame_gif, 413), (lambda: gif_declaring(40000, 40000), 413), (lambda: small_png()[:60], 415)],
)
def test_hostile_files_get_a_clear_refusal_from_the_api(app: AppProcess, make: object, status: int) -> None:
    (answer,) = upload_at_once(app, make(), 1)  # type: ignore[operator]

    assert answer.status_code == status
    assert answer.json()["detail"]


def test_nothing_the_app_started_outlives_it_when_it_is_killed(tmp_path: Path) -> None:
    """SIGKILL (or the OOM killer) gives the app no chance to stop its image pool: the workers
    notice on their own, and the fork server and resource tracker follow them."""
    with running_app(tmp_path / "logs", CHAT_DATA_DIR=str(tmp_path), CHAT_IMAGE_WORKERS="2") as app:
        (answer,) = upload_at_once(app, small_png(), 1)
        assert answer.status_code == 201, answer.text
        family = descendants(app.process.pid)
        assert len(family) >= 2, f"no fork server and worker under the app: {family}"
        app.process.kill()
        app.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (left := [pid for pid in family if alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not left, f"still running 10 s after the app was killed: {left}"

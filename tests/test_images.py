"""Uploaded images as a user meets them: metadata gone, upright, thumbnailed, refused when bad, stored safely.

Every test image is made here, with Pillow (the 400-megapixel bomb row by row with zlib, so that making it
costs no memory); nothing binary is committed.
"""

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageSequence, PngImagePlugin

from services import media
from services.errors import TooLarge, UnsupportedMedia
from services.images import THUMBNAIL_MAX_SIDE, process_image
from services.media import LocalMediaStore, content_type_for, is_valid_key, new_image_keys

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 10_000_000
CAMERA = "Acme SecretCam 3000"  # a string that must not survive in any stored byte
TOKEN = "0123456789abcdef0123456789abcdef"


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x0112] = orientation  # Orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 0.0)
    return exif


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    image = opened(data)
    assert dict(image.getexif()) == {}
    assert not {"exif", "xmp", "comment"} & set(image.info)
    assert CAMERA.encode() not in data


# --- metadata -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_exif_with_gps_is_gone_from_the_stored_file(image_format: str) -> None:
    data = encode(Image.new("RGB", (64, 48), "red"), image_format, exif=camera_exif().tobytes())
    original = opened(data).getexif()
    assert original[0x010F] == CAMERA and original.get_ifd(0x8825)[1] == "N"

    assert_no_metadata(process_image(data, max_bytes=LIMIT).data)


@pytest.mark.parametrize("image_format", ["JPEG", "WEBP"])
def test_xmp_packet_is_gone_from_the_stored_file(image_format: str) -> None:
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><tiff:Make>{CAMERA}</tiff:Make></x:xmpmeta>'.encode()
    data = encode(Image.new("RGB", (64, 48), "red"), image_format, xmp=xmp)
    assert "xmp" in opened(data).info

    assert_no_metadata(process_image(data, max_bytes=LIMIT).data)


def test_png_text_chunks_are_gone_from_the_stored_file() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", CAMERA)
    text.add_text("Comment", CAMERA, zip=True)
    data = encode(Image.new("RGB", (64, 48), "red"), "PNG", pnginfo=text)
    assert opened(data).info["Author"] == CAMERA

    stored = process_image(data, max_bytes=LIMIT).data
    assert_no_metadata(stored)
    assert not {"Author", "Comment"} & set(opened(stored).info)


def test_jpeg_comment_is_gone_from_the_stored_file() -> None:
    data = encode(Image.new("RGB", (64, 48), "red"), "JPEG", comment=CAMERA)
    assert opened(data).info["comment"] == CAMERA.encode()

    assert_no_metadata(process_image(data, max_bytes=LIMIT).data)


# --- orientation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_exif_orientation_is_applied_to_the_pixels(image_format: str) -> None:
    image = Image.new("RGB", (800, 600), "blue")
    ImageDraw.Draw(image).rectangle((0, 0, 399, 299), fill="red")  # top-left quadrant as stored
    data = encode(image, image_format, exif=camera_exif(orientation=6).tobytes())  # 6: rotate 90° clockwise

    result = process_image(data, max_bytes=LIMIT)

    stored = opened(result.data)
    assert (result.width, result.height) == stored.size == (600, 800)
    assert 0x0112 not in stored.getexif()  # no orientation left for a viewer to apply twice
    pixels = stored.convert("RGB")
    red, blue = pixels.getpixel((450, 200)), pixels.getpixel((150, 200))  # top-right now, top-left now
    assert red[0] > 200 and red[2] < 60
    assert blue[2] > 200 and blue[0] < 60
    assert pixels.getpixel((450, 600))[2] > 200


# --- thumbnail ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1200, 300), (400, 100)),
        ((300, 1200), (100, 400)),
        ((1000, 1000), (400, 400)),
        ((120, 80), (120, 80)),
    ],
)
def test_thumbnail_fits_400_pixels_keeps_aspect_and_never_enlarges(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    result = process_image(encode(Image.new("RGB", size, "green"), "PNG"), max_bytes=LIMIT)

    thumbnail = opened(result.thumbnail)
    assert thumbnail.format == "WEBP"
    assert thumbnail.size == expected
    assert max(thumbnail.size) <= THUMBNAIL_MAX_SIDE


def test_thumbnail_keeps_transparency_of_a_png_with_alpha() -> None:
    image = Image.new("RGBA", (1000, 500), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 499, 499), fill=(255, 0, 0, 255))

    thumbnail = opened(process_image(encode(image, "PNG"), max_bytes=LIMIT).thumbnail)

    assert thumbnail.mode == "RGBA"
    assert thumbnail.getpixel((50, 100))[3] == 255
    assert thumbnail.getpixel((350, 100))[3] == 0


def test_thumbnail_of_a_16_bit_greyscale_png_keeps_its_brightness() -> None:
    data = encode(Image.new("I;16", (100, 100), 32768), "PNG")  # 50 % grey

    grey = opened(process_image(data, max_bytes=LIMIT).thumbnail).convert("L").getpixel((50, 50))

    assert 100 < grey < 156


# --- formats --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "content_type", "extension"),
    [
        ("JPEG", "image/jpeg", "jpg"),
        ("PNG", "image/png", "png"),
        ("GIF", "image/gif", "gif"),
        ("WEBP", "image/webp", "webp"),
    ],
)
def test_stored_image_keeps_its_format(image_format: str, content_type: str, extension: str) -> None:
    result = process_image(encode(Image.new("RGB", (64, 48), "red"), image_format), max_bytes=LIMIT)

    assert (result.content_type, result.extension) == (content_type, extension)
    assert opened(result.data).format == image_format
    assert content_type_for(f"ab/{TOKEN}.{result.extension}") == content_type


@pytest.mark.parametrize("image_format", ["GIF", "WEBP"])
def test_animation_stays_animated(image_format: str) -> None:
    frames = [Image.new("RGB", (60, 40), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], image_format, save_all=True, append_images=frames[1:], duration=100, loop=0)

    stored = Image.open(io.BytesIO(process_image(data, max_bytes=LIMIT).data))

    assert stored.format == image_format
    assert stored.n_frames == 3
    colours = [frame.convert("RGB").getpixel((30, 20)) for frame in ImageSequence.Iterator(stored)]
    assert len(set(colours)) == 3


def test_phone_jpeg_with_an_embedded_second_picture_is_accepted_as_jpeg() -> None:
    photo, gain_map = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    data = encode(photo, "MPO", save_all=True, append_images=[gain_map], exif=camera_exif().tobytes())

    result = process_image(data, max_bytes=LIMIT)

    assert result.content_type == "image/jpeg"
    assert opened(result.data).format == "JPEG"
    assert_no_metadata(result.data)


# --- refusals -------------------------------------------------------------------------------------------


def test_text_file_posing_as_png_is_refused() -> None:
    with pytest.raises(UnsupportedMedia) as refused:
        process_image(b"hello, not an image", max_bytes=LIMIT)
    assert refused.value.status_code == 415


def test_truncated_jpeg_is_refused() -> None:
    data = encode(Image.effect_noise((300, 300), 80).convert("RGB"), "JPEG")

    with pytest.raises(UnsupportedMedia):
        process_image(data[: len(data) // 2], max_bytes=LIMIT)


@pytest.mark.parametrize("image_format", ["BMP", "TIFF"])
def test_other_image_formats_are_refused_naming_the_accepted_ones(image_format: str) -> None:
    with pytest.raises(UnsupportedMedia) as refused:
        process_image(encode(Image.new("RGB", (64, 48), "red"), image_format), max_bytes=LIMIT)
    assert "JPEG, PNG, GIF or WebP" in refused.value.detail
    assert refused.value.status_code == 415


def test_file_over_the_byte_limit_is_refused_and_one_at_the_limit_accepted() -> None:
    data = encode(Image.effect_noise((100, 100), 80), "PNG")
    assert len(data) > 1000

    with pytest.raises(TooLarge) as refused:
        process_image(data, max_bytes=1000)
    assert refused.value.status_code == 413
    assert process_image(data, max_bytes=len(data)).content_type == "image/png"


def write_png_bomb(path: Path, side: int) -> None:
    """A valid all-black 1-bit PNG of side×side pixels, compressed row by row so it never sits in memory."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = bytes(1 + (side + 7) // 8)  # filter byte, then 8 pixels a byte
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


# Measured in a fork of the fresh interpreter: across exec, Linux keeps the parent's peak in ru_maxrss,
# so the subprocess itself would report whatever pytest once used.
BOMB_CHECK = """
import os, resource, sys
from pathlib import Path
from services.errors import TooLarge
from services.images import process_image
data = Path(sys.argv[1]).read_bytes()
if os.fork():
    sys.exit(os.waitstatus_to_exitcode(os.wait()[1]))
try:
    process_image(data, max_bytes=10_000_000)
except TooLarge as error:
    print("refused:", error.detail)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
"""


def test_decompression_bomb_is_refused_without_using_much_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    write_png_bomb(bomb, 20000)  # 400 megapixels in about 50 KB
    assert bomb.stat().st_size < 200_000
    with pytest.raises(Image.DecompressionBombError, match="400000000 pixels"):
        Image.open(bomb)  # Pillow reads it as the real thing

    run = subprocess.run(
        [sys.executable, "-c", BOMB_CHECK, str(bomb)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    refusal, peak_kib = run.stdout.strip().splitlines()
    assert refusal.startswith("refused:") and "megapixels" in refusal
    assert int(peak_kib) < 300 * 1024


# --- media store ----------------------------------------------------------------------------------------


def test_store_saves_reads_and_deletes(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    key, _ = new_image_keys("png")

    store.save(key, b"picture")
    path = store.local_path(key)
    assert path is not None and path.is_relative_to(tmp_path.resolve())
    assert store.read(key) == path.read_bytes() == b"picture"

    store.delete(key)
    assert store.local_path(key) is None
    with pytest.raises(FileNotFoundError):
        store.read(key)
    store.delete(key)  # deleting twice is harmless


def test_local_path_is_none_for_a_missing_key(tmp_path: Path) -> None:
    assert LocalMediaStore(tmp_path).local_path(f"ab/{TOKEN}.jpg") is None


@pytest.mark.parametrize(
    "key",
    [
        "../x.png",
        "/etc/passwd",
        "ab/../../x.jpg",
        f"ab/../{TOKEN}.png",
        f"ab\\{TOKEN}.png",
        f"..\\..\\{TOKEN}.png",
        f"ab/{TOKEN}.bmp",
        f"ab/{TOKEN}.svg",
        f"ab/{TOKEN}.PNG",
        f"ab/{TOKEN}.jpeg",
        f"ab/{TOKEN}.png\n",
        f"ab/{TOKEN}.png/x",
        f"ab/{TOKEN}_thumb.webp.html",
        f"ab/{TOKEN.upper()}.png",
        f"{TOKEN}.png",
        "",
    ],
)
def test_store_refuses_keys_it_did_not_make(tmp_path: Path, key: str) -> None:
    store = LocalMediaStore(tmp_path / "media")

    assert not is_valid_key(key)
    with pytest.raises(ValueError):
        store.save(key, b"x")
    assert store.local_path(key) is None
    assert not any(tmp_path.rglob("*"))  # nothing written anywhere, not even a folder


@pytest.mark.parametrize("extension", ["jpg", "png", "gif", "webp"])
def test_new_image_keys_are_distinct_valid_and_pair_with_a_webp_thumbnail(extension: str) -> None:
    pairs = [new_image_keys(extension) for _ in range(50)]

    assert len({original for original, _ in pairs}) == 50
    for original, thumbnail in pairs:
        assert is_valid_key(original) and is_valid_key(thumbnail)
        assert original.endswith(f".{extension}")
        assert thumbnail == original.removesuffix(f".{extension}") + "_thumb.webp"
        assert content_type_for(thumbnail) == "image/webp"


@pytest.mark.parametrize(
    ("extension", "content_type"),
    [("jpg", "image/jpeg"), ("png", "image/png"), ("gif", "image/gif"), ("webp", "image/webp")],
)
def test_content_type_follows_the_extension(extension: str, content_type: str) -> None:
    assert content_type_for(f"ab/{TOKEN}.{extension}") == content_type


def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalMediaStore(tmp_path)
    key = f"ab/{TOKEN}.png"
    store.save(key, b"old picture")

    def disk_full(source: str, target: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(media.os, "replace", disk_full)
    with pytest.raises(OSError):
        store.save(key, b"new picture")

    assert store.read(key) == b"old picture"
    assert sorted(path.name for path in (tmp_path / "ab").iterdir()) == [f"{TOKEN}.png"]

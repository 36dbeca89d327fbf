"""Image processing with Pillow, bytes in and bytes out.

Every upload is decoded and re-encoded: that proves it is an image, applies the EXIF
orientation, and leaves every piece of metadata (EXIF with GPS, XMP, comments, text
chunks) behind. Decoding takes milliseconds to seconds and up to a few hundred MB: the app
runs process_image() in a small pool of worker processes (services/image_pool.py), never on
the event loop.

Every cost is bounded before a pixel is decoded, from the header alone: pixels per frame,
frames per animation and pixels of all frames together. 25 megapixels is a 24-megapixel
camera's photo or a 6K screenshot; a bigger JPEG (a 48- or 50-megapixel phone photo) is
decoded at half scale by libjpeg itself (draft), which costs a quarter of the memory, so it
arrives a little smaller instead of being refused. Other formats cannot be decoded smaller,
so past the limit they are refused with 413. An animation past the frame limit is refused
rather than cut to its first frame: a still that silently replaced a GIF would not be what
its sender sent, and 413 says what to change.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from services.errors import TooLarge, UnsupportedMedia
from services.media import CONTENT_TYPES  # by file extension, as the media store serves them

THUMBNAIL_MAX_SIDE = 400
MAX_PIXELS = 25_000_000  # one decoded frame: 100 MB as RGBA, and seconds of CPU to re-encode
MAX_JPEG_PIXELS = 4 * MAX_PIXELS  # declared by a JPEG, decoded at half scale to fit MAX_PIXELS
MAX_FRAMES = 500  # an animation's frames: each costs about 1.5 ms to re-encode, however small
MAX_TOTAL_PIXELS = 100_000_000  # all frames of an animation together
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
# What re-encoding may keep from the decoder's info: it describes pixels and timing, not the photo.
KEPT_INFO = ("transparency", "duration", "loop", "background", "disposal", "icc_profile")

# Pillow's own bomb guard, in case a check below is ever bypassed: it refuses at Image.open past twice
# this (the largest JPEG we decode at half scale) and only warns below; the checks here are stricter.
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS // 2


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    thumbnail: bytes  # WebP, at most THUMBNAIL_MAX_SIDE on its longer side


def check_size(size: int, *, max_bytes: int) -> None:
    if size > max_bytes:
        raise TooLarge(f"the image is larger than the limit of {_megabytes(max_bytes)}")


def process_image(data: bytes, *, max_bytes: int) -> ProcessedImage:
    check_size(len(data), max_bytes=max_bytes)
    with warnings.catch_warnings():
        # Pillow warns from half its limit on; the checks in _process decide, per format.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return _process(data)
        except Image.DecompressionBombError:
            raise TooLarge(f"the image has more than {MAX_PIXELS // 1_000_000} megapixels") from None
        except MemoryError:  # past the worker's memory cap (image_pool): a bomb the checks missed
            raise TooLarge("the image needs more memory to decode than the server allows") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise UnsupportedMedia("the file is not a readable JPEG, PNG, GIF or WebP image") from None


def check_header(data: bytes, *, max_bytes: int) -> None:
    """The refusals that need only the header (size, format, dimensions): a millisecond and no pixels,
    so the app makes them before an image takes a place in the worker pool."""
    check_size(len(data), max_bytes=max_bytes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                _check_format(probe)
                _check_dimensions(probe)
        except Image.DecompressionBombError:
            raise TooLarge(f"the image has more than {MAX_PIXELS // 1_000_000} megapixels") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise UnsupportedMedia("the file is not a readable JPEG, PNG, GIF or WebP image") from None


def _process(data: bytes) -> ProcessedImage:
    with Image.open(io.BytesIO(data)) as probe:  # reads the header only: no pixels decoded yet
        _check_format(probe)
        _check_dimensions(probe)
        probe.verify()  # checksums and structure, still without decoding every pixel

    with Image.open(io.BytesIO(data)) as image:
        image_format = image.format
        assert image_format is not None
        frames = getattr(image, "n_frames", 1)
        if image_format == "MPO":  # a phone's JPEG with extra pictures (depth or gain map): keep the first
            image_format, frames = "JPEG", 1
        _check_frames(frames, image.width, image.height)
        if image_format == "JPEG":
            _decode_small_enough(image)
        if frames > 1:
            encoded, cleaned = _reencode_animation(image, image_format)
        else:
            image.load()
            ImageOps.exif_transpose(image, in_place=True)  # turned upright without a second copy
            cleaned = image
            encoded = _reencode_still(cleaned, image_format)
        thumbnail = _thumbnail(cleaned)
        return ProcessedImage(
            data=encoded,
            content_type=CONTENT_TYPES[FORMATS[image_format]],
            extension=FORMATS[image_format],
            width=cleaned.width,
            height=cleaned.height,
            thumbnail=thumbnail,
        )


def _check_format(probe: Image.Image) -> None:
    if probe.format not in FORMATS and probe.format != "MPO":
        raise UnsupportedMedia(f"{probe.format} images are not accepted; use JPEG, PNG, GIF or WebP")


def _check_dimensions(probe: Image.Image) -> None:
    width, height = probe.size
    limit = MAX_JPEG_PIXELS if probe.format in ("JPEG", "MPO") else MAX_PIXELS
    if width * height > limit:
        raise TooLarge(f"the image is {width}×{height} pixels, more than {limit // 1_000_000} megapixels")


def _check_frames(frames: int, width: int, height: int) -> None:
    if frames > MAX_FRAMES:
        raise TooLarge(f"the animation has {frames} frames; at most {MAX_FRAMES} are accepted")
    if frames > 1 and frames * width * height > MAX_TOTAL_PIXELS:
        raise TooLarge(
            f"the animation is too large: {frames} frames of {width}×{height} pixels, "
            f"more than {MAX_TOTAL_PIXELS // 1_000_000} megapixels in all"
        )


def _decode_small_enough(image: Image.Image) -> None:
    """Have libjpeg decode a JPEG past MAX_PIXELS at half (or smaller) scale: it never holds the full size."""
    width, height = image.size
    scale = 1
    while (width // scale) * (height // scale) > MAX_PIXELS:
        scale *= 2
    if scale > 1:
        image.draft(image.mode, (-(-width // scale), -(-height // scale)))


def _reencode_still(image: Image.Image, image_format: str) -> bytes:
    image.info = {key: value for key, value in image.info.items() if key in KEPT_INFO}
    options: dict[str, object] = {}
    if image_format == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        options = {"quality": 90, "optimize": True}
    elif image_format == "WEBP":
        options = {"quality": 90}
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _reencode_animation(image: Image.Image, image_format: str) -> tuple[bytes, Image.Image]:
    image.info = {key: value for key, value in image.info.items() if key in KEPT_INFO}
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, save_all=True, comment=b"")
    image.seek(0)
    return buffer.getvalue(), image.copy()


# Modes Pillow resizes with a proper filter; others (palette, 16-bit) are converted first.
_RESIZABLE = ("RGB", "RGBA", "L", "LA", "I", "F")


def _thumbnail(image: Image.Image) -> bytes:
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):  # 16-bit grey: scale to 8 bits, do not clip
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    elif image.mode not in _RESIZABLE:
        has_alpha = image.mode in ("PA",) or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    scale = min(1.0, THUMBNAIL_MAX_SIDE / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reducing_gap: a cheap box reduction first, then Lanczos on the small result, never a full-size copy
    thumbnail = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if scale < 1 else image.copy()
    has_alpha = thumbnail.mode in ("RGBA", "LA", "PA") or "transparency" in thumbnail.info
    thumbnail = thumbnail.convert("RGBA" if has_alpha else "RGB")
    thumbnail.info = {}
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="WEBP", quality=82)
    return buffer.getvalue()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"

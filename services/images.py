"""Image processing with Pillow, bytes in and bytes out.

Every upload is decoded and re-encoded: that proves it is an image, applies the EXIF
orientation, and leaves every piece of metadata (EXIF with GPS, XMP, comments, text
chunks) behind. Call process_image() in a worker thread: decoding takes milliseconds
to seconds and must never hold up the event loop.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from services.errors import TooLarge, UnsupportedMedia
from services.media import CONTENT_TYPES  # by file extension, as the media store serves them

THUMBNAIL_MAX_SIDE = 400
MAX_PIXELS = 40_000_000  # one frame; a 40-megapixel RGBA frame decodes to 160 MB
MAX_TOTAL_PIXELS = 200_000_000  # all frames of an animation together
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
# What re-encoding may keep from the decoder's info: it describes pixels and timing, not the photo.
KEPT_INFO = ("transparency", "duration", "loop", "background", "disposal", "icc_profile")

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb guard, in case a check below is ever bypassed


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
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _process(data)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise TooLarge(f"the image has more than {MAX_PIXELS // 1_000_000} megapixels") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise UnsupportedMedia("the file is not a readable JPEG, PNG, GIF or WebP image") from None


def _process(data: bytes) -> ProcessedImage:
    with Image.open(io.BytesIO(data)) as probe:  # reads the header only: no pixels decoded yet
        if probe.format not in FORMATS and probe.format != "MPO":
            raise UnsupportedMedia(f"{probe.format} images are not accepted; use JPEG, PNG, GIF or WebP")
        width, height = probe.size
        if width * height > MAX_PIXELS:
            raise TooLarge(f"the image is {width}×{height} pixels, more than {MAX_PIXELS // 1_000_000} megapixels")
        probe.verify()  # checksums and structure, still without decoding every pixel

    with Image.open(io.BytesIO(data)) as image:
        image_format = image.format
        assert image_format is not None
        frames = getattr(image, "n_frames", 1)
        if image_format == "MPO":  # a phone's JPEG with extra pictures (depth or gain map): keep the first
            image_format, frames = "JPEG", 1
        if frames * width * height > MAX_TOTAL_PIXELS:
            raise TooLarge(f"the animation has too many frames ({frames} of {width}×{height} pixels)")
        if frames > 1:
            encoded, cleaned = _reencode_animation(image, image_format)
        else:
            cleaned = ImageOps.exif_transpose(image)  # a copy turned upright
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


def _thumbnail(image: Image.Image) -> bytes:
    thumbnail = image.copy()
    if thumbnail.mode in (
        "I;16",
        "I;16L",
        "I;16B",
        "I;16N",
        "I",
    ):  # 16-bit grey: scale to 8 bits, do not clip
        thumbnail = thumbnail.convert("I").point(lambda value: value / 256).convert("L")
    thumbnail.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE), Image.Resampling.LANCZOS)
    has_alpha = thumbnail.mode in ("RGBA", "LA", "PA") or "transparency" in thumbnail.info
    thumbnail = thumbnail.convert("RGBA" if has_alpha else "RGB")
    thumbnail.info = {}
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="WEBP", quality=82)
    return buffer.getvalue()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"

"""Photos attached to reports: JPEG or PNG only, size-limited, re-encoded without metadata.

Phones write the shooting position and device into EXIF; a report photo is shared with many
people, so the stored image is rebuilt from its pixels alone (orientation applied first).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from disaster.errors import DisasterValidationError
from gis.messages import msg

MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTOS = 4
MAX_PIXELS = 40_000_000       # refuse decompression bombs well before Pillow's own limit
MAX_SIDE = 2048               # larger photos are scaled down: enough for a damage record
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class CleanPhoto:
    content_type: str
    data: bytes
    width: int
    height: int
    sha256: str


def clean_photo(raw: bytes, field: str = "photos") -> CleanPhoto:
    """Check and re-encode one uploaded photo; raise a 422 naming ``field`` when refused."""
    if not raw:
        raise DisasterValidationError(msg("the photo is empty"), fields={field: [msg("empty file")]})
    if len(raw) > MAX_PHOTO_BYTES:
        raise DisasterValidationError(
            msg("the photo is too large"),
            fields={field: [msg("larger than %(mb)s MB", mb=MAX_PHOTO_BYTES // 2**20)]})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            fmt = image.format
            if fmt not in FORMATS:
                raise DisasterValidationError(
                    msg("unsupported photo type"), fields={field: [msg("only JPEG or PNG")]})
            if image.width * image.height > MAX_PIXELS:
                raise DisasterValidationError(
                    msg("the photo has too many pixels"), fields={field: [msg("too many pixels")]})
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise DisasterValidationError(msg("not a readable image"),
                                      fields={field: [msg("not a readable JPEG or PNG")]}) from exc
    image = ImageOps.exif_transpose(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    # A fresh image holds only pixels: EXIF, GPS, XMP, ICC and text chunks are all left behind.
    mode = "RGB" if fmt == "JPEG" else ("RGBA" if "A" in image.getbands() else "RGB")
    pixels = image.convert(mode)
    bare = Image.new(mode, pixels.size)
    bare.paste(pixels)
    out = io.BytesIO()
    if fmt == "JPEG":
        bare.save(out, "JPEG", quality=85, optimize=True)
    else:
        bare.save(out, "PNG", optimize=True)
    data = out.getvalue()
    return CleanPhoto(FORMATS[fmt], data, bare.width, bare.height,
                      hashlib.sha256(data).hexdigest())

"""Photos the office keeps: checked by content, re-encoded without metadata, stored under a key of their own."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from domain.kernel.errors import Invalid

# A photo a person or a system hands in: at most this many bytes (a phone's full-size JPEG fits).
MAX_BYTES = 5 * 1024 * 1024
# Pixels decoded at most: a small file that unpacks into gigabytes (a decompression bomb) is refused.
MAX_PIXELS = 50_000_000
# Kept at most this long on the long side: enough to read a sign, light enough for a phone and a ledger.
MAX_SIDE = 2560
KINDS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF"})
# A reference to a stored photo, beside Telegram's file ids in the same columns.
STORED = "media:"


class MediaStore(Protocol):
    """Bytes under keys: a local directory, or an S3-compatible bucket."""

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...


class PhotoDesk(Protocol):
    """What a front end needs of photos: one read by its reference, a new one kept, one fetched from a link."""

    async def read(self, ref: str) -> bytes | None: ...

    async def keep(self, raw: bytes) -> Picture: ...

    async def download(self, url: str) -> bytes: ...


@dataclass(frozen=True)
class Picture:
    """A photo as it is shown to anyone: JPEG, upright, no EXIF; the GPS point it carried, read before."""

    data: bytes
    width: int
    height: int
    point: tuple[float, float] | None

    @property
    def key(self) -> str:
        """Where it is stored: by content, so the same photo handed in twice is kept once."""
        digest = hashlib.sha256(self.data).hexdigest()
        return f"photos/{digest[:2]}/{digest[2:34]}.jpg"

    @property
    def ref(self) -> str:
        """The reference cases keep."""
        return STORED + self.key


def stored_key(ref: str | None) -> str | None:
    """The store key of a stored photo's reference; None for a file id the chat platform holds."""
    if ref and ref.startswith(STORED):
        return ref[len(STORED) :]
    return None


def _degrees(value: object, ref: object) -> float | None:
    # EXIF writes a coordinate as (degrees, minutes, seconds) rationals and a hemisphere letter.
    try:
        d, m, s = (float(x) for x in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    deg = d + m / 60 + s / 3600
    hemisphere = ref.decode(errors="ignore") if isinstance(ref, bytes) else str(ref or "")
    return -deg if hemisphere.strip().upper() in ("S", "W") else deg


def gps_point(image: Image.Image) -> tuple[float, float] | None:
    """The (lat, lon) a camera wrote into the photo, if any and if it is a point on Earth."""
    try:
        gps = image.getexif().get_ifd(0x8825)
    except Exception:  # noqa: BLE001 - a broken EXIF block is no point, not a refused photo
        return None
    lat = _degrees(gps.get(2), gps.get(1))
    lon = _degrees(gps.get(4), gps.get(3))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return round(lat, 7), round(lon, 7)


def clean_picture(raw: bytes) -> Picture:
    """A photo checked by what it is (not by its name or declared type) and re-encoded: upright as the camera
    meant, at most MAX_SIDE, JPEG without EXIF (no GPS, no device) so it can be shown to anyone."""
    if len(raw) > MAX_BYTES:
        raise Invalid("photo_too_large", max_mb=MAX_BYTES // (1024 * 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.format not in KINDS:
                raise Invalid("photo_type")
            if image.width * image.height > MAX_PIXELS:
                raise Invalid("photo_too_large", max_mb=MAX_BYTES // (1024 * 1024))
            point = gps_point(image)
            image.load()
            upright = ImageOps.exif_transpose(image) or image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid("photo_too_large", max_mb=MAX_BYTES // (1024 * 1024)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Invalid("photo_type") from None
    if upright.mode not in ("RGB", "L"):
        # Transparency becomes white, as a printed ledger shows it.
        base = Image.new("RGB", upright.size, "white")
        rgba = upright.convert("RGBA")
        base.paste(rgba, mask=rgba.getchannel("A"))
        upright = base
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=88, optimize=True)
    return Picture(out.getvalue(), upright.width, upright.height, point)

"""Photos as the office keeps them: checked by content, upright, without EXIF, the camera's point read first."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from domain.kernel.errors import Invalid
from domain.kernel.media import MAX_BYTES, MAX_SIDE, clean_picture, stored_key


def jpeg(width: int = 400, height: int = 200, *, gps: dict[int, object] | None = None, turned: bool = False) -> bytes:
    """A phone's JPEG: a maker tag, maybe a GPS block and an orientation flag."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if turned:
        exif[0x0112] = 6  # held upright: the pixels are stored on their side
    if gps is not None:
        exif[0x8825] = gps
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_phone_photo_is_kept_upright_without_its_metadata_and_its_point_is_read_first() -> None:
    raw = jpeg(gps={1: "N", 2: (36.0, 40.0, 12.0), 3: "E", 4: (117.0, 1.0, 30.0)}, turned=True)
    picture = clean_picture(raw)
    assert picture.point == (36.67, 117.025)
    assert (picture.width, picture.height) == (200, 400)  # turned as the camera meant
    kept = Image.open(io.BytesIO(picture.data))
    assert kept.format == "JPEG" and dict(kept.getexif()) == {}  # no GPS, no device, no orientation left
    assert b"PhoneMaker" not in picture.data
    assert stored_key(picture.ref) == picture.key and picture.key.endswith(".jpg")
    assert clean_picture(raw).key == picture.key  # the same photo twice is one file


def test_the_southern_and_western_hemispheres_and_broken_or_null_points() -> None:
    south_west = clean_picture(jpeg(gps={1: "S", 2: (33.0, 52.0, 0.0), 3: "W", 4: (70.0, 30.0, 0.0)}))
    assert south_west.point == (-33.8666667, -70.5)
    assert clean_picture(jpeg(gps={1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)})).point is None
    assert clean_picture(jpeg(gps={1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)})).point is None
    assert clean_picture(jpeg(gps={1: "N", 3: "E"})).point is None
    assert clean_picture(jpeg()).point is None


def test_other_kinds_become_jpeg_and_large_ones_are_made_smaller() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (MAX_SIDE * 2, 100), (0, 0, 255, 0)).save(out, "PNG")
    picture = clean_picture(out.getvalue())
    assert (picture.width, picture.height) == (MAX_SIDE, 50)
    kept = Image.open(io.BytesIO(picture.data))
    assert kept.format == "JPEG" and kept.getpixel((10, 10)) == (255, 255, 255)  # transparency shown as paper


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"%PDF-1.4 not a photo",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        jpeg()[:200],  # cut short in transfer
        b"GIF89a" + b"\x00" * 20,
    ],
)
def test_what_is_no_photo_is_refused_by_its_content(raw: bytes) -> None:
    with pytest.raises(Invalid) as e:
        clean_picture(raw)
    assert e.value.code == "photo_type"


def test_too_many_bytes_or_too_many_pixels_are_refused_before_decoding() -> None:
    with pytest.raises(Invalid) as e:
        clean_picture(b"\xff\xd8" + b"\x00" * MAX_BYTES)
    assert e.value.code == "photo_too_large"
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # a few kilobytes that unpack into 100 megapixels
    assert len(out.getvalue()) < 100_000
    with pytest.raises(Invalid) as e:
        clean_picture(out.getvalue())
    assert e.value.code == "photo_too_large"

"""Honour certificates: a real PNG, the right size, and Chinese drawn with a real CJK font (no tofu)."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from domain.points import certificate
from domain.points.certificate import (
    CjkFontNotFoundError,
    chinese_date,
    chinese_number,
    cjk_font,
    font,
    format_hours,
    printable_name,
    render_certificate,
    star_points,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _draw(text: str, size: int = 96) -> Image.Image:
    image = Image.new("L", (size * (len(text) + 1), size * 2), 0)
    ImageDraw.Draw(image).text((size // 2, size // 2), text, font=font(size), fill=255)
    return image


def _ink(image: Image.Image) -> int:
    return sum(image.histogram()[129:])


@pytest.fixture
def no_fonts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(certificate, "_packaged_candidates", lambda: iter(()))
    monkeypatch.setattr(certificate, "_system_candidates", lambda: iter(()))
    cjk_font.cache_clear()
    font.cache_clear()
    yield
    cjk_font.cache_clear()
    font.cache_clear()


def test_renders_png_of_certificate_size() -> None:
    data = render_certificate("张晓明", 3, 312.5, datetime.date(2026, 11, 24), "青禾街道志愿服务中心")
    assert data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (1200, 850)
    # The title area carries red ink: the four characters of 荣誉证书 were drawn.
    title = image.convert("RGB").crop((300, 90, 900, 230))
    r, g, b = (band.point(lambda v: 255 if v > 150 else 0) for band in title.split())
    red = ImageChops.subtract(ImageChops.subtract(r, g), b)
    assert _ink(red) > 5000


def test_chinese_is_drawn_not_tofu() -> None:
    path, _ = cjk_font()
    assert path.is_file()
    glyphs = [_draw(ch) for ch in "荣誉证书"]
    for glyph in glyphs:
        assert glyph.getbbox() is not None, "a Han character came out blank"
    # Tofu draws every missing character as the same box; real glyphs all differ from each other.
    for i, first in enumerate(glyphs):
        for second in glyphs[i + 1 :]:
            assert ImageChops.difference(first, second).getbbox() is not None
    # 一 is one stroke and 誉 many: a font drawing boxes would give both about the same ink.
    assert _ink(glyphs[1]) > 4 * _ink(_draw("一"))
    # And a character no font has (a private-use code point) does not look like a Han character.
    missing = _draw("\ue000")
    assert ImageChops.difference(missing, glyphs[0]).getbbox() is not None


def test_different_content_gives_different_images() -> None:
    day = datetime.date(2026, 11, 24)
    one = render_certificate("张晓明", 1, 100, day, "青禾街道志愿服务中心")
    five = render_certificate("张晓明", 5, 1500, day, "青禾街道志愿服务中心")
    assert one != five


def test_long_texts_still_render() -> None:
    data = render_certificate(
        "阿卜杜热合曼·买买提艾力", 12, 4321.25, datetime.date(2026, 1, 5), "青禾街道杏林社区新时代文明实践志愿服务站"
    )
    assert Image.open(io.BytesIO(data)).size == (1200, 850)


@pytest.mark.parametrize(
    ("name", "level", "hours", "issuer"),
    [
        ("", 3, 300.0, "青禾街道"),
        ("张三", 0, 300.0, "青禾街道"),
        ("张三", 3, -1.0, "青禾街道"),
        ("张三", 3, 300.0, " "),
    ],
)
def test_rejects_bad_input(name: str, level: int, hours: float, issuer: str) -> None:
    with pytest.raises(ValueError):
        render_certificate(name, level, hours, datetime.date(2026, 11, 24), issuer)


def test_text_helpers() -> None:
    assert chinese_date(datetime.date(2026, 11, 24)) == "2026年11月24日"
    assert chinese_date(datetime.date(2026, 1, 5)) == "2026年1月5日"
    assert [chinese_number(n) for n in (1, 3, 5, 10, 12, 20, 35, 120)] == [
        "一",
        "三",
        "五",
        "十",
        "十二",
        "二十",
        "三十五",
        "120",
    ]
    assert format_hours(300.0) == "300"
    assert format_hours(312.5) == "312.5"
    assert format_hours(99.96) == "100"


def test_star_is_ten_points_pointing_up() -> None:
    points = star_points(100, 100, 50)
    assert len(points) == 10
    assert points[0] == pytest.approx((100, 50))


def test_missing_font_is_a_clear_error(no_fonts: None) -> None:
    with pytest.raises(CjkFontNotFoundError, match="pylopdf-fonts-zh-cn"):
        render_certificate("张三", 1, 100, datetime.date(2026, 11, 24), "青禾街道")


def _red_ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    r, g, b = (band.point(lambda v: 255 if v > 120 else 0) for band in image.convert("RGB").crop(box).split())
    return _ink(ImageChops.subtract(ImageChops.subtract(r, g), b))


SEAL_BOX = (860 - 100, 636 - 100, 860 + 100, 636 + 100)


def test_no_seal_is_drawn_unless_the_office_supplies_its_own(tmp_path: Path) -> None:
    day = datetime.date(2026, 11, 24)
    plain = Image.open(io.BytesIO(render_certificate("张晓明", 2, 320, day, "青禾街道")))
    assert _red_ink(plain, SEAL_BOX) < 300  # no imitation seal (only the border's corner ornaments)
    stamp = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(stamp).ellipse((10, 10, 290, 290), outline=(200, 20, 20, 255), width=20)
    path = tmp_path / "seal.png"
    stamp.save(path)
    sealed = Image.open(io.BytesIO(render_certificate("张晓明", 2, 320, day, "青禾街道", seal=path)))
    assert _red_ink(sealed, SEAL_BOX) > 2000  # the office's own image, scaled in


def test_emoji_in_a_name_are_left_out_rather_than_drawn_as_boxes() -> None:
    assert printable_name("🌸李秀英🌸") == "李秀英"
    assert printable_name("王 🙂 芳") == "王 芳"
    day = datetime.date(2026, 11, 24)
    with_emoji = render_certificate("🌸李秀英🌸", 1, 100, day, "青禾街道")
    assert with_emoji == render_certificate("李秀英", 1, 100, day, "青禾街道")
    with pytest.raises(ValueError):
        render_certificate("🌸🌸", 1, 100, day, "青禾街道")  # nothing printable left

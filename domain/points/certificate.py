"""Star-volunteer honour certificates (荣誉证书) drawn as PNG images with Pillow."""

from __future__ import annotations

import datetime
import functools
import glob
import importlib.resources
import io
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 850

# The font package is a pip dependency (pylopdf-fonts-zh-cn, SIL OFL 1.1): Noto Serif SC suits a certificate best.
_PACKAGED_FONTS: tuple[tuple[str, str], ...] = (
    ("pylopdf_fonts_zh_cn", "NotoSerifSC-Regular.otf"),
    ("pylopdf_fonts_zh_cn", "NotoSansSC-Regular.otf"),
)
_SYSTEM_FONT_PATTERNS: tuple[str, ...] = (
    "/usr/share/fonts/**/*Noto*Serif*CJK*",
    "/usr/share/fonts/**/*Noto*CJK*",
    "/usr/share/fonts/**/*Noto*SC*",
    "/usr/share/fonts/**/wqy*",
    "/usr/share/fonts/**/*Han*",
)
_FONT_SUFFIXES = (".otf", ".ttf", ".ttc", ".otc")

_PAPER = (253, 247, 230)
_RED = (180, 30, 36)
_DARK_RED = (140, 20, 24)
_GOLD = (200, 158, 60)
_DEEP_GOLD = (166, 120, 30)
_INK = (40, 30, 25)
_CHINESE_DIGITS = "零一二三四五六七八九十"


class CjkFontNotFoundError(RuntimeError):
    """No font that can draw Chinese characters is installed."""


def _packaged_candidates() -> Iterator[Path]:
    for package, name in _PACKAGED_FONTS:
        try:
            resource = importlib.resources.files(package) / name
        except ModuleNotFoundError:
            continue
        if resource.is_file():
            yield Path(str(resource))


def _system_candidates() -> Iterator[Path]:
    for pattern in _SYSTEM_FONT_PATTERNS:
        for found in sorted(glob.glob(pattern, recursive=True)):
            path = Path(found)
            if path.is_file() and path.suffix.lower() in _FONT_SUFFIXES:
                yield path


def _renders_cjk(font: ImageFont.FreeTypeFont) -> bool:
    """True when two different Han characters come out as two different glyphs (not the same tofu box)."""
    first, second = font.getmask("荣"), font.getmask("书")
    if first.getbbox() is None or second.getbbox() is None:
        return False
    return bytes(first) != bytes(second) or first.size != second.size


def _face_index(path: Path) -> int | None:
    """The face in the file that draws Chinese, preferring a Simplified Chinese face of a collection."""
    usable: list[int] = []
    for index in range(16):
        try:
            font = ImageFont.truetype(str(path), 48, index=index)
        except OSError:
            break
        if _renders_cjk(font):
            family = " ".join(part for part in font.getname() if part)
            if " SC" in family or "GB" in family:
                return index
            usable.append(index)
        if path.suffix.lower() not in (".ttc", ".otc"):
            break
    return usable[0] if usable else None


@functools.cache
def cjk_font() -> tuple[Path, int]:
    """The CJK font file (and face index) certificates are set in; looked up once per process."""
    tried: list[str] = []
    for candidate in (*_packaged_candidates(), *_system_candidates()):
        tried.append(str(candidate))
        index = _face_index(candidate)
        if index is not None:
            return candidate, index
    raise CjkFontNotFoundError(
        "no CJK font found to render certificates: `pip install pylopdf-fonts-zh-cn` "
        "(Noto Sans/Serif SC, SIL OFL 1.1) or install a system CJK font such as fonts-noto-cjk"
        + (f"; tried: {', '.join(tried)}" if tried else "")
    )


@functools.lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """The CJK font at a pixel size (cached)."""
    path, index = cjk_font()
    return ImageFont.truetype(str(path), size, index=index)


def chinese_date(day: datetime.date) -> str:
    """A date as written on Chinese documents: 2026年11月24日."""
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_number(value: int) -> str:
    """Small counts in Chinese numerals (3 → 三, 12 → 十二); larger ones stay in digits."""
    if 0 <= value <= 10:
        return _CHINESE_DIGITS[value]
    if value < 20:
        return "十" + _CHINESE_DIGITS[value - 10]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _CHINESE_DIGITS[tens] + "十" + (_CHINESE_DIGITS[ones] if ones else "")
    return str(value)


def format_hours(hours: float) -> str:
    """Hours with at most one decimal and no trailing zero: 300.0 → 300, 312.5 → 312.5."""
    text = f"{hours:.1f}"
    return text[:-2] if text.endswith(".0") else text


def star_points(cx: float, cy: float, outer: float, inner: float | None = None) -> list[tuple[float, float]]:
    """The ten corners of a five-pointed star with one point straight up."""
    inner = outer * 0.382 if inner is None else inner
    points: list[tuple[float, float]] = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _text_width(text: str, size: int) -> float:
    return font(size).getlength(text)


def _fit_size(text: str, size: int, max_width: float, min_size: int = 14) -> int:
    while size > min_size and _text_width(text, size) > max_width:
        size -= 1
    return size


def _draw_border(draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle((18, 18, WIDTH - 19, HEIGHT - 19), outline=_RED, width=16)
    draw.rectangle((44, 44, WIDTH - 45, HEIGHT - 45), outline=_GOLD, width=4)
    draw.rectangle((54, 54, WIDTH - 55, HEIGHT - 55), outline=_GOLD, width=1)
    # A fret (回纹) ornament in each corner, mirrored into place.
    for sx, sy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
        ox = 54 if sx > 0 else WIDTH - 55
        oy = 54 if sy > 0 else HEIGHT - 55
        for step in (14, 30):
            arm = 110 - step
            path = [
                (ox + sx * step, oy + sy * (step + arm)),
                (ox + sx * step, oy + sy * step),
                (ox + sx * (step + arm), oy + sy * step),
            ]
            draw.line(path, fill=_GOLD, width=3, joint="curve")
        corner = (ox + sx * 46, oy + sy * 46)
        draw.polygon(star_points(*corner, 9), fill=_RED)


def _draw_title(draw: ImageDraw.ImageDraw) -> None:
    title, size, spacing = "荣誉证书", 104, 36
    face = font(size)
    widths = [face.getlength(ch) for ch in title]
    x = (WIDTH - (sum(widths) + spacing * (len(title) - 1))) / 2
    for ch, width in zip(title, widths, strict=True):
        draw.text((x, 92), ch, font=face, fill=_RED, stroke_width=2, stroke_fill=_RED)
        x += width + spacing
    draw.line((WIDTH / 2 - 250, 232, WIDTH / 2 - 40, 232), fill=_GOLD, width=2)
    draw.line((WIDTH / 2 + 40, 232, WIDTH / 2 + 250, 232), fill=_GOLD, width=2)
    draw.polygon(star_points(WIDTH / 2, 232, 10), fill=_GOLD)


def _draw_stars(draw: ImageDraw.ImageDraw, level: int) -> None:
    radius = 30 if level <= 7 else max(10, 210 // level)
    gap = radius * 0.6
    total = level * 2 * radius + (level - 1) * gap
    x = (WIDTH - total) / 2 + radius
    for _ in range(level):
        draw.polygon(star_points(x, 292, radius), fill=_GOLD, outline=_DEEP_GOLD, width=2)
        draw.polygon(star_points(x, 292, radius * 0.45), fill=(232, 196, 96))
        x += 2 * radius + gap


def _draw_segments(
    draw: ImageDraw.ImageDraw, y: float, segments: Sequence[tuple[str, tuple[int, int, int], bool]], size: int
) -> None:
    """One centred line in several colours; flagged segments are underlined."""
    face = font(size)
    total = sum(face.getlength(text) for text, _, _ in segments)
    x = (WIDTH - total) / 2
    for text, colour, underline in segments:
        width = face.getlength(text)
        draw.text((x, y), text, font=face, fill=colour)
        if underline:
            draw.line((x - 4, y + size * 1.32, x + width + 4, y + size * 1.32), fill=colour, width=2)
        x += width


def _seal(path: Path, diameter: int = 190) -> Image.Image:
    """The office's own seal image (a PNG with transparency), scaled to fit; the bot never draws one."""
    with Image.open(path) as raw:
        seal = raw.convert("RGBA")
    seal.thumbnail((diameter, diameter), Image.Resampling.LANCZOS)
    return seal


@functools.cache
def _notdef() -> bytes:
    # A private-use code point no font maps: what the font draws for a character it lacks.
    return bytes(font(40).getmask("\U0010fffd"))


@functools.cache
def _drawable(ch: str) -> bool:
    if ch.isspace():
        return True
    mask = font(40).getmask(ch)
    return mask.getbbox() is not None and bytes(mask) != _notdef()


def printable_name(name: str) -> str:
    """The name without characters the certificate font cannot draw (emoji would come out as empty boxes)."""
    return " ".join("".join(ch for ch in name if _drawable(ch)).split())


def render_certificate(
    name: str, level: int, hours: float, issued: datetime.date, issuer: str, seal: Path | None = None
) -> bytes:
    """Draw a star-volunteer honour certificate (荣誉证书) and return it as PNG bytes.

    `seal` is an image file the office supplies (its real seal, text included); without one, none is drawn —
    a bot must never imitate a government body's seal.
    """
    name, issuer = printable_name(name), printable_name(issuer)
    if not name:
        raise ValueError("certificate needs the volunteer's name")
    if not issuer:
        raise ValueError("certificate needs an issuer")
    if level < 1:
        raise ValueError(f"star level must be at least 1, got {level}")
    if hours < 0 or not math.isfinite(hours):
        raise ValueError(f"service hours must be a non-negative number, got {hours}")

    image = Image.new("RGBA", (WIDTH, HEIGHT), (*_PAPER, 255))
    draw = ImageDraw.Draw(image)
    _draw_border(draw)
    _draw_title(draw)
    _draw_stars(draw, level)

    title = f"{chinese_number(level)}星级志愿者"
    segments: list[tuple[str, tuple[int, int, int], bool]] = [
        ("兹授予 ", _INK, False),
        (name, _DARK_RED, True),
        (" 同志「", _INK, False),
        (title, _RED, False),
        ("」称号", _INK, False),
    ]
    line = "".join(text for text, _, _ in segments)
    _draw_segments(draw, 380, segments, _fit_size(line, 46, WIDTH - 260))
    hours_line = f"累计志愿服务 {format_hours(hours)} 小时，特发此证，以资鼓励。"
    _draw_segments(draw, 472, [(hours_line, _INK, False)], _fit_size(hours_line, 34, WIDTH - 260))

    slogan = "奉献  友爱  互助  进步"
    draw.text((150, 690), slogan, font=font(26), fill=_DEEP_GOLD)

    block_x = 860
    issuer_size = _fit_size(issuer, 32, 2 * (WIDTH - 90 - block_x))
    draw.text((block_x, 622), issuer, font=font(issuer_size), fill=_INK, anchor="mm")
    draw.text((block_x, 674), chinese_date(issued), font=font(30), fill=_INK, anchor="mm")
    if seal is not None:
        stamp = _seal(seal)
        image.alpha_composite(stamp, (block_x - stamp.width // 2, 636 - stamp.height // 2))

    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()

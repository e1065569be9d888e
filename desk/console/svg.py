"""Server-side SVG for the staff console: the grid map with case pins, and small bar and line charts.

Plain strings: no JavaScript, and nothing fetched from the internet unless the office configures a tile server
for a base map, so a page works on an office intranet and prints as shown. No `style` attributes either, since a
strict Content-Security-Policy blocks those but not presentation attributes. Every human text (legend, titles,
empty state) comes from the caller, localized.
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.org.crs import wgs84_to_gcj02

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
# On-time rate: red at 0, amber at half, green at 1 — linear, so the key's swatches read as plain percentages.
# Most grids keep most promises: amber at 80 % so the differences that matter show (red below, green to 100 %).
RATE_STOPS: tuple[tuple[float, str], ...] = ((0.0, "#d73027"), (0.8, "#fdae61"), (1.0, "#1a9850"))
NO_DATA = "#c9c9c9"
MAP_BACKGROUND = "#f5f5f2"
GRID_OUTLINE = "#4d4d4d"
STATE_COLOURS: Mapping[str, str] = {
    "new": "#2166ac",
    "claimed": "#762a83",
    "on_site": "#e08214",
    "resolved": "#1b7837",
    "closed": "#7f7f7f",
}
UNKNOWN_STATE = "#999999"
OVERDUE = "#d7191c"
PIN_OUTLINE = "#ffffff"
SERIES_COLOURS = ("#2166ac", "#e08214", "#1b7837", "#762a83", "#d7191c", "#7f7f7f")
TEXT = "#222222"
MUTED = "#777777"
AXIS = "#888888"
GRIDLINE = "#e6e6e6"
HALO = "#ffffff"

MARGIN = 16
FONT_SIZE = 11
PIN_RADIUS = 5.0
CLUSTER_PX = 2 * PIN_RADIUS  # pins closer than this would hide each other: they are drawn as one, with a count
URGENT_RADIUS = 7.5
# About 10 m: a lone pin (or a degenerate grid) still gets a finite scale.
MIN_SPAN = 1e-4
# XML 1.0 forbids these even escaped, and a name pasted from a spreadsheet can carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

Point = tuple[float, float]
# A tooltip element for series n at label i showing its value.
_Tip = Callable[[int, int, float], str]


@dataclass(frozen=True)
class Tiles:
    """A base map under the grids: an XYZ tile URL ({z}/{x}/{y}, Web Mercator), the datum its streets are drawn in
    (wgs84, or gcj02 for Chinese commercial maps, which are shifted by law), and the credit its licence asks for."""

    url: str
    crs: str = "wgs84"
    attribution: str = ""
    max_zoom: int = 18


@dataclass(frozen=True)
class GridShape:
    """A grid: exterior rings in WGS84 (lon, lat), this month's on-time rate (0..1, None = no data), its page."""

    code: str
    name: str
    rings: list[list[tuple[float, float]]]
    rate: float | None = None
    href: str | None = None


@dataclass(frozen=True)
class Pin:
    """A case on the map: its number, position, state and flags, its page and its tooltip."""

    label: str
    lat: float
    lon: float
    state: str
    overdue: bool = False
    urgent: bool = False
    href: str | None = None
    title: str = ""


@dataclass(frozen=True)
class Legend:
    """The map key's texts, localized by the caller; `states` maps a case state to its name, in display order."""

    rate: str
    no_data: str
    states: Mapping[str, str]
    overdue: str
    urgent: str = ""


@dataclass(frozen=True)
class Series:
    """One line or one bar per label; None leaves a gap; colour None takes the next of the palette."""

    name: str
    values: Sequence[float | None]
    colour: str | None = None


def _esc(value: str) -> str:
    return html.escape(_NOT_XML.sub("", value), quote=True)


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _el(tag: str, body: str | None = None, **attrs: str | float | None) -> str:
    """An element; `body` is markup already escaped, attribute names map font_size → font-size, class_ → class."""
    head = tag
    for key, value in attrs.items():
        if value is not None:
            text = _num(value) if isinstance(value, float) else str(value)
            head += f' {key.rstrip("_").replace("_", "-")}="{_esc(text)}"'
    return f"<{head}/>" if body is None else f"<{head}>{body}</{tag}>"


def _text(x: float, y: float, text: str, size: float = FONT_SIZE, **attrs: str | float | None) -> str:
    return _el("text", _esc(text), **{"x": x, "y": y, "font_size": size, "fill": TEXT, **attrs})


def _title(text: str) -> str:
    return f"<title>{_esc(text)}</title>"


def _link(href: str | None, body: str) -> str:
    """`body` inside a link to `href`, or bare when there is none or it is not a plain web address."""
    if not href:
        return body
    clean = _NOT_XML.sub("", href).strip()
    try:
        scheme = urlsplit(clean).scheme.lower()
    except ValueError:
        return body
    # Links lead to the console's own pages; javascript: or data: would run in the page that inlines the SVG.
    return _el("a", body, href=clean) if scheme in ("", "http", "https") else body


def _width(text: str, size: float = FONT_SIZE) -> float:
    """Roughly how wide `text` renders: CJK glyphs are square, Latin about 0.6 em (no font metrics server-side)."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def _svg(width: int, height: int, label: str, body: str) -> str:
    size: dict[str, str | float | None] = {"viewBox": f"0 0 {width} {height}", "width": width, "height": height}
    return _el("svg", body, xmlns=SVG_NS, **size, role="img", aria_label=label, font_family=FONT)


def _mix(a: str, b: str, t: float) -> str:
    ca, cb = (tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in (a, b))
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


def rate_colour(rate: float | None) -> str:
    """The fill for an on-time rate (0..1, clamped); grey for no data."""
    if rate is None or not math.isfinite(rate):
        return NO_DATA
    rate = min(max(rate, 0.0), 1.0)
    for (lo, lo_colour), (hi, hi_colour) in itertools.pairwise(RATE_STOPS):
        if rate <= hi:
            return _mix(lo_colour, hi_colour, (rate - lo) / (hi - lo))
    return RATE_STOPS[-1][1]


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


@dataclass(frozen=True)
class _Fit:
    """Planar coordinates (y pointing down) scaled to fill the map area inside its margins, and centred."""

    x0: float
    y0: float
    scale: float
    dx: float
    dy: float

    @classmethod
    def of(cls, points: Sequence[Point], width: float, height: float, min_span: float) -> _Fit:
        """The fit of these points; `min_span` keeps a lone point (or a degenerate grid) at a finite scale."""
        xs, ys = [x for x, _ in points], [y for _, y in points]
        span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
        scale = min(
            max(width - 2 * MARGIN, 1) / max(span_x, min_span), max(height - 2 * MARGIN, 1) / max(span_y, min_span)
        )
        return cls(min(xs), min(ys), scale, (width - span_x * scale) / 2, (height - span_y * scale) / 2)

    def at(self, x: float, y: float) -> Point:
        """A planar point in pixels."""
        return self.dx + (x - self.x0) * self.scale, self.dy + (y - self.y0) * self.scale


def _projector(points: Sequence[Point], width: float, height: float) -> Callable[[float, float], Point]:
    """Equirectangular lon/lat → pixels, x scaled by cos(mean latitude), fitted and centred, north up."""
    lats = [lat for _, lat in points]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))
    fit = _Fit.of([(lon * k, -lat) for lon, lat in points], width, height, MIN_SPAN)
    return lambda lon, lat: fit.at(lon * k, -lat)


def _mercator(lon: float, lat: float) -> Point:
    """WGS84 (or any lon/lat) → Web Mercator world coordinates, 0..1 from west to east and north to south."""
    lat = max(min(lat, 85.05112878), -85.05112878)
    s = math.sin(math.radians(lat))
    return (lon + 180.0) / 360.0, 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def _tiled(
    points: Sequence[Point], width: float, height: float, tiles: Tiles
) -> tuple[Callable[[float, float], Point], str]:
    """A Web Mercator projection fitted like `_projector`, and the tiles that cover the map under it."""
    # Chinese commercial maps draw streets in GCJ-02: move our WGS84 shapes the same way so they sit on them.
    shift = wgs84_to_gcj02 if tiles.crs == "gcj02" else (lambda lon, lat: (lon, lat))
    fit = _Fit.of([_mercator(*shift(lon, lat)) for lon, lat in points], width, height, MIN_SPAN / 360.0)

    def project(lon: float, lat: float) -> Point:
        return fit.at(*_mercator(*shift(lon, lat)))

    # The zoom whose 256-pixel tiles are drawn at 256–512 pixels: sharp enough, and few requests.
    z = max(0, min(tiles.max_zoom, math.floor(math.log2(max(fit.scale / 256, 1)))))
    n, size = 2**z, fit.scale / 2**z
    # The tiles under the map area: its corners in world coordinates, times the number of tiles across the world.
    first_x, last_x = (math.floor((fit.x0 + (px - fit.dx) / fit.scale) * n) for px in (0.0, width))
    first_y, last_y = (math.floor((fit.y0 + (py - fit.dy) / fit.scale) * n) for py in (0.0, height))
    images = []
    for tx in range(first_x, last_x + 1):
        for ty in range(max(first_y, 0), min(last_y, n - 1) + 1):
            x, y = fit.at(tx / n, ty / n)
            href = tiles.url.format(z=z, x=tx % n, y=ty)
            images.append(_el("image", href=href, x=x, y=y, width=size + 0.5, height=size + 0.5,
                              preserveAspectRatio="none"))  # fmt: skip
    layer = _el("svg", "".join(images), x=0.0, y=0.0, width=width, height=height, class_="tiles")
    return project, layer


def _area(ring: Sequence[Point]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, [*ring[1:], ring[0]], strict=True)) / 2


def _centroid(ring: Sequence[Point]) -> Point:
    area = _area(ring)
    if abs(area) < 1e-9:
        return sum(x for x, _ in ring) / len(ring), sum(y for _, y in ring) / len(ring)
    pairs = list(zip(ring, [*ring[1:], ring[0]], strict=True))
    cx = sum((x0 + x1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in pairs) / (6 * area)
    cy = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in pairs) / (6 * area)
    return cx, cy


def _rings(grid: GridShape) -> list[list[Point]]:
    """The grid's drawable rings: finite points only, at least a triangle."""
    rings = [[(x, y) for x, y in ring if math.isfinite(x) and math.isfinite(y)] for ring in grid.rings]
    return [ring for ring in rings if len(ring) >= 3]


def _grid(
    grid: GridShape,
    rings: list[list[Point]],
    project: Callable[[float, float], Point],
    no_data: str,
    opacity: float = 0.85,
) -> str:
    screen = [[project(lon, lat) for lon, lat in ring] for ring in rings]
    if not screen:
        return ""
    d = " ".join("M" + " L".join(f"{_num(x)} {_num(y)}" for x, y in ring) + " Z" for ring in screen)
    rate = no_data if grid.rate is None else _percent(grid.rate)
    body = _title(f"{grid.name}: {rate}") + _el(
        "path", d=d, fill=rate_colour(grid.rate), fill_opacity=opacity, stroke=GRID_OUTLINE, stroke_width=0.8
    )
    largest = max(screen, key=lambda ring: abs(_area(ring)))
    xs, ys, size = [x for x, _ in largest], [y for _, y in largest], FONT_SIZE - 1
    if max(xs) - min(xs) >= _width(grid.name, size) + 6 and max(ys) - min(ys) >= 2 * size:
        cx, cy = _centroid(largest)
        halo: dict[str, str | float | None] = {
            "stroke": HALO,
            "stroke_width": 2.5,
            "paint_order": "stroke",
            "stroke_linejoin": "round",
        }
        body += _text(cx, cy + size / 3, grid.name, size, text_anchor="middle", **halo)
    return _link(grid.href, _el("g", body, class_="grid", data_code=grid.code))


def _pin(pin: Pin, project: Callable[[float, float], Point], count: int = 1) -> str:
    x, y = project(pin.lon, pin.lat)
    r = URGENT_RADIUS if pin.urgent else PIN_RADIUS
    body = _title(pin.title or pin.label)
    if pin.overdue:
        body += _el("circle", cx=x, cy=y, r=r + 2.5, fill="none", stroke=OVERDUE, stroke_width=2.5)
    fill = STATE_COLOURS.get(pin.state, UNKNOWN_STATE)
    body += _el("circle", cx=x, cy=y, r=r, fill=fill, stroke=PIN_OUTLINE, stroke_width=1.5)
    extra: dict[str, str | float | None] = {}
    if count > 1:
        # Several cases on one spot: one pin (the most pressing), and how many there are.
        bx, by = x + r + 2, y - r - 2
        body += _el("circle", cx=bx, cy=by, r=7.5, fill=TEXT, stroke=PIN_OUTLINE, stroke_width=1)
        body += _text(
            bx, by + 3.5, str(count) if count < 100 else "99+", FONT_SIZE - 2, fill="#fff", text_anchor="middle"
        )
        extra["data_count"] = count
    classes = " ".join(["pin", f"state-{pin.state}"] + ["overdue"] * pin.overdue + ["urgent"] * pin.urgent)
    return _link(pin.href, _el("g", body, class_=classes, data_label=pin.label, **extra))


def _pins(pins: Sequence[Pin], project: Callable[[float, float], Point]) -> list[str]:
    """Pins grouped where they would cover each other (within a pin's width); the most pressing case of a group
    leads it, and overdue and urgent groups are drawn last so nothing covers them."""
    groups: list[tuple[float, float, list[Pin]]] = []
    for pin in sorted(pins, key=lambda p: (p.overdue, p.urgent), reverse=True):
        x, y = project(pin.lon, pin.lat)
        near = next((g for g in groups if (g[0] - x) ** 2 + (g[1] - y) ** 2 <= CLUSTER_PX**2), None)
        if near is None:
            groups.append((x, y, [pin]))
        else:
            near[2].append(pin)
    out = []
    for _, _, group in sorted(groups, key=lambda g: (g[2][0].overdue, g[2][0].urgent)):
        lead = group[0]
        if len(group) > 1:
            names = "、".join(p.label for p in group[:20]) + ("…" if len(group) > 20 else "")
            lead = dataclasses.replace(lead, title=f"{len(group)}: {names}")
        out.append(_pin(lead, project, len(group)))
    return out


def _map_legend(legend: Legend) -> tuple[str, float]:
    """The key drawn at the origin, and its width."""
    pad, swatch, y = 8.0, 18.0, 8.0
    rows = [_text(pad, y + FONT_SIZE, legend.rate, font_weight="bold")]
    y += FONT_SIZE + 6
    rows += [_el("rect", x=pad + i * swatch, y=y, width=swatch, height=10, fill=rate_colour(i / 4)) for i in range(5)]
    y += 10 + FONT_SIZE + 1
    rows.append(_text(pad, y, "0%", FONT_SIZE - 1, fill=MUTED))
    rows.append(_text(pad + 5 * swatch, y, "100%", FONT_SIZE - 1, fill=MUTED, text_anchor="end"))
    y += 8
    rows.append(_el("rect", x=pad, y=y, width=swatch, height=10, fill=NO_DATA))
    rows.append(_text(pad + swatch + 8, y + 9, legend.no_data))
    y += 22
    markers = [
        (name, STATE_COLOURS.get(state, UNKNOWN_STATE), PIN_RADIUS, False) for state, name in legend.states.items()
    ]
    markers.append((legend.overdue, UNKNOWN_STATE, PIN_RADIUS, True))
    if legend.urgent:
        markers.append((legend.urgent, UNKNOWN_STATE, URGENT_RADIUS, False))
    for name, fill, r, overdue in markers:
        cx, cy = pad + 9, y + 8
        if overdue:
            rows.append(_el("circle", cx=cx, cy=cy, r=r + 2.5, fill="none", stroke=OVERDUE, stroke_width=2.5))
        rows.append(_el("circle", cx=cx, cy=cy, r=r, fill=fill, stroke=PIN_OUTLINE, stroke_width=1.5))
        rows.append(_text(pad + 26, y + 12, name))
        y += 20
    widths = [_width(legend.rate) * 1.1, 5 * swatch, swatch + 8 + _width(legend.no_data)]
    width = 2 * pad + max(widths + [26 + _width(name) for name, *_ in markers])
    box = _el("rect", x=0.5, y=0.5, width=width, height=y + pad / 2, rx=4, fill="#ffffff", stroke="#cccccc")
    return box + "".join(rows), width


def map_svg(
    grids: Sequence[GridShape],
    pins: Sequence[Pin],
    width: int = 900,
    height: int = 640,
    legend: Legend | None = None,
    *,
    title: str = "",
    tiles: Tiles | None = None,
) -> str:
    """The grids coloured by on-time rate with case pins on top, and the key when given, as one SVG document."""
    shown = [p for p in pins if math.isfinite(p.lon) and math.isfinite(p.lat)]
    shapes = [(g, _rings(g)) for g in grids]
    points = [pt for _, rings in shapes for ring in rings for pt in ring] + [(p.lon, p.lat) for p in shown]
    parts, key, map_width = [_el("rect", width=width, height=height, fill=MAP_BACKGROUND)], "", float(width)
    if legend is not None:
        box, box_width = _map_legend(legend)
        map_width = max(width - box_width - MARGIN, width / 2)
        key = _el("g", box, class_="legend", transform=f"translate({_num(map_width)} {MARGIN})")
    if points:
        opacity = 0.85
        if tiles is not None:
            project, layer = _tiled(points, map_width, height, tiles)
            parts.append(layer)
            opacity = 0.5  # the streets show through
            if tiles.attribution:
                key += _text(map_width - 4, height - 4, tiles.attribution, FONT_SIZE - 2, text_anchor="end", fill=MUTED)
        else:
            project = _projector(points, map_width, height)
        no_data = legend.no_data if legend else "—"
        parts += [_grid(g, rings, project, no_data, opacity) for g, rings in shapes]
        # Overdue and urgent cases are drawn last so nothing covers them.
        parts += _pins(shown, project)
    return _svg(width, height, title or ", ".join(g.name for g in grids), "".join(parts) + key)


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ at or above `value`; 1 when nothing is positive."""
    if not value > 0:
        return 1.0
    base = 10.0 ** math.floor(math.log10(value))
    for m in (1, 2, 5):
        if m * base >= value * (1 - 1e-9):
            return m * base
    return 10 * base


def _ticks(values: Sequence[float], percent: bool) -> list[float]:
    """The y axis from 0 to its top (100% for rates, a nice maximum otherwise); whole steps for whole numbers."""
    if percent:
        return [i / 5 for i in range(6)]
    top = nice_max(max(values))
    step = top / (4 if round(top / 10 ** math.floor(math.log10(top) + 1e-9)) == 2 else 5)
    if all(float(v).is_integer() for v in values):
        step = max(step, 1.0)
    return [i * step for i in range(round(top / step) + 1)]


def _format(value: float, percent: bool) -> str:
    if percent:
        return _percent(value)
    return f"{value:.0f}" if float(value).is_integer() else f"{round(value, 2):g}"


def _value(values: Sequence[float | None], i: int) -> float | None:
    value = values[i] if i < len(values) else None
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class _Frame:
    """The plot area in pixels, the axis top, and the width of one label's slot."""

    x0: float
    y0: float
    x1: float
    y1: float
    top: float
    slot: float

    def x(self, i: int) -> float:
        """The centre of label i's slot."""
        return self.x0 + (i + 0.5) * self.slot

    def y(self, value: float) -> float:
        """A value's height; negatives sit on the axis and a rate above 100% at the top."""
        return self.y1 - min(max(value, 0.0), self.top) / self.top * (self.y1 - self.y0)


def _axes(frame: _Frame, ticks: list[float], labels: Sequence[str], percent: bool) -> list[str]:
    parts = []
    for t in ticks:
        parts.append(_el("line", x1=frame.x0, x2=frame.x1, y1=frame.y(t), y2=frame.y(t), stroke=GRIDLINE))
        parts.append(
            _text(frame.x0 - 6, frame.y(t) + 4, _format(t, percent), FONT_SIZE - 1, fill=MUTED, text_anchor="end")
        )
    # Thin out the x labels so the widest still fits (31 days of a month on 640 px).
    every = max(1, math.ceil((max(_width(t, FONT_SIZE - 1) for t in labels) + 8) / frame.slot))
    for i, text in enumerate(labels):
        if i % every == 0:
            parts.append(_text(frame.x(i), frame.y1 + 15, text, FONT_SIZE - 1, fill=MUTED, text_anchor="middle"))
    return parts


def _bars(
    frame: _Frame, rows: list[list[float | None]], colours: list[str], tip: _Tip, percent: bool = False
) -> list[str]:
    bar = min(frame.slot * 0.8 / len(rows), 36.0)
    parts = []
    for n, (row, colour) in enumerate(zip(rows, colours, strict=True)):
        for i, v in enumerate(row):
            if v is not None:
                x, y = frame.x(i) - bar * len(rows) / 2 + n * bar, frame.y(v)
                width, height = max(bar - 1, 1.0), frame.y1 - y
                parts.append(_el("rect", tip(n, i, v), x=x, y=y, width=width, height=height, fill=colour))
                label = _format(v, percent)
                if v and _width(label, FONT_SIZE - 2) <= bar + 6:
                    # The value on the bar itself, where there is room: read without hovering.
                    parts.append(_text(x + width / 2, y - 3, label, FONT_SIZE - 2, fill=MUTED, text_anchor="middle"))
    return parts


def _lines(
    frame: _Frame, rows: list[list[float | None]], colours: list[str], tip: _Tip, percent: bool = False
) -> list[str]:
    parts = []
    for n, (row, colour) in enumerate(zip(rows, colours, strict=True)):
        runs: list[list[tuple[int, float]]] = []
        for i, v in enumerate(row):
            if v is None:
                continue
            if runs and runs[-1][-1][0] == i - 1:
                runs[-1].append((i, v))
            else:
                runs.append([(i, v)])
        for run in runs:
            if len(run) > 1:
                xy = " ".join(f"{_num(frame.x(i))},{_num(frame.y(v))}" for i, v in run)
                parts.append(_el("polyline", points=xy, fill="none", stroke=colour, stroke_width=2))
        for i, v in (point for run in runs for point in run):
            parts.append(_el("circle", tip(n, i, v), cx=frame.x(i), cy=frame.y(v), r=3, fill=colour, stroke=HALO))
        if runs:
            # Each line's latest value written beside its last point: the month a reader looks for first.
            i, v = runs[-1][-1]
            parts.append(_text(frame.x(i) + 6, frame.y(v) + 4, _format(v, percent), FONT_SIZE - 1, fill=colour))
    return parts


def _chart(
    kind: str,
    labels: Sequence[str],
    series: Sequence[Series],
    size: tuple[int, int],
    percent: bool,
    title: str,
    empty: str,
) -> str:
    width, height = size
    rows = [[_value(s.values, i) for i in range(len(labels))] for s in series]
    present = [v for row in rows for v in row if v is not None]
    colours = [s.colour or SERIES_COLOURS[n % len(SERIES_COLOURS)] for n, s in enumerate(series)]
    label = title or ", ".join(s.name for s in series if s.name) or empty
    parts: list[str] = []
    top = MARGIN / 2
    if title:
        parts.append(_text(MARGIN / 2, 17, title, FONT_SIZE + 2, font_weight="bold"))
        top = 26
    if not present:
        parts.append(_text(width / 2, (top + height) / 2, empty, FONT_SIZE + 1, fill=MUTED, text_anchor="middle"))
        return _svg(width, height, label, "".join(parts))
    if any(s.name for s in series):
        x = MARGIN / 2
        for s, colour in zip(series, colours, strict=True):
            if s.name:
                parts.append(_el("rect", x=x, y=top + 1, width=10, height=10, fill=colour))
                parts.append(_text(x + 14, top + 10, s.name))
                x += 28 + _width(s.name)
        top += 18
    ticks = _ticks(present, percent)
    x0 = max(_width(_format(t, percent), FONT_SIZE - 1) for t in ticks) + 12
    # Room on the right for the lines' latest values.
    right = MARGIN + (30 if kind == "line" else 0)
    frame = _Frame(x0, top + 8, width - right, height - 22.0, ticks[-1], (width - right - x0) / len(labels))

    def tip(n: int, i: int, value: float) -> str:
        where = f"{labels[i]} · {series[n].name}" if series[n].name else labels[i]
        return _title(f"{where}: {_format(value, percent)}")

    parts += _axes(frame, ticks, labels, percent)
    parts += (_bars if kind == "bar" else _lines)(frame, rows, colours, tip, percent)
    parts.append(_el("line", x1=frame.x0, x2=frame.x1, y1=frame.y1, y2=frame.y1, stroke=AXIS))
    return _svg(width, height, label, "".join(parts))


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    width: int = 640,
    height: int = 260,
    percent: bool = False,
    title: str = "",
    empty: str = "—",
) -> str:
    """Grouped bars, one group per label and one bar per series (percent: values are 0..1 on a 0–100% axis)."""
    return _chart("bar", labels, series, (width, height), percent, title, empty)


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    width: int = 640,
    height: int = 260,
    percent: bool = False,
    title: str = "",
    empty: str = "—",
) -> str:
    """One line per series across the labels, broken where a value is None (percent: values are 0..1)."""
    return _chart("line", labels, series, (width, height), percent, title, empty)

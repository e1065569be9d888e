"""Server-side SVG for the console: parsed back as XML and measured, on two grids in Jinan."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from desk.console.svg import (
    RATE_STOPS,
    GridShape,
    Legend,
    Pin,
    Series,
    Tiles,
    bar_chart,
    line_chart,
    map_svg,
    nice_max,
    rate_colour,
)
from domain.org.crs import wgs84_to_gcj02

NS = {"s": "http://www.w3.org/2000/svg"}
HOSTILE = "<script>&\"'"
LEGEND = Legend(
    rate="按时办结率",
    no_data="暂无数据",
    states={"new": "待接单", "claimed": "已接单", "on_site": "已到场", "resolved": "已办结", "closed": "已关闭"},
    overdue="已超时",
    urgent="紧急",
)


def square(lon: float, lat: float, side: float = 0.004, tall: float = 1.0) -> list[tuple[float, float]]:
    """A closed ring `side` degrees of longitude wide and `side * tall` degrees of latitude high."""
    h = side * tall
    return [(lon, lat), (lon + side, lat), (lon + side, lat + h), (lon, lat + h), (lon, lat)]


def jinan() -> list[GridShape]:
    """Two neighbouring square grids in Lixia, Jinan: one doing well, one without data."""
    return [
        GridShape("G1", "甜水井网格", [square(117.020, 36.650)], 0.92, "/grids/G1"),
        GridShape("G2", "大明湖网格", [square(117.024, 36.650)], None, "/grids/G2"),
    ]


def pin(
    label: str,
    lat: float,
    lon: float,
    state: str = "new",
    overdue: bool = False,
    urgent: bool = False,
    href: str | None = None,
    title: str = "",
) -> Pin:
    """A new, ordinary case pin unless told otherwise; its tooltip is its number."""
    return Pin(label, lat, lon, state, overdue, urgent, href, title or label)


def parse(svg: str) -> ET.Element:
    """The document as XML, checked for the accessibility attributes every SVG carries."""
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") is not None
    return root


def box(path: ET.Element) -> tuple[float, float, float, float]:
    """A path's bounding box (min x, min y, max x, max y) from its M/L coordinates."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def child(element: ET.Element, path: str) -> ET.Element:
    """The first match of `path` under `element`, which must exist."""
    found = element.find(path, NS)
    assert found is not None
    return found


def grid_paths(root: ET.Element) -> list[ET.Element]:
    """The grid fills, in drawing order."""
    return root.findall(".//s:g[@class='grid']/s:path", NS)


def test_map_parses_with_links_tooltips_labels_and_legend() -> None:
    pins = [pin("SB1001", 36.652, 117.022, href="/cases/SB1001", title="SB1001 井盖松动")]
    root = parse(map_svg(jinan(), pins, legend=LEGEND))
    links = [a.get("href") for a in root.iter("{http://www.w3.org/2000/svg}a")]
    assert links == ["/grids/G1", "/grids/G2", "/cases/SB1001"]
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert titles == ["甜水井网格: 92%", "大明湖网格: 暂无数据", "SB1001 井盖松动"]
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"甜水井网格", "大明湖网格", "按时办结率", "暂无数据", "已到场", "已超时", "紧急", "0%", "100%"} <= texts
    assert root.get("aria-label") == "甜水井网格, 大明湖网格"
    assert parse(map_svg(jinan(), [], title="历下区网格")).get("aria-label") == "历下区网格"


def test_hostile_names_appear_only_escaped() -> None:
    grid = GridShape("<G>", HOSTILE, [square(117.02, 36.65)], 0.5, '/grids/1?a=1&b="2"')
    hostile_pin = pin(HOSTILE, 36.651, 117.021, state=HOSTILE, title=HOSTILE, href="/cases/<x>")
    legend = Legend(HOSTILE, HOSTILE, {HOSTILE: HOSTILE}, HOSTILE, HOSTILE)
    charts = [
        bar_chart([HOSTILE], [Series(HOSTILE, [1.0], colour=HOSTILE)], title=HOSTILE),
        line_chart([HOSTILE, "b"], [Series(HOSTILE, [1.0, 2.0])], title=HOSTILE),
        bar_chart([], [], title=HOSTILE, empty=HOSTILE),
    ]
    for svg in [map_svg([grid], [hostile_pin], legend=legend, title=HOSTILE), *charts]:
        assert "<script" not in svg and HOSTILE not in svg
        assert "&lt;script&gt;&amp;&quot;&#x27;" in svg
        root = parse(svg)
        assert HOSTILE in {t.text for t in root.iter()} | {v for el in root.iter() for v in el.attrib.values()}


def test_control_characters_and_scripted_links_are_dropped() -> None:
    grid = GridShape("G", "网格\x00\x07一", [square(117.02, 36.65)], 0.5, "javascript:alert(1)")
    sneaky = pin("SB1", 36.651, 117.021, href=" JavaScript:alert(1)")
    root = parse(map_svg([grid], [sneaky, pin("SB2", 36.652, 117.022, href="https://desk.example/cases/SB2")]))
    assert [a.get("href") for a in root.iter("{http://www.w3.org/2000/svg}a")] == ["https://desk.example/cases/SB2"]
    assert root.find(".//s:title", NS) is not None
    assert root.findall(".//s:title", NS)[0].text == "网格一: 50%"


def test_projection_keeps_north_up_and_the_aspect() -> None:
    # 0.004° of longitude by 0.008° of latitude: at 36.65° N that is about 357 m by 889 m on the ground.
    tall = GridShape("T", "高网格", [square(117.02, 36.65, tall=2.0)], 0.8, None)
    north, south = pin("N", 36.657, 117.022), pin("S", 36.651, 117.022)
    root = parse(map_svg([tall], [north, south], width=900, height=640))
    x0, y0, x1, y1 = box(grid_paths(root)[0])
    expected = 0.008 / (0.004 * 0.8021)  # cos(36.654°)
    assert abs((y1 - y0) / (x1 - x0) - expected) < 0.02
    assert y1 - y0 > x1 - x0
    ys = {
        g.get("data-label"): float(child(g, "s:circle").get("cy", "")) for g in root.findall(".//s:g[@data-label]", NS)
    }
    assert ys["N"] < ys["S"]
    # Wide enough map: the height is the limit and it is used to the margin.
    assert 640 - (y1 - y0) < 40


def test_two_grids_sit_side_by_side_west_to_east() -> None:
    root = parse(map_svg(jinan(), []))
    west, east = (box(path) for path in grid_paths(root))
    assert abs(west[2] - east[0]) < 0.1 and abs(west[1] - east[1]) < 0.1
    assert abs((west[2] - west[0]) - (east[2] - east[0])) < 0.1


def test_colour_scale_endpoints_and_no_data() -> None:
    assert rate_colour(0.0) == RATE_STOPS[0][1]
    assert rate_colour(1.0) == RATE_STOPS[-1][1]
    assert rate_colour(RATE_STOPS[1][0]) == RATE_STOPS[1][1]
    assert rate_colour(-3) == rate_colour(0.0) and rate_colour(7) == rate_colour(1.0)
    assert rate_colour(None) == rate_colour(float("nan")) == "#c9c9c9"
    assert rate_colour(0.4) not in {rate_colour(0.0), rate_colour(RATE_STOPS[1][0])}
    fills = [path.get("fill") for path in grid_paths(parse(map_svg(jinan(), [])))]
    assert fills == [rate_colour(0.92), "#c9c9c9"]


def test_pins_stay_inside_the_viewbox_even_outside_every_grid() -> None:
    pins = [
        pin("SB1", 36.652, 117.022),
        pin("SB2", 36.70, 117.10, state="closed"),  # far outside both grids, north-east
        pin("SB3", 36.60, 116.95, state="on_site"),
    ]
    for legend in (None, LEGEND):
        root = parse(map_svg(jinan(), pins, width=600, height=400, legend=legend))
        circles = root.findall(".//s:g[@data-label]/s:circle", NS)
        assert len(circles) == 3
        for c in circles:
            x, y, r = (float(c.get(k, "")) for k in ("cx", "cy", "r"))
            assert r <= x <= 600 - r and r <= y <= 400 - r
    assert len(grid_paths(root)) == 2


def test_overdue_and_urgent_pins_are_marked_and_drawn_last() -> None:
    pins = [
        pin("SB1", 36.651, 117.021, overdue=True),
        pin("SB2", 36.652, 117.022, urgent=True, state="claimed"),
        pin("SB3", 36.653, 117.023, state="resolved"),
    ]
    root = parse(map_svg(jinan(), pins))
    groups = {g.get("data-label"): g for g in root.findall(".//s:g[@data-label]", NS)}
    assert list(groups) == ["SB3", "SB2", "SB1"]
    assert groups["SB1"].get("class") == "pin state-new overdue"
    assert groups["SB2"].get("class") == "pin state-claimed urgent"
    overdue, urgent, plain = (g.findall("s:circle", NS) for g in (groups["SB1"], groups["SB2"], groups["SB3"]))
    assert len(overdue) == 2 and overdue[0].get("stroke") == "#d7191c" and overdue[0].get("fill") == "none"
    assert len(urgent) == len(plain) == 1
    assert float(urgent[0].get("r", "")) > float(plain[0].get("r", ""))
    assert plain[0].get("fill") != urgent[0].get("fill")


def test_empty_map_and_lone_pin() -> None:
    root = parse(map_svg([], []))
    assert root.get("viewBox") == "0 0 900 640"
    assert root.findall(".//s:circle", NS) == [] and root.findall(".//s:path", NS) == []
    parse(map_svg([], [], legend=LEGEND))
    parse(map_svg([GridShape("G", "空", [], None, None)], []))
    lone = parse(map_svg([], [pin("SB1", 36.65, 117.02)], width=300, height=200))
    circle = lone.find(".//s:circle", NS)
    assert circle is not None and (circle.get("cx"), circle.get("cy")) == ("150", "100")


def test_small_grid_gets_no_label() -> None:
    city = GridShape("C", "城区", [square(117.0, 36.6, side=0.2)], 0.7, None)
    tiny = GridShape("T", "一个名字很长的小网格", [square(117.1, 36.7, side=0.0005)], 0.7, None)
    texts = [t.text for t in parse(map_svg([city, tiny], [])).iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["城区"]


def test_bar_chart_groups_series_with_gaps_and_a_nice_axis() -> None:
    svg = bar_chart(
        ["1月", "2月", "3月"],
        [Series("上报", [12, None, 31]), Series("办结", [10, 7, None], colour="#123456")],
        title="案件数",
    )
    root = parse(svg)
    assert root.get("aria-label") == "案件数"
    bars = root.findall("s:rect", NS)[2:]  # after the two legend swatches
    assert [child(b, "s:title").text for b in bars] == [
        "1月 · 上报: 12",
        "3月 · 上报: 31",
        "1月 · 办结: 10",
        "2月 · 办结: 7",
    ]
    assert bars[-1].get("fill") == "#123456"
    ticks = [t.text for t in root.findall("s:text", NS) if t.get("text-anchor") == "end"]
    assert ticks == ["0", "10", "20", "30", "40", "50"]
    # 31 of 50: the bar's top sits 62% of the way up the axis.
    baseline = float(bars[0].get("y", "")) + float(bars[0].get("height", ""))
    full = baseline - float(root.findall("s:line", NS)[-2].get("y1", ""))
    assert abs(float(bars[1].get("height", "")) / full - 0.62) < 0.01


def test_percent_axis_tops_at_100_and_line_breaks_at_gaps() -> None:
    rates = Series("按时办结率", [0.8, 0.9, None, 0.95, 1.0, None, 0.7])
    root = parse(line_chart([f"{m}月" for m in range(1, 8)], [rates], percent=True))
    ticks = [t.text for t in root.findall("s:text", NS) if t.get("text-anchor") == "end"]
    assert ticks == ["0%", "20%", "40%", "60%", "80%", "100%"]
    lines = root.findall("s:polyline", NS)
    assert [len(line.get("points", "").split()) for line in lines] == [2, 2]
    points = root.findall("s:circle", NS)
    assert [child(p, "s:title").text for p in points][-1] == "7月 · 按时办结率: 70%"
    assert len(points) == 5


def test_nice_max_for_counts() -> None:
    assert [nice_max(v) for v in (0, -4, 0.3, 1, 3, 10, 11, 20, 21, 49, 51, 999, 1000, 1001)] == [
        1, 1, 0.5, 1, 5, 10, 20, 20, 50, 50, 100, 1000, 1000, 2000
    ]  # fmt: skip
    small = parse(bar_chart(["a", "b"], [Series("", [1, 2])]))
    assert [t.text for t in small.findall("s:text", NS) if t.get("text-anchor") == "end"] == ["0", "1", "2"]
    hours = parse(bar_chart(["a"], [Series("", [0.3])]))
    assert [t.text for t in hours.findall("s:text", NS) if t.get("text-anchor") == "end"][-1] == "0.5"


def test_empty_charts_say_so() -> None:
    for svg in (
        bar_chart([], [], empty="暂无数据"),
        line_chart(["1月", "2月"], [Series("上报", [None, None])], empty="暂无数据"),
        bar_chart(["1月"], [], title="案件数", empty="暂无数据"),
    ):
        root = parse(svg)
        assert "暂无数据" in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert root.findall(".//s:rect", NS) == [] and root.findall(".//s:polyline", NS) == []


def _tile_of(lon: float, lat: float, z: int) -> tuple[float, float]:
    """The slippy-map tile coordinates of a point, fractional (OpenStreetMap's published formula)."""
    n = 2**z
    return (lon + 180) / 360 * n, (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n


def test_a_base_map_of_tiles_sits_under_the_grids_where_the_streets_are() -> None:
    pins = [pin("SB1", 36.652, 117.022)]
    for crs in ("wgs84", "gcj02"):
        tiles = Tiles("https://tiles.example.org/{z}/{x}/{y}.png", crs, "© 地图数据提供方")
        root = parse(map_svg(jinan(), pins, legend=LEGEND, tiles=tiles))
        images = root.findall(".//s:svg[@class='tiles']/s:image", NS)
        assert images, crs
        keys = [re.fullmatch(r"https://tiles\.example\.org/(\d+)/(\d+)/(\d+)\.png", i.get("href", "")) for i in images]
        assert all(keys)
        z = {int(k.group(1)) for k in keys if k}.pop()
        assert 13 <= z <= 18  # two 400 m grids fill the map: street-level tiles
        at = {(int(k.group(2)), int(k.group(3))): img for k, img in zip(keys, images, strict=True) if k}
        # The pin is drawn where its tile says it is: same tile, same offset within it.
        lon, lat = (117.022, 36.652) if crs == "wgs84" else wgs84_to_gcj02(117.022, 36.652)
        tx, ty = _tile_of(lon, lat, z)
        image = at[(int(tx), int(ty))]
        size = float(image.get("width", 0)) - 0.5
        circle = child(root, ".//s:g[@data-label='SB1']/s:circle")
        assert abs(float(image.get("x", 0)) + (tx % 1) * size - float(circle.get("cx", 0))) < 0.5
        assert abs(float(image.get("y", 0)) + (ty % 1) * size - float(circle.get("cy", 0))) < 0.5
        # The tiles cover the whole map area, and the credit is printed.
        left = min(float(i.get("x", 0)) for i in images)
        top = min(float(i.get("y", 0)) for i in images)
        assert left <= 0 and top <= 0
        assert "© 地图数据提供方" in {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    # Without tiles nothing at all is fetched.
    assert "<image" not in map_svg(jinan(), pins, legend=LEGEND)


def test_pins_on_one_spot_are_one_pin_with_a_count() -> None:
    pins = [
        pin("SB1", 36.651, 117.021),
        pin("SB2", 36.651, 117.021, overdue=True),
        pin("SB3", 36.6510001, 117.0210001, state="claimed"),
        pin("SB4", 36.655, 117.025),
    ]
    root = parse(map_svg(jinan(), pins))
    groups = {g.get("data-label"): g for g in root.findall(".//s:g[@data-label]", NS)}
    assert set(groups) == {"SB2", "SB4"}  # the overdue one leads its spot
    assert groups["SB2"].get("data-count") == "3" and groups["SB4"].get("data-count") is None
    title = groups["SB2"].find("s:title", NS)
    assert title is not None and "SB1" in (title.text or "") and "SB3" in (title.text or "")

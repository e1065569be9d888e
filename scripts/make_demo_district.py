"""Generate the fictional demo district: bot/demo/district.geojson and bot/demo/places.json.

青禾街道 (code QH) is an invented street office in a Shandong city. Its grids tile the
blocks between invented roads; the 清溪河 river and the riverside 清溪公园 park belong to
no grid, so points exist inside the district that fall in no grid.

The output is deterministic (fixed seed, fixed rounding); run:

    python scripts/make_demo_district.py
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, Polygon

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "bot" / "demo"
DISTRICT_PATH = OUT_DIR / "district.geojson"
PLACES_PATH = OUT_DIR / "places.json"

SEED = 20240515
NDIGITS = 6  # ~0.1 m; shared vertices are rounded once, so neighbours stay identical

Coord = tuple[float, float]  # (lon, lat)

# Invented north-south roads, west to east (base longitude of each).
NS_ROADS: list[tuple[str, float]] = [
    ("柳泉路", 117.0120),
    ("杏林路", 117.0172),
    ("青禾路", 117.0218),
    ("书院街", 117.0273),
    ("桃园路", 117.0322),
    ("东关路", 117.0372),
]
# Invented east-west lines, south to north. Lines 2 and 3 are the banks of the river.
EW_LINES: list[tuple[str, float]] = [
    ("南环路", 36.6520),
    ("文华街", 36.6558),
    ("滨河南路", 36.6592),
    ("滨河北路", 36.6598),  # base only; the north bank follows the south bank
    ("明湖街", 36.6634),
    ("北园路", 36.6674),
]
RIVER_NAME = "清溪河"
PARK_NAME = "清溪公园"
# Row index -> index of the EW line at the bottom of that row (the river sits between rows 1 and 2).
ROW_BOTTOM_LINE = [0, 1, 3, 4]
PARK_CELL = (2, 1)  # (column, row): riverside park, not in any grid

STREET = {"code": "QH", "name": "青禾街道"}
# code, name, cells (column, row) in grid-number order
COMMUNITIES: list[tuple[str, str, list[tuple[int, int]]]] = [
    ("QH-01", "杏林社区", [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1)]),
    ("QH-02", "桃园社区", [(3, 0), (4, 0), (3, 1), (4, 1)]),
    ("QH-03", "柳泉社区", [(0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]),
    ("QH-04", "书院社区", [(2, 2), (3, 2), (4, 2), (3, 3), (4, 3)]),
]
ZH_NUM = ["一", "二", "三", "四", "五", "六", "七", "八", "九"]

M_PER_DEG_LAT = 111_320.0


def _r(x: float) -> float:
    """Round a coordinate to the fixed precision."""
    return round(x, NDIGITS)


def m_per_deg_lon(lat: float) -> float:
    """Metres per degree of longitude at the given latitude."""
    return M_PER_DEG_LAT * math.cos(math.radians(lat))


def haversine_m(a: Coord, b: Coord) -> float:
    """Great-circle distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


class RoadNetwork:
    """Jittered road intersections plus bends on road segments, shared by neighbouring blocks."""

    def __init__(self, rng: random.Random) -> None:
        """Build nodes and segment bends deterministically from rng."""
        self.rng = rng
        self.ncols = len(NS_ROADS) - 1
        self.nodes: dict[tuple[int, int], Coord] = {}
        self.river_width: dict[int, float] = {}
        for i, (_, lon) in enumerate(NS_ROADS):
            for j, (_, lat) in enumerate(EW_LINES):
                if j == 3:
                    continue
                jlon = rng.uniform(-0.00035, 0.00035)
                jlat = rng.uniform(-0.00028, 0.00028)
                if j == 2:
                    jlat = rng.uniform(-0.00012, 0.00012)  # keep the river course smooth
                self.nodes[(i, j)] = (_r(lon + jlon), _r(lat + jlat))
            # north bank: same road crosses the river on a bridge; width 45-75 m
            width = rng.uniform(0.00040, 0.00068)
            self.river_width[i] = width
            slon, slat = self.nodes[(i, 2)]
            self.nodes[(i, 3)] = (_r(slon + rng.uniform(-0.00005, 0.00005)), _r(slat + width))
        # Bends: key ("h", i, j) = segment from node (i, j) to (i+1, j); ("v", i, j) = (i, j) to (i, j+1)
        self.bends: dict[tuple[str, int, int], Coord] = {}
        for j in range(len(EW_LINES)):
            for i in range(self.ncols):
                if j == 2:
                    self._river_bend(i)
                elif j != 3 and rng.random() < 0.55:
                    self.bends[("h", i, j)] = self._bend(self.nodes[(i, j)], self.nodes[(i + 1, j)])
        for i in range(len(NS_ROADS)):
            for j in (0, 1, 3, 4):
                if rng.random() < 0.55:
                    self.bends[("v", i, j)] = self._bend(self.nodes[(i, j)], self.nodes[(i, j + 1)])
        # every block gets at least one bend, so each polygon has 5-8 vertices
        for c in range(self.ncols):
            for row in range(len(ROW_BOTTOM_LINE)):
                if not self._cell_edges_with_bends(c, row):
                    key = rng.choice(self._cell_edge_keys(c, row))
                    a, b = self._edge_ends(key)
                    self.bends[key] = self._bend(a, b)

    def _bend(self, a: Coord, b: Coord) -> Coord:
        """A point part-way along a-b, pushed sideways by 15-40 m."""
        t = self.rng.uniform(0.35, 0.65)
        lon = a[0] + (b[0] - a[0]) * t
        lat = a[1] + (b[1] - a[1]) * t
        mlon = m_per_deg_lon(lat)
        dx, dy = (b[0] - a[0]) * mlon, (b[1] - a[1]) * M_PER_DEG_LAT
        length = math.hypot(dx, dy)
        off = self.rng.choice([-1, 1]) * self.rng.uniform(15.0, 40.0)
        nx, ny = -dy / length * off, dx / length * off
        return (_r(lon + nx / mlon), _r(lat + ny / M_PER_DEG_LAT))

    def _river_bend(self, i: int) -> None:
        """Meander: a bend on the south bank, mirrored (shifted by the river width) on the north."""
        a, b = self.nodes[(i, 2)], self.nodes[(i + 1, 2)]
        t = self.rng.uniform(0.35, 0.65)
        lon = _r(a[0] + (b[0] - a[0]) * t)
        lat = a[1] + (b[1] - a[1]) * t + self.rng.choice([-1, 1]) * self.rng.uniform(0.00015, 0.00030)
        width = (self.river_width[i] + self.river_width[i + 1]) / 2
        self.bends[("h", i, 2)] = (lon, _r(lat))
        self.bends[("h", i, 3)] = (lon, _r(lat + width))

    def _edge_ends(self, key: tuple[str, int, int]) -> tuple[Coord, Coord]:
        """End nodes of a segment key."""
        kind, i, j = key
        if kind == "h":
            return self.nodes[(i, j)], self.nodes[(i + 1, j)]
        return self.nodes[(i, j)], self.nodes[(i, j + 1)]

    def _cell_edge_keys(self, c: int, row: int) -> list[tuple[str, int, int]]:
        """Segment keys of a block: bottom, right, top, left."""
        j = ROW_BOTTOM_LINE[row]
        return [("h", c, j), ("v", c + 1, j), ("h", c, j + 1), ("v", c, j)]

    def _cell_edges_with_bends(self, c: int, row: int) -> list[tuple[str, int, int]]:
        """Segment keys of a block that carry a bend."""
        return [k for k in self._cell_edge_keys(c, row) if k in self.bends]

    def cell_ring(self, c: int, row: int) -> list[Coord]:
        """Closed counter-clockwise ring of a block: SW, SE, NE, NW with bends in between."""
        j = ROW_BOTTOM_LINE[row]
        sw, se = self.nodes[(c, j)], self.nodes[(c + 1, j)]
        nw, ne = self.nodes[(c, j + 1)], self.nodes[(c + 1, j + 1)]
        ring: list[Coord] = [sw]
        for key, end in (
            (("h", c, j), se),
            (("v", c + 1, j), ne),
            (("h", c, j + 1), nw),
            (("v", c, j), sw),
        ):
            if key in self.bends:
                ring.append(self.bends[key])
            ring.append(end)
        return ring

    def river_polygon(self) -> Polygon:
        """The river strip between the two banks."""
        south: list[Coord] = []
        north: list[Coord] = []
        for i in range(self.ncols):
            south.append(self.nodes[(i, 2)])
            south.append(self.bends[("h", i, 2)])
            north.append(self.nodes[(i, 3)])
            north.append(self.bends[("h", i, 3)])
        south.append(self.nodes[(self.ncols, 2)])
        north.append(self.nodes[(self.ncols, 3)])
        return Polygon([*south, *reversed(north)])


DEPARTMENTS = (
    ("QH-D-CG", "青禾城管执法中队"),
    ("QH-D-SJ", "青禾市场监管所"),
    ("QH-D-RQ", "青禾燃气抢修站"),
    ("QH-D-XF", "青禾消防救援站"),
)


# Property companies serving the compounds (bodies called to property cases, rated each quarter).
PROPERTY = (("QH-P-XL", "杏林物业服务中心"), ("QH-P-HY", "和苑物业公司"))
# Compounds (小区) and their buildings: code, name, grid, company, whether it has a point, and its buildings as
# (code suffix, name, east-west offset of its point from the compound's in degrees, or None for no point).
COMPOUNDS = (
    (
        "QH-01-02-XL",
        "杏林小区",
        "QH-01-02",
        "QH-P-XL",
        True,
        (("01", "1号楼", -0.0004), ("02", "2号楼", 0.0), ("03", "3号楼", 0.0004)),
    ),
    ("QH-01-02-HY", "和苑小区", "QH-01-02", "QH-P-HY", False, (("01", "1栋", None),)),
    ("QH-01-01-XY", "杏园小区", "QH-01-01", "QH-P-HY", True, (("01", "1号楼", None), ("02", "2号楼", None))),
)


def _point(poly: Polygon, dx: float = 0.0) -> dict[str, Any]:
    p = poly.representative_point()
    return {"type": "Point", "coordinates": [round(p.x + dx, NDIGITS), round(p.y, NDIGITS)]}


def place_features(grids: dict[str, Polygon]) -> list[dict[str, Any]]:
    """Compounds and buildings (their points inside their grid), then the property companies."""
    out: list[dict[str, Any]] = []
    for code, name, grid, company, pointed, buildings in COMPOUNDS:
        props = {"code": code, "name": name, "level": "compound", "parent": grid, "property": company}
        out.append({"type": "Feature", "properties": props, "geometry": _point(grids[grid]) if pointed else None})
        for suffix, bname, dx in buildings:
            geometry = _point(grids[grid], dx) if dx is not None else None
            assert geometry is None or grids[grid].contains(Point(geometry["coordinates"])), (code, suffix)
            props = {"code": f"{code}-{suffix}", "name": bname, "level": "building", "parent": code}
            out.append({"type": "Feature", "properties": props, "geometry": geometry})
    for pcode, pname in PROPERTY:
        props = {"code": pcode, "name": pname, "level": "department", "parent": STREET["code"]}
        out.append({"type": "Feature", "properties": props, "geometry": None})
    return out


def build() -> tuple[dict[str, Any], dict[str, Any]]:
    """Build the district FeatureCollection and the places mapping, asserting all invariants."""
    rng = random.Random(SEED)
    net = RoadNetwork(rng)

    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "properties": {"code": STREET["code"], "name": STREET["name"], "level": "street", "parent": None},
            "geometry": None,
        }
    ]
    grids: dict[str, Polygon] = {}
    grid_names: dict[str, str] = {}
    cell_of: dict[str, tuple[int, int]] = {}
    for ccode, cname, cells in COMMUNITIES:
        features.append(
            {
                "type": "Feature",
                "properties": {"code": ccode, "name": cname, "level": "community", "parent": STREET["code"]},
                "geometry": None,
            }
        )
        assert 4 <= len(cells) <= 5, ccode
        for n, (c, row) in enumerate(cells, start=1):
            assert (c, row) != PARK_CELL
            gcode = f"{ccode}-{n:02d}"
            gname = f"{cname}第{ZH_NUM[n - 1]}网格"
            ring = net.cell_ring(c, row)
            poly = Polygon(ring)
            grids[gcode] = poly
            grid_names[gcode] = gname
            cell_of[gcode] = (c, row)
            features.append(
                {
                    "type": "Feature",
                    "properties": {"code": gcode, "name": gname, "level": "grid", "parent": ccode},
                    "geometry": {"type": "Polygon", "coordinates": [[[lon, lat] for lon, lat in ring]]},
                }
            )

    check_district(features, grids)
    features += place_features(grids)
    # Functional departments the street calls to cases (吹哨报到): units of their own, without a polygon.
    for dcode, dname in DEPARTMENTS:
        features.append(
            {
                "type": "Feature",
                "properties": {"code": dcode, "name": dname, "level": "department", "parent": STREET["code"]},
                "geometry": None,
            }
        )

    park = Polygon(net.cell_ring(*PARK_CELL))
    river = net.river_polygon()
    places = build_places(net, grids, park, river)
    collection = {"type": "FeatureCollection", "features": features}
    return collection, places


def check_district(features: list[dict[str, Any]], grids: dict[str, Polygon]) -> None:
    """Assert codes, hierarchy and geometry invariants of the district."""
    codes = [f["properties"]["code"] for f in features]
    assert len(codes) == len(set(codes)), "codes must be unique"
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    levels = {"street": 0, "community": 0, "grid": 0, "department": 0}
    for props in by_code.values():
        levels[props["level"]] += 1
        parent = props["parent"]
        if props["level"] == "street":
            assert parent is None
        elif props["level"] in ("community", "department"):
            assert by_code[parent]["level"] == "street"
        else:
            assert by_code[parent]["level"] == "community"
            assert props["code"].startswith(parent + "-")
    assert levels["street"] == 1
    assert 3 <= levels["community"] <= 4
    assert levels["grid"] >= 14

    for f in features:
        geom = f["geometry"]
        if f["properties"]["level"] != "grid":
            assert geom is None
            continue
        ring = geom["coordinates"][0]
        assert ring[0] == ring[-1], "ring must be closed"
        assert 5 <= len(ring) - 1 <= 8, (f["properties"]["code"], len(ring) - 1)
        for lon, lat in ring:
            assert 117.00 <= lon <= 117.05 and 36.64 <= lat <= 36.68, (lon, lat)

    items = sorted(grids.items())
    for code, poly in items:
        assert shapely.is_valid(poly), (code, shapely.is_valid_reason(poly))
        assert poly.exterior.is_ccw, code
        minx, miny, maxx, maxy = poly.bounds
        w = (maxx - minx) * m_per_deg_lon((miny + maxy) / 2)
        h = (maxy - miny) * M_PER_DEG_LAT
        assert 300 <= w <= 600 and 300 <= h <= 600, (code, round(w), round(h))
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            area = items[a][1].intersection(items[b][1]).area
            assert area < 1e-12, (items[a][0], items[b][0], area)


def _inside_point(poly: Polygon, toward: Coord, frac: float) -> Coord:
    """A rounded point frac of the way from the polygon's centroid toward a target point."""
    cx, cy = poly.centroid.x, poly.centroid.y
    return (_r(cx + (toward[0] - cx) * frac), _r(cy + (toward[1] - cy) * frac))


def build_places(net: RoadNetwork, grids: dict[str, Polygon], park: Polygon, river: Polygon) -> dict[str, Any]:
    """Named demo points (hazard spots, a near-border spot, gaps, a far point), each verified."""
    code_at = {cell: code for code, cell in _cells(grids).items()}

    def edge_mid(a: tuple[int, int], b: tuple[int, int]) -> Coord:
        na, nb = net.nodes[a], net.nodes[b]
        return ((na[0] + nb[0]) / 2, (na[1] + nb[1]) / 2)

    # rider_spot: in QH-01-02, close to 杏林路 (its west edge)
    g = code_at[(1, 0)]
    rider = _inside_point(grids[g], edge_mid((1, 0), (1, 1)), 0.7)
    # ebike_stairwell: in a 柳泉社区 residential block
    g2 = code_at[(1, 3)]
    ebike = _inside_point(grids[g2], grids[g2].centroid.coords[0], 0.0)
    # fire_lane: in 书院社区, near 北园路
    g3 = code_at[(3, 3)]
    fire = _inside_point(grids[g3], edge_mid((3, 5), (4, 5)), 0.6)
    # market_manhole: in 桃园社区
    g4 = code_at[(4, 0)]
    manhole = _inside_point(grids[g4], edge_mid((4, 0), (5, 0)), 0.4)
    # near_border: ~15 m west of 杏林路, i.e. just inside QH-01-01, next to QH-01-02
    g5 = code_at[(0, 0)]
    shared = shapely.line_merge(grids[g5].boundary.intersection(grids[g].boundary))
    assert shared.geom_type == "LineString", shared.geom_type
    on_border = shared.interpolate(0.5, normalized=True)
    cx, cy = grids[g5].centroid.x, grids[g5].centroid.y
    dx, dy = (cx - on_border.x) * m_per_deg_lon(cy), (cy - on_border.y) * M_PER_DEG_LAT
    step = 15.0 / math.hypot(dx, dy)
    near = (_r(on_border.x + (cx - on_border.x) * step), _r(on_border.y + (cy - on_border.y) * step))
    near_to_neighbour_m = grids[g].distance(Point(near)) * M_PER_DEG_LAT
    assert near_to_neighbour_m < 25.0, near_to_neighbour_m

    park_pt = (_r(park.centroid.x), _r(park.centroid.y))
    river_pt = (_r(river.centroid.x), _r(river.centroid.y))
    far = (117.0250, _r(36.6600 - 50_000.0 / M_PER_DEG_LAT))

    places: dict[str, Any] = {
        "rider_spot": _place(rider, g, "杏林路12号楼下（井盖缺失）"),
        "ebike_stairwell": _place(ebike, g2, "明湖街8号院3号楼2单元楼道（电动车充电）"),
        "fire_lane": _place(fire, g3, "北园路书院小区东门消防通道（车辆占道）"),
        "market_manhole": _place(manhole, g4, "南环路桃园农贸市场门口（雨水井盖破损）"),
        "near_border": _place(near, g5, "杏林路西侧人行道（距网格边界约15米）"),
        "gap": _place(park_pt, None, f"{PARK_NAME}（不属于任何网格）"),
        "river": _place(river_pt, None, f"{RIVER_NAME}河道（不属于任何网格）"),
        "far": _place(far, None, "约50公里外（辖区外）"),
    }

    union = shapely.union_all(list(grids.values()))
    minx, miny, maxx, maxy = union.bounds
    for key, p in places.items():
        pt = Point(p["lon"], p["lat"])
        hits = [code for code, poly in grids.items() if poly.covers(pt)]
        expected = p["grid"]
        if expected is None:
            assert hits == [], (key, hits)
        else:
            assert hits == [expected], (key, hits, expected)
            assert grids[expected].contains(pt), key
            dist_m = grids[expected].exterior.distance(pt) * M_PER_DEG_LAT
            assert dist_m > 5.0, (key, dist_m)
    for key in ("gap", "river"):
        p = places[key]
        assert minx < p["lon"] < maxx and miny < p["lat"] < maxy, key
    assert park.contains(Point(places["gap"]["lon"], places["gap"]["lat"]))
    assert river.contains(Point(places["river"]["lon"], places["river"]["lat"]))
    far_m = haversine_m((places["far"]["lon"], places["far"]["lat"]), (union.centroid.x, union.centroid.y))
    assert 45_000 <= far_m <= 55_000, far_m
    assert len({p["grid"] for p in places.values() if p["grid"]}) >= 3
    return places


def _cells(grids: dict[str, Polygon]) -> dict[str, tuple[int, int]]:
    """Grid code -> (column, row), from the community table."""
    out: dict[str, tuple[int, int]] = {}
    for ccode, _, cells in COMMUNITIES:
        for n, cell in enumerate(cells, start=1):
            out[f"{ccode}-{n:02d}"] = cell
    assert set(out) == set(grids)
    return out


def _place(pt: Coord, grid: str | None, label: str) -> dict[str, Any]:
    """One places.json entry."""
    return {"lat": pt[1], "lon": pt[0], "grid": grid, "label": label}


def main() -> None:
    """Write both files and print a summary."""
    collection, places = build()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    DISTRICT_PATH.write_text(json.dumps(collection, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    PLACES_PATH.write_text(json.dumps(places, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    feats = collection["features"]
    grids = [f for f in feats if f["properties"]["level"] == "grid"]
    union = shapely.union_all([Polygon(f["geometry"]["coordinates"][0]) for f in grids])
    minx, miny, maxx, maxy = union.bounds
    print(f"wrote {DISTRICT_PATH.relative_to(ROOT)} and {PLACES_PATH.relative_to(ROOT)}")
    print(f"street {STREET['code']} {STREET['name']}; bbox lon {minx:.4f}-{maxx:.4f}, lat {miny:.4f}-{maxy:.4f}")
    for ccode, cname, _ in COMMUNITIES:
        members = [f["properties"] for f in grids if f["properties"]["parent"] == ccode]
        print(f"  {ccode} {cname}: {len(members)} grids")
        for props in members:
            poly = Polygon(
                next(f for f in grids if f["properties"]["code"] == props["code"])["geometry"]["coordinates"][0]
            )
            area_m2 = poly.area * M_PER_DEG_LAT * m_per_deg_lon(poly.centroid.y)
            print(
                f"    {props['code']} {props['name']}  {len(poly.exterior.coords) - 1} vertices, {area_m2 / 1e4:.1f} ha"
            )
    print(f"{len(grids)} grids; gaps: {RIVER_NAME} (river), {PARK_NAME} (park)")
    for key, p in places.items():
        print(f"  place {key}: ({p['lat']}, {p['lon']}) grid={p['grid']} {p['label']}")
    print("all invariants hold")


if __name__ == "__main__":
    main()

"""The grid hierarchy as geometry: validating a district file and locating a point in it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree
from shapely.validation import explain_validity

from domain.org.model import Level, Unit

# Documented limits of a district file (README, "District files").
CODE_MAX = 32
# Places people live in, in the same district file; not units of the hierarchy.
PLACE_LEVELS = ("compound", "building")
NAME_MAX = 100
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Overlaps smaller than about one square metre are digitising noise on a shared border, not overlaps.
_OVERLAP_M2 = 1.0
_M_PER_DEG_LAT = 110_574.0


def valid_coordinates(lat: float, lon: float) -> bool:
    """Finite and on the globe."""
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def _to_metres(geom: BaseGeometry, lat0: float) -> BaseGeometry:
    # A local equirectangular projection is accurate to well under 1 % over a district.
    kx = 111_320.0 * math.cos(math.radians(lat0))

    def project(coords: Any) -> Any:
        out = coords.copy()
        out[:, 0] = coords[:, 0] * kx
        out[:, 1] = coords[:, 1] * _M_PER_DEG_LAT
        return out

    return shapely.transform(geom, project)


@dataclass
class ImportProblem:
    """One thing wrong with one feature of a district file."""

    feature: int
    code: str | None
    message: str

    def __str__(self) -> str:
        label = f"#{self.feature}" + (f" ({self.code})" if self.code else "")
        return f"feature {label}: {self.message}"


def parse_district(data: Any, existing: list[Unit] | None = None) -> tuple[list[Unit], list[ImportProblem]]:
    """Validate a GeoJSON FeatureCollection of units; return the units or every problem found."""
    problems: list[ImportProblem] = []
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return [], [ImportProblem(0, None, "not a GeoJSON FeatureCollection")]
    features = data.get("features")
    if not isinstance(features, list) or not features:
        return [], [ImportProblem(0, None, "the collection has no features")]
    units: list[Unit] = []
    seen: dict[str, int] = {}
    for i, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            problems.append(ImportProblem(i, None, "feature has no properties"))
            continue
        if props.get("level") in PLACE_LEVELS:
            continue  # compounds and buildings: the residents' context reads them (domain/civic/places.py)
        code = props.get("code")
        name = props.get("name")
        level = props.get("level")
        parent = props.get("parent")
        if not isinstance(code, str) or not code.strip():
            problems.append(ImportProblem(i, None, "missing 'code'"))
            continue
        code = code.strip()
        if len(code) > CODE_MAX or not CODE_PATTERN.match(code):
            problems.append(
                ImportProblem(
                    i, code[:CODE_MAX], f"'code' must be 1–{CODE_MAX} letters, digits, '-', '_' or '.' (like QH-01-02)"
                )
            )
            continue
        if code in seen:
            problems.append(ImportProblem(i, code, f"duplicate code (also feature #{seen[code]})"))
            continue
        seen[code] = i
        if not isinstance(name, str) or not name.strip():
            problems.append(ImportProblem(i, code, "missing 'name'"))
        elif len(name.strip()) > NAME_MAX:
            problems.append(ImportProblem(i, code, f"'name' is longer than {NAME_MAX} characters"))
        if level not in {lv.value for lv in Level}:
            problems.append(
                ImportProblem(
                    i,
                    code,
                    f"level must be street, community, grid, department, compound or building, not {str(level)[:20]!r}",
                )
            )
            continue
        if parent is not None and (not isinstance(parent, str) or len(parent) > CODE_MAX):
            problems.append(ImportProblem(i, code, "'parent' must be a code or null"))
            continue
        geometry = feature.get("geometry")
        if level == Level.GRID.value:
            problems.extend(_check_grid_geometry(i, code, geometry))
        units.append(
            Unit(
                code=code,
                name=str(name or "").strip(),
                level=Level(level),
                parent_code=parent,
                geometry=geometry if level == Level.GRID.value else None,
            )
        )
    problems.extend(_check_hierarchy(units, seen, existing or []))
    problems.extend(_check_overlaps(units, seen, existing or []))
    problems.sort(key=lambda p: p.feature)
    return (units if not problems else []), problems


def _ring_problems(geometry: dict[str, Any]) -> list[str]:
    # GeoJSON (RFC 7946 §3.1.6): a ring has at least four positions and its first and last are the same.
    # shapely would silently close an open ring, hiding a truncated or mis-exported file.
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry.get("type") == "Polygon" else coords
    if not isinstance(polygons, list):
        return ["coordinates must be a list"]
    out: list[str] = []
    for p, rings in enumerate(polygons, start=1):
        if not isinstance(rings, list) or not rings:
            out.append(f"polygon {p} has no rings")
            continue
        for r, ring in enumerate(rings, start=1):
            where = f"ring {r}" + (f" of polygon {p}" if geometry.get("type") == "MultiPolygon" else "")
            if not isinstance(ring, list) or len(ring) < 4:
                out.append(f"{where} needs at least 4 positions")
            elif not all(isinstance(pt, list) and len(pt) >= 2 for pt in ring):
                out.append(f"{where} has a position that is not [lon, lat]")
            elif ring[0][:2] != ring[-1][:2]:
                out.append(f"{where} is not closed (its first and last positions differ)")
    return out


def _check_grid_geometry(i: int, code: str, geometry: Any) -> list[ImportProblem]:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return [ImportProblem(i, code, "a grid needs a Polygon or MultiPolygon geometry")]
    rings = _ring_problems(geometry)
    if rings:
        return [ImportProblem(i, code, m) for m in rings]
    try:
        geom = shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises many types for malformed input
        return [ImportProblem(i, code, f"unreadable geometry: {exc}")]
    minx, miny, maxx, maxy = geom.bounds if not geom.is_empty else (0, 0, 0, 0)
    if geom.is_empty:
        return [ImportProblem(i, code, "empty geometry")]
    if not (valid_coordinates(miny, minx) and valid_coordinates(maxy, maxx)):
        return [ImportProblem(i, code, "coordinates out of range (expected WGS84 lon, lat)")]
    if not shapely.is_valid(geom):
        return [ImportProblem(i, code, f"invalid polygon: {explain_validity(geom)}")]
    return []


def _check_hierarchy(units: list[Unit], seen: dict[str, int], existing: list[Unit]) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    levels = {u.code: u.level for u in existing}
    levels.update({u.code: u.level for u in units})
    expected_parent = {
        Level.STREET: None,
        Level.COMMUNITY: Level.STREET,
        Level.GRID: Level.COMMUNITY,
        Level.DEPARTMENT: Level.STREET,
    }
    for u in units:
        want = expected_parent[u.level]
        if want is None:
            if u.parent_code is not None:
                problems.append(ImportProblem(seen[u.code], u.code, "a street has no parent"))
            continue
        if u.parent_code is None:
            problems.append(ImportProblem(seen[u.code], u.code, f"a {u.level.value} needs a parent {want.value}"))
        elif u.parent_code not in levels:
            problems.append(ImportProblem(seen[u.code], u.code, f"unknown parent {u.parent_code!r}"))
        elif levels[u.parent_code] != want:
            problems.append(
                ImportProblem(
                    seen[u.code],
                    u.code,
                    f"parent {u.parent_code!r} is a {levels[u.parent_code].value}, expected a {want.value}",
                )
            )
    return problems


def _check_overlaps(units: list[Unit], seen: dict[str, int], existing: list[Unit]) -> list[ImportProblem]:
    new_codes = {u.code for u in units}
    grids = [u for u in units if u.level is Level.GRID and u.geometry is not None]
    grids += [u for u in existing if u.level is Level.GRID and u.geometry and u.code not in new_codes]
    geoms: list[BaseGeometry] = []
    kept: list[Unit] = []
    for u in grids:
        try:
            g = shape(u.geometry)
        except Exception:  # noqa: BLE001, S112 - already reported by the geometry check
            continue
        if g.is_valid and not g.is_empty:
            geoms.append(g)
            kept.append(u)
    if not geoms:
        return []
    lat0 = geoms[0].centroid.y
    metric = [_to_metres(g, lat0) for g in geoms]
    tree = STRtree(metric)
    problems: list[ImportProblem] = []
    left, right = tree.query(metric, predicate="intersects")
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a >= b:
            continue
        area = metric[a].intersection(metric[b]).area
        if area > _OVERLAP_M2:
            ua, ub = kept[a], kept[b]
            culprit = ua if ua.code in new_codes else ub
            other = ub if culprit is ua else ua
            problems.append(
                ImportProblem(seen.get(culprit.code, 0), culprit.code, f"overlaps grid {other.code} by {area:.0f} m²")
            )
    return problems


@dataclass(frozen=True)
class Location:
    """Where a point falls: the responsible unit, and whether that is a fallback above the grid."""

    unit_code: str
    fallback: bool
    distance_m: float = 0.0


class GridIndex:
    """Point → grid lookup (STRtree), with the nearest community / street in range as fallback (an STRtree per
    level: a nearest-neighbour query, not a scan)."""

    def __init__(self, units: list[Unit], community_radius_m: float = 1500.0, street_radius_m: float = 5000.0):
        self.units = {u.code: u for u in units}
        self.community_radius_m = community_radius_m
        self.street_radius_m = street_radius_m
        grids = [u for u in units if u.level is Level.GRID and u.geometry]
        # Sorting makes a point on a shared border land in the same grid every time.
        grids.sort(key=lambda u: u.code)
        self._grid_codes = [u.code for u in grids]
        shapes = [shape(u.geometry) for u in grids]
        self._lat0 = shapes[0].centroid.y if shapes else 0.0
        self._kx = 111_320.0 * math.cos(math.radians(self._lat0))
        # One vectorised transform of every grid (a call per grid costs seconds at 100,000 grids).
        self._grid_metric = list(_to_metres(shapely.GeometryCollection(shapes), self._lat0).geoms) if shapes else []
        self._tree = STRtree(self._grid_metric) if shapes else None
        self._areas: dict[str, BaseGeometry] = {}
        self._levels: dict[Level, tuple[list[str], STRtree]] = {}
        ancestors: dict[tuple[str, Level], str | None] = {}
        for level in (Level.COMMUNITY, Level.STREET):
            members: dict[str, list[BaseGeometry]] = {}
            for code, g in zip(self._grid_codes, self._grid_metric, strict=True):
                owner = self._ancestor_at(code, level, ancestors)
                if owner is not None:
                    members.setdefault(owner, []).append(g)
            codes = sorted(members)
            for code in codes:
                self._areas[code] = shapely.union_all(members[code])
            if codes:
                self._levels[level] = (codes, STRtree([self._areas[c] for c in codes]))

    def _ancestor_at(self, code: str, level: Level, memo: dict[tuple[str, Level], str | None]) -> str | None:
        key = (code, level)
        if key not in memo:
            unit = self.units.get(code)
            if unit is None:
                memo[key] = None
            elif unit.level is level:
                memo[key] = unit.code
            else:
                memo[key] = self._ancestor_at(unit.parent_code or "", level, memo) if unit.parent_code else None
        return memo[key]

    def locate(self, lat: float, lon: float) -> Location | None:
        """The grid containing the point, else the nearest community/street in range, else None."""
        if self._tree is None or not valid_coordinates(lat, lon):
            return None
        p = shapely.points(lon * self._kx, lat * _M_PER_DEG_LAT)
        hits = self._tree.query(p, predicate="intersects")
        if len(hits):
            return Location(self._grid_codes[int(min(hits))], fallback=False)
        for level, radius in ((Level.COMMUNITY, self.community_radius_m), (Level.STREET, self.street_radius_m)):
            if level not in self._levels:
                continue
            codes, tree = self._levels[level]
            # The areas within the radius (the tree's boxes, then an exact test), and the distance to each of them:
            # measured 2× faster than the tree's own nearest-neighbour search with a maximum distance.
            found = tree.query(p, predicate="dwithin", distance=radius)
            if len(found):
                distances = shapely.distance(tree.geometries[found], p)
                # Equally near areas (a point on a shared border): the smallest code, as for grids.
                best = min(zip(distances.tolist(), (codes[int(i)] for i in found), strict=True))
                return Location(best[1], fallback=True, distance_m=float(best[0]))
        return None

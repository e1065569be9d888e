"""Coordinates from Chinese map services (GCJ-02, BD-09) converted to WGS84 before a district is imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.demo import DISTRICT, places
from bot.grids import to_wgs84
from domain.kernel.distance import distance_m
from domain.org.crs import bd09_to_gcj02, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_gcj02
from domain.org.crs import to_wgs84 as point_to_wgs84
from domain.org.geo import parse_district


def test_published_bd09_values() -> None:
    # The figures every implementation of Baidu's transform publishes for this Beijing point.
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx((116.41036949371029, 39.92133699351022), abs=1e-9)
    assert bd09_to_gcj02(116.404, 39.915) == pytest.approx((116.39762729119315, 39.90865673957631), abs=1e-9)


@pytest.mark.parametrize(("lon", "lat"), [(117.018011, 36.654049), (116.397128, 39.916527), (121.4737, 31.2304)])
def test_offsets_are_hundreds_of_metres_and_invert_to_millimetres(lon: float, lat: float) -> None:
    gx, gy = wgs84_to_gcj02(lon, lat)
    assert 100 < distance_m(lat, lon, gy, gx) < 800  # why a file's system matters
    back = gcj02_to_wgs84(gx, gy)
    assert distance_m(lat, lon, back[1], back[0]) < 0.01
    bx, by = gcj02_to_bd09(gx, gy)
    again = point_to_wgs84("bd09", bx, by)
    assert distance_m(lat, lon, again[1], again[0]) < 0.5  # Baidu's published pair is not an exact inverse


def test_outside_china_nothing_moves() -> None:
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85) and gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


def test_a_district_drawn_on_amap_lands_where_it_belongs(tmp_path: Path) -> None:
    wgs = json.loads(DISTRICT.read_text(encoding="utf-8"))
    # The same district as 高德 would show it: every position shifted into GCJ-02.
    shifted = json.loads(json.dumps(wgs))
    for feature in shifted["features"]:
        geometry = feature.get("geometry")
        if geometry and geometry["type"] == "Polygon":
            geometry["coordinates"] = [
                [list(wgs84_to_gcj02(x, y)) for x, y in ring] for ring in geometry["coordinates"]
            ]
    spot = places()["rider_spot"]
    units, problems = parse_district(to_wgs84(shifted, "gcj02"), [])
    assert not problems
    grid = next(u for u in units if u.code == "QH-01-02")
    original = next(f for f in wgs["features"] if f["properties"]["code"] == "QH-01-02")
    for (x1, y1), (x2, y2) in zip(grid.geometry["coordinates"][0], original["geometry"]["coordinates"][0], strict=True):  # type: ignore[index]
        assert distance_m(y1, x1, y2, x2) < 0.05
    assert spot["grid"] == "QH-01-02"

"""Routing at province scale: point → grid lookups inside the grids, the nearest-community fallback outside them,
and the time to build the index, against the least any correct lookup must do in the same run.

The floor of a lookup that already knows its answer: one point-in-polygon test against the right (prepared) grid,
or one distance to the right community's outline. An index pays for finding which polygon that is; its ratio says
how close to that floor it gets. Python's call overhead (~1 µs a shapely call) bounds both.
Usage: python bench/routing.py [GRIDS ...]   (default: 10000 100000)
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable

import shapely

from domain.org.geo import GridIndex
from domain.org.model import Level, Unit

LAT0, LON0 = 36.0, 117.0
SIDE_M = 500.0  # a grid is a 500 m square; ten grids make a community, ten communities a street


def district(n: int) -> tuple[list[Unit], float, float]:
    """n square grids in a lattice, grouped into communities and streets; the lattice's width and height (deg)."""
    cols = int(math.sqrt(n))
    dlat = SIDE_M / 110_574.0
    dlon = SIDE_M / (111_320.0 * math.cos(math.radians(LAT0)))
    units = [Unit(f"S{s}", f"街道{s}", Level.STREET, None) for s in range(math.ceil(n / 100))]
    units += [Unit(f"C{c}", f"社区{c}", Level.COMMUNITY, f"S{c // 10}") for c in range(math.ceil(n / 10))]
    for i in range(n):
        r, c = divmod(i, cols)
        x0, y0 = LON0 + c * dlon, LAT0 + r * dlat
        ring = [[x0, y0], [x0 + dlon, y0], [x0 + dlon, y0 + dlat], [x0, y0 + dlat], [x0, y0]]
        units.append(
            Unit(f"G{i:06d}", f"网格{i}", Level.GRID, f"C{i // 10}", {"type": "Polygon", "coordinates": [ring]})
        )
    return units, cols * dlon, (n // cols) * dlat  # the full rows only: a last, partial row leaves gaps


def rate(fn: object, points: list[tuple[float, float]]) -> float:
    """Calls per second of fn(lat, lon) over the points."""
    t = time.perf_counter()
    for lat, lon in points:
        fn(lat, lon)  # type: ignore[operator]
    return len(points) / (time.perf_counter() - t)


def contains(index: GridIndex) -> Callable[[float, float], bool]:
    """The inside floor: one point-in-polygon test against a grid known in advance (prepared)."""
    grid = index._grid_metric[len(index._grid_metric) // 2]
    shapely.prepare(grid)
    kx = index._kx
    return lambda lat, lon: bool(shapely.contains_xy(grid, lon * kx, lat * 110_574.0))


def distance(index: GridIndex) -> Callable[[float, float], float]:
    """The outside floor: one distance from the point to a community's outline known in advance."""
    area = next(iter(index._areas.values()))
    kx = index._kx
    return lambda lat, lon: float(shapely.distance(area, shapely.points(lon * kx, lat * 110_574.0)))


def main(sizes: list[int]) -> None:
    """Build, look up inside and outside, print rates and ratios to the floor."""
    rnd = random.Random(7)
    for n in sizes:
        units, width, height = district(n)
        t = time.perf_counter()
        index = GridIndex(units)
        build = time.perf_counter() - t
        inside = [(LAT0 + rnd.random() * height, LON0 + rnd.random() * width) for _ in range(20_000)]
        # Outside: up to 1 km east of the lattice (inside the community radius), so the fallback finds a community.
        east = 1000 / (111_320.0 * math.cos(math.radians(LAT0)))
        outside = [(LAT0 + rnd.random() * height, LON0 + width + 1e-6 + rnd.random() * east) for _ in range(5_000)]
        got = index.locate(*outside[0])
        assert got is not None and got.fallback, got
        assert all(not index.locate(lat, lon).fallback for lat, lon in inside[:200])  # type: ignore[union-attr]
        floor_in, floor_out = rate(contains(index), inside), rate(distance(index), outside)
        r_in, r_out = rate(index.locate, inside), rate(index.locate, outside)
        print(f"{n} grids: index built in {build:.2f} s")
        print(f"  inside a grid: {r_in:,.0f} lookups/s (floor {floor_in:,.0f}/s: ratio {r_in / floor_in:.2f})")
        ratio = r_out / floor_out
        print(f"  outside, nearest community: {r_out:,.0f} lookups/s (floor {floor_out:,.0f}/s: ratio {ratio:.2f})")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])

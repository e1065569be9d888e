"""Coordinates from Chinese map services: GCJ-02 (高德, 腾讯, Google China) and BD-09 (百度) differ from WGS84
(GPS, phone locations, OpenStreetMap, geojson.io) by hundreds of metres inside China.

Polygons drawn on such a map must be converted before import, or every report lands in the wrong grid. The
published forward transform is used; GCJ-02 → WGS84 has no closed form and is solved by iteration to well
under a centimetre. Outside mainland China the offsets do not apply and points are left as they are.
"""

from __future__ import annotations

import math

A = 6378245.0  # the Krasovsky ellipsoid the GCJ-02 transform is built on
EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0
SYSTEMS = ("wgs84", "gcj02", "bd09")


def out_of_china(lon: float, lat: float) -> bool:
    """Outside the box where the offsets apply."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 → GCJ-02."""
    if out_of_china(lon, lat):
        return lon, lat
    dlat, dlon = _lat(lon - 105.0, lat - 35.0), _lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(rad) ** 2
    root = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * root) * math.pi)
    dlon = (dlon * 180.0) / (A / root * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → WGS84, by fixed-point iteration of the forward transform."""
    if out_of_china(lon, lat):
        return lon, lat
    x, y = lon, lat
    for _ in range(30):
        gx, gy = wgs84_to_gcj02(x, y)
        dx, dy = gx - lon, gy - lat
        x, y = x - dx, y - dy
        if abs(dx) < 1e-10 and abs(dy) < 1e-10:
            break
    return x, y


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 → GCJ-02."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → BD-09."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def to_wgs84(system: str, lon: float, lat: float) -> tuple[float, float]:
    """A point of a map system (wgs84, gcj02, bd09) in WGS84."""
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    if system == "wgs84":
        return lon, lat
    raise ValueError(f"unknown coordinate system {system!r}: one of {', '.join(SYSTEMS)}")


def convert_geometry(system: str, geometry: dict[str, object]) -> dict[str, object]:
    """A GeoJSON Polygon / MultiPolygon with every position moved to WGS84 (other members kept)."""
    if system == "wgs84":
        return geometry

    def move(node: object) -> object:
        if isinstance(node, list) and node and all(isinstance(v, int | float) for v in node[:2]) and len(node) >= 2:
            lon, lat = to_wgs84(system, float(node[0]), float(node[1]))  # type: ignore[arg-type]
            return [round(lon, 7), round(lat, 7), *node[2:]]
        if isinstance(node, list):
            return [move(child) for child in node]
        return node

    return {**geometry, "coordinates": move(geometry.get("coordinates"))}

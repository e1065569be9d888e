"""`gridbot grids import`: validate a district file against what is stored, then upsert it in one transaction."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from domain.civic.places import parse_places
from domain.kernel.text import clean_tree
from domain.org.crs import convert_geometry
from domain.org.geo import parse_district
from storage.civic import PlaceRepo
from storage.db import session_factory
from storage.migrate import migrated_engine
from storage.org import UnitRepo


async def import_units(session: AsyncSession, data: object) -> tuple[int, int]:
    """Validate and upsert inside the caller's transaction; raises ValueError listing every problem."""
    repo, places = UnitRepo(session), PlaceRepo(session)
    stored = await repo.all()
    units, problems = parse_district(data, stored)
    known = {u.code: u for u in stored} | {u.code: u for u in units}
    compounds, buildings, wrong = parse_places(data, list(known.values()), await places.all_codes())
    problems = sorted([*problems, *wrong], key=lambda p: p.feature)
    if problems:
        raise ValueError("refused, nothing imported:\n" + "\n".join(f"  {p}" for p in problems))
    created, updated = await repo.replace_all(units) if units else (0, 0)
    more, changed = await places.upsert(compounds, buildings)
    return created + more, updated + changed


def to_wgs84(data: object, system: str) -> object:
    """The features' geometries moved from a Chinese map service's coordinates (gcj02, bd09) to WGS84."""
    if system == "wgs84" or not isinstance(data, dict) or not isinstance(data.get("features"), list):
        return data
    features = []
    for feature in data["features"]:
        if isinstance(feature, dict) and isinstance(feature.get("geometry"), dict):
            feature = {**feature, "geometry": convert_geometry(system, feature["geometry"])}
        features.append(feature)
    return {**data, "features": features}


async def import_file(database_url: str, path: Path, system: str = "wgs84") -> tuple[int, int]:
    """Import a GeoJSON file into the database at `database_url` (converted to WGS84 if drawn on GCJ-02/BD-09)."""
    try:
        data = to_wgs84(clean_tree(json.loads(path.read_text(encoding="utf-8")))[0], system)
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    engine = await migrated_engine(database_url)
    try:
        async with session_factory(engine).begin() as session:
            return await import_units(session, data)
    finally:
        await engine.dispose()

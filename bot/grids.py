"""`gridbot grids import`: validate a district file against what is stored, then upsert it in one transaction."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from domain.org.geo import parse_district
from storage.db import session_factory
from storage.migrate import migrated_engine
from storage.org import UnitRepo


async def import_units(session: AsyncSession, data: object) -> tuple[int, int]:
    """Validate and upsert inside the caller's transaction; raises ValueError listing every problem."""
    repo = UnitRepo(session)
    units, problems = parse_district(data, await repo.all())
    if problems:
        raise ValueError("refused, nothing imported:\n" + "\n".join(f"  {p}" for p in problems))
    return await repo.replace_all(units)


async def import_file(database_url: str, path: Path) -> tuple[int, int]:
    """Import a GeoJSON file into the database at `database_url`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
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

"""CLI jobs that run outside the dispatcher: rebuilding balances, importing catalogues."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bot.config import Settings
from bot.context import context_factory
from domain.services import Services
from storage.db import session_factory
from storage.migrate import migrated_engine
from storage.repos import SqlRepos


def _now() -> datetime:
    return datetime.now(UTC)


async def rebuild_points(settings: Settings) -> list[tuple[int, int, int, float, float]]:
    """Recompute cached balances and hours from the ledgers; returns what differed (and was fixed)."""
    engine = await migrated_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as s:
            svc = Services(context_factory(settings, _now)(SqlRepos(s, _now), None))
            return await svc.points.rebuild()
    finally:
        await engine.dispose()


def parse_catalog(text: str, fmt: str) -> tuple[list[tuple[str, str, int, int]], list[str]]:
    """(community, name, price, stock) rows from CSV or YAML, or every problem found."""
    rows: list[dict[str, object]]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        data = yaml.safe_load(text) or []
        rows = data.get("items", []) if isinstance(data, dict) else data
    items: list[tuple[str, str, int, int]] = []
    problems: list[str] = []
    for n, row in enumerate(rows, start=2 if fmt == "csv" else 1):
        try:
            community, name = str(row["community"]).strip(), str(row["name"]).strip()
            price, stock = int(str(row["price"])), int(str(row["stock"]))
        except (KeyError, TypeError, ValueError) as e:
            problems.append(f"row {n}: needs community, name, price, stock ({e})")
            continue
        if not community or not name or price <= 0 or stock < 0:
            problems.append(f"row {n}: empty name/community, price ≤ 0 or stock < 0")
            continue
        items.append((community, name, price, stock))
    return (items if not problems else []), problems


async def import_catalog(settings: Settings, path: Path) -> tuple[int, int]:
    """Upsert items; refused whole on any problem (unknown or non-community code included)."""
    fmt = "csv" if path.suffix.lower() == ".csv" else "yaml"
    items, problems = parse_catalog(path.read_text(encoding="utf-8"), fmt)
    if problems:
        raise ValueError("refused, nothing imported:\n" + "\n".join(f"  {p}" for p in problems))
    engine = await migrated_engine(settings.database_url)
    created = updated = 0
    try:
        async with session_factory(engine).begin() as s:
            repos = SqlRepos(s, _now)
            for community, *_ in items:
                unit = await repos.units.get(community)
                if unit is None or unit.level.value != "community":
                    problems.append(f"{community}: not a community code")
            if problems:
                raise ValueError("refused, nothing imported:\n" + "\n".join(f"  {p}" for p in sorted(set(problems))))
            for community, name, price, stock in items:
                _, was_created = await repos.shop.upsert_item(community, name, price, stock)
                created += was_created
                updated += not was_created
    finally:
        await engine.dispose()
    return created, updated


async def import_activities(settings: Settings, path: Path, clock: Callable[[], datetime] = _now) -> int:
    """Publish every activity of a YAML/CSV file in one transaction; refused whole on any problem."""
    from domain.activity_file import guess_format, parse_activities

    specs, problems = parse_activities(path.read_text(encoding="utf-8"), guess_format(path.name))
    if problems:
        raise ValueError("refused, nothing imported:\n" + "\n".join(f"  {p}" for p in problems))
    engine = await migrated_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as s:
            svc = Services(context_factory(settings, clock)(SqlRepos(s, clock), None))
            for spec in specs:
                await svc.activities.publish(spec)
    except Exception as e:
        from domain.errors import DomainError

        if isinstance(e, DomainError):
            raise ValueError(f"refused, nothing imported: {e.code} {e.params}") from None
        raise
    finally:
        await engine.dispose()
    return len(specs)


async def expire_points(settings: Settings, cutoff: datetime) -> int:
    """Write expiry entries for points earned before `cutoff` and still unspent."""
    engine = await migrated_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as s:
            svc = Services(context_factory(settings, _now)(SqlRepos(s, _now), None))
            return await svc.points.expire_before(cutoff)
    finally:
        await engine.dispose()

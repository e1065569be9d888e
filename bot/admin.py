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
from domain.points import ITEM_NAME_MAX, PRICE_MAX, STOCK_MAX
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


_CATALOG_FIELDS = ("community", "name", "price", "stock")


def _whole(value: object, key: str, low: int, high: int, problems: list[str]) -> int | None:
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        problems.append(f"{key} is missing" if value in (None, "") else f"{key}: {value!r} is not a whole number")
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        problems.append(f"{key}: {str(value)[:24]!r} is not a whole number")
        return None
    if not low <= number <= high:
        shown = str(number) if len(str(number)) <= 24 else str(number)[:20] + "…"
        problems.append(f"{key} must be between {low} and {high}, got {shown}")
        return None
    return number


def parse_catalog(text: str, fmt: str) -> tuple[list[tuple[int, str, str, int, int]], list[str]]:
    """(community, name, price, stock) rows from CSV or YAML, or every problem found (row by row, all of them)."""
    rows: list[object]
    if fmt == "csv":
        try:
            reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
            rows = list(reader)
        except csv.Error as e:
            return [], [f"file: not valid CSV: {e}"]
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [f for f in _CATALOG_FIELDS if f not in header]
        if rows and missing:
            return [], [f"file: the header row lacks the column(s) {', '.join(missing)}"]
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            return [], [f"file: not valid YAML{where}: {getattr(e, 'problem', None) or e}"]
        if isinstance(data, dict):
            if "items" not in data:
                return [], ["file: expected a list of items, or a mapping with the key 'items' holding one"]
            data = data["items"]
        if data is None:
            data = []
        if not isinstance(data, list):
            return [], ["file: expected a list of items, or a mapping with the key 'items' holding one"]
        rows = data
    if not rows:
        return [], ["file: no items found"]
    items: list[tuple[int, str, str, int, int]] = []
    problems: list[str] = []
    for n, row in enumerate(rows, start=2 if fmt == "csv" else 1):
        here: list[str] = []
        if not isinstance(row, dict):
            problems.append(f"row {n}: expected a mapping of {', '.join(_CATALOG_FIELDS)}")
            continue
        fields = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        unknown = [k for k in fields if k not in _CATALOG_FIELDS]
        if unknown:
            here.append(f"unknown field(s) {', '.join(repr(k) for k in unknown)}")
        community = str(fields.get("community") or "").strip()
        name = str(fields.get("name") or "").strip()
        if not community:
            here.append("community is missing")
        elif len(community) > 32 or any(c.isspace() for c in community):
            here.append(f"community must be a code like QH-01, not {community[:40]!r}")
        if not name:
            here.append("name is missing")
        elif len(name) > ITEM_NAME_MAX:
            here.append(f"name is longer than {ITEM_NAME_MAX} characters ({len(name)})")
        price = _whole(fields.get("price"), "price", 1, PRICE_MAX, here)
        stock = _whole(fields.get("stock"), "stock", 0, STOCK_MAX, here)
        problems += [f"row {n}: {p}" for p in here]
        if not here and price is not None and stock is not None:
            items.append((n, community, name, price, stock))
    return (items if not problems else []), problems


async def import_catalog(settings: Settings, path: Path) -> tuple[int, int]:
    """Upsert items; refused whole on any problem (unknown or non-community code included)."""
    fmt = "csv" if path.suffix.lower() == ".csv" else "yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"refused, nothing imported:\n  file: {path} is not UTF-8 text") from None
    items, problems = parse_catalog(text, fmt)
    if problems:
        raise ValueError("refused, nothing imported:\n" + "\n".join(f"  {p}" for p in problems))
    engine = await migrated_engine(settings.database_url)
    created = updated = 0
    try:
        async with session_factory(engine).begin() as s:
            repos = SqlRepos(s, _now)
            for row, community, *_ in items:
                unit = await repos.units.get(community)
                if unit is None or unit.level.value != "community":
                    problems.append(f"row {row}: {community!r} is not a community code")
            if problems:
                raise ValueError("refused, nothing imported:\n" + "\n".join(f"  {p}" for p in problems))
            for _, community, name, price, stock in items:
                _, was_created = await repos.shop.upsert_item(community, name, price, stock)
                created += was_created
                updated += not was_created
    finally:
        await engine.dispose()
    return created, updated


async def import_activities(settings: Settings, path: Path, clock: Callable[[], datetime] = _now) -> int:
    """Publish every activity of a YAML/CSV file in one transaction; refused whole on any problem."""
    from domain.activity_file import guess_format, parse_activities

    specs, problems = parse_activities(path.read_text(encoding="utf-8"), guess_format(path.name), now=clock())
    if problems:
        raise ValueError("refused, nothing imported:\n" + "\n".join(f"  {p}" for p in problems))
    engine = await migrated_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as s:
            repos = SqlRepos(s, clock)
            for spec in specs:
                unit = await repos.units.get(spec.community)
                if unit is None or unit.level.value != "community":
                    problems.append(f"row {spec.row}: {spec.community!r} is not a community code")
            if problems:
                raise ValueError("refused, nothing imported:\n" + "\n".join(f"  {p}" for p in problems))
            svc = Services(context_factory(settings, clock)(repos, None))
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

"""CLI jobs that run outside the dispatcher, on the same domain services and outbox as every update."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.context import services_factory
from bot.middlewares import Delivery
from domain.kernel.errors import DomainError
from domain.org.model import Level
from domain.points.shop import parse_catalog
from domain.services import Services
from domain.volunteering.activity_file import guess_format, parse_activities
from handlers.views.notices import TelegramNotices
from storage.db import session_factory
from storage.migrate import migrated_engine
from storage.unit_of_work import SqlUnitOfWork


def _now() -> datetime:
    return datetime.now(UTC)


@contextlib.asynccontextmanager
async def job(settings: Settings, clock: Callable[[], datetime] = _now) -> AsyncIterator[Services]:
    """Domain services on one transaction of a migrated database (committed when the block ends)."""
    engine = await migrated_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as session:
            uow = SqlUnitOfWork(session, clock)
            notices = TelegramNotices(Delivery(uow), settings.default_locale, clock)
            svc = services_factory(settings, clock)(uow.ports, notices)
            notices.services = svc
            yield svc
    finally:
        await engine.dispose()


def _refused(problems: list[str]) -> ValueError:
    return ValueError("refused, nothing imported:\n" + "\n".join(f"  {p}" for p in problems))


async def rebuild_points(settings: Settings) -> list[tuple[int, int, int, float, float]]:
    """Recompute cached balances and hours from the ledgers; returns what differed (and was fixed)."""
    async with job(settings) as svc:
        return await svc.points.rebuild()


async def import_catalog(settings: Settings, path: Path) -> tuple[int, int]:
    """Upsert items; refused whole on any problem (unknown or non-community code included)."""
    fmt = "csv" if path.suffix.lower() == ".csv" else "yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _refused([f"file: {path} is not UTF-8 text"]) from None
    items, problems = parse_catalog(text, fmt)
    if problems:
        raise _refused(problems)
    created = updated = 0
    async with job(settings) as svc:
        communities = {u.code for u in await svc.org.of_level(Level.COMMUNITY)}
        problems = [
            f"row {row}: {code!r} is not a community code" for row, code, *_ in items if code not in communities
        ]
        if problems:
            raise _refused(problems)
        for _, community, name, price, stock in items:
            _, was_created = await svc.ports.shop.upsert_item(community, name, price, stock)
            created += was_created
            updated += not was_created
    return created, updated


async def import_activities(settings: Settings, path: Path, clock: Callable[[], datetime] = _now) -> int:
    """Publish every activity of a YAML/CSV file in one transaction; refused whole on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _refused([f"file: {path} is not UTF-8 text"]) from None
    specs, problems = parse_activities(text, guess_format(path.name), now=clock())
    if problems:
        raise _refused(problems)
    async with job(settings, clock) as svc:
        communities = {u.code for u in await svc.org.of_level(Level.COMMUNITY)}
        problems = [
            f"row {s.row}: {s.community!r} is not a community code" for s in specs if s.community not in communities
        ]
        if problems:
            raise _refused(problems)
        try:
            for spec in specs:
                await svc.activities.publish(spec)
        except DomainError as e:
            raise _refused([f"{e.code} {e.params}"]) from None
    return len(specs)


async def expire_points(settings: Settings, cutoff: datetime) -> int:
    """Write expiry entries for points earned before `cutoff` and still unspent."""
    async with job(settings) as svc:
        return await svc.points.expire_before(cutoff)


async def export_ledgers(
    settings: Settings, kinds: list[str], month: str, unit_code: str | None, out: Path, locale: str
) -> tuple[str, dict[str, int]]:
    """Write the ledgers of a unit's month to an xlsx file; returns the unit's name and the rows per ledger."""
    from desk.ledgers import collect, to_bytes

    async with job(settings) as svc:
        if unit_code is None:
            streets = await svc.org.of_level(Level.STREET)
            if not streets:
                raise _refused(["no street in the database: import a district first (gridbot grids import)"])
            unit_code = streets[0].code
        unit = await svc.ledgers.scope(None, unit_code)
        data = await collect(svc.ledgers, unit, month, kinds)
    out.write_bytes(to_bytes(data, locale))
    rows = {"grids": len(data.grids) if data.with_grids else 0} | {k: len(v) for k, v in data.lines.items()}
    return unit.name, {k: v for k, v in rows.items() if k in kinds}


async def create_api_key(settings: Settings, name: str) -> str:
    """A new Open311 client; its key (shown once)."""
    async with job(settings) as svc:
        return await svc.open311.create_key(name)


async def revoke_api_key(settings: Settings, name: str) -> None:
    """Stop a client's key."""
    async with job(settings) as svc:
        await svc.open311.revoke(name)


async def api_clients(settings: Settings) -> list[tuple[str, str, bool]]:
    """Every client: name, created, revoked."""
    async with job(settings) as svc:
        return [(c.name, c.created_at.isoformat(timespec="minutes"), c.revoked) for c in await svc.open311.clients()]

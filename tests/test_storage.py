"""Storage on SQLite and PostgreSQL: migrations match the models, atomic counters, compare-and-set, dedupe."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.cases.model import Case, CaseState
from domain.kernel.people import Role, UserRef
from storage.db import session_factory
from storage.orm import Base
from storage.unit_of_work import SqlUnitOfWork
from storage.updates import claim_update

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


async def test_migrations_match_models(engine: AsyncEngine) -> None:
    def diff(conn: object) -> list[object]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})  # type: ignore[arg-type]
        return [d for d in compare_metadata(ctx, Base.metadata) if "alembic_version" not in str(d)]

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_case_numbers_are_unique_under_concurrency(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)

    async def take() -> int:
        for _ in range(20):
            try:
                async with sessions.begin() as s:
                    return await SqlUnitOfWork(s, clock).ports.cases.next_seq("20261123")
            except Exception:  # SQLite may report "database is locked" past the busy timeout under load
                await asyncio.sleep(0.05)
        raise AssertionError("could not take a number")

    numbers = await asyncio.gather(*(take() for _ in range(20)))
    assert sorted(numbers) == list(range(1, 21))
    async with sessions.begin() as s:
        assert await SqlUnitOfWork(s, clock).ports.cases.next_seq("20261124") == 1


async def _make_case(engine: AsyncEngine) -> int:
    async with session_factory(engine).begin() as s:
        repos = SqlUnitOfWork(s, clock).ports
        user = await repos.people.upsert(UserRef("telegram", "1"), "u", None, "zh-CN", True)
        import json

        from bot.demo import DISTRICT
        from bot.grids import import_units

        await import_units(s, json.loads(DISTRICT.read_text(encoding="utf-8")))
        case = await repos.cases.add(
            Case(0, "SB20261123-0001", user.id, Role.RIDER, "d", "other", "QH-01-01", CaseState.NEW, 1, NOW)
        )
        return case.id


async def test_compare_and_set_has_one_winner(engine: AsyncEngine) -> None:
    case_id = await _make_case(engine)
    sessions = session_factory(engine)

    async def claim(who: int) -> bool:
        try:
            async with sessions.begin() as s:
                return await SqlUnitOfWork(s, clock).ports.cases.transition(
                    case_id, CaseState.NEW, 1, CaseState.CLAIMED, assignee_id=who
                )
        except Exception:
            return False

    results = await asyncio.gather(*(claim(i) for i in range(10)))
    assert results.count(True) == 1
    async with sessions() as s:
        case = await SqlUnitOfWork(s, clock).ports.cases.get(case_id)
    assert case is not None and case.state is CaseState.CLAIMED and case.rev == 2


async def test_update_ids_are_claimed_once(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions.begin() as s:
        assert await claim_update(s, 5, NOW)
    async with sessions.begin() as s:
        assert not await claim_update(s, 5, NOW)


async def test_users_are_upserted_by_platform_id(engine: AsyncEngine) -> None:
    async with session_factory(engine).begin() as s:
        repos = SqlUnitOfWork(s, clock).ports
        a = await repos.people.upsert(UserRef("telegram", "7"), "A", "alpha", "zh-CN", False)
        b = await repos.people.upsert(UserRef("telegram", "7"), "A2", "Alpha", None, True)
        assert a.id == b.id and b.display_name == "A2" and b.reachable and not a.reachable
        assert (await repos.people.by_username("@ALPHA")) is not None

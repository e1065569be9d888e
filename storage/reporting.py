"""Reads for other systems (Open311 requests and their updates) and the API clients' keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.kernel.privacy import mask_personal_numbers
from domain.reporting.model import ApiClient, RequestLine, RequestQuery, UpdateLine
from storage.orm import ApiKeyRow, CaseEventRow, CaseRow, DeadlineRow, UnitRow

OPEN = ("new", "claimed", "on_site")


class RequestRepo:
    """Cases as requests, newest first, with their first resolve deadline and their unit's name."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def find(self, query: RequestQuery) -> list[RequestLine]:
        """Cases by number, or by category, time and open/closed (at most `limit`)."""
        due = (
            select(func.min(DeadlineRow.due_at))
            .where(DeadlineRow.case_id == CaseRow.id, DeadlineRow.kind == "resolve", DeadlineRow.state != "cancelled")
            .correlate(CaseRow)
            .scalar_subquery()
        )
        stmt = select(CaseRow, UnitRow.name, due).join(UnitRow, UnitRow.code == CaseRow.unit_code)
        if query.numbers:
            stmt = stmt.where(CaseRow.number.in_(query.numbers))
        else:
            if query.categories:
                stmt = stmt.where(CaseRow.category.in_(query.categories))
            if query.start is not None:
                stmt = stmt.where(CaseRow.created_at >= query.start)
            if query.end is not None:
                stmt = stmt.where(CaseRow.created_at <= query.end)
            if query.open_states is True:
                stmt = stmt.where(CaseRow.state.in_(OPEN))
            elif query.open_states is False:
                stmt = stmt.where(CaseRow.state.not_in(OPEN))
        rows = await self.s.execute(stmt.order_by(CaseRow.created_at.desc(), CaseRow.id.desc()).limit(query.limit))
        return [
            RequestLine(
                c.number,
                c.category,
                mask_personal_numbers(c.description),
                unit,
                c.state,
                c.close_reason,
                c.created_at,
                c.updated_at,
                resolve_due,
                c.lat,
                c.lon,
                c.address,
            )
            for c, unit, resolve_due in rows.all()
        ]

    async def updates(self, start: datetime, end: datetime, limit: int) -> list[UpdateLine]:
        """Steps of any case in [start, end], oldest first."""
        rows = await self.s.execute(
            select(CaseEventRow, CaseRow.number)
            .join(CaseRow, CaseRow.id == CaseEventRow.case_id)
            .where(CaseEventRow.at >= start, CaseEventRow.at <= end)
            .order_by(CaseEventRow.at, CaseEventRow.id)
            .limit(limit)
        )
        return [
            UpdateLine(e.id, number, e.action, e.to_state, e.at, mask_personal_numbers(e.note) if e.note else None)
            for e, number in rows.all()
        ]

    async def filed_since(self, user_id: int, since: datetime) -> int:
        """How many cases this reporter filed since a moment."""
        found = await self.s.execute(
            select(func.count()).select_from(CaseRow).where(CaseRow.reporter_id == user_id, CaseRow.created_at >= since)
        )
        return int(found.scalar_one())


def _client(r: ApiKeyRow) -> ApiClient:
    return ApiClient(r.name, r.user_id, r.created_at, r.revoked_at is not None)


class ApiKeyRepo:
    """API clients by the hash of their key."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, name: str, key_hash: str, user_id: int, at: datetime) -> bool:
        """A new client; False if the name is taken."""
        try:
            async with self.s.begin_nested():
                await self.s.execute(
                    insert(ApiKeyRow).values(name=name, key_hash=key_hash, user_id=user_id, created_at=at)
                )
        except IntegrityError:
            return False
        return True

    async def by_hash(self, key_hash: str) -> ApiClient | None:
        """The client with this key."""
        row = (await self.s.execute(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash))).scalar_one_or_none()
        return _client(row) if row else None

    async def revoke(self, name: str) -> bool:
        """Stop a client's key; False if there is no such live client."""
        result = await self.s.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.name == name, ApiKeyRow.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )
        return bool(getattr(result, "rowcount", 0))

    async def all(self) -> list[ApiClient]:
        """Every client by name."""
        return [_client(r) for r in (await self.s.execute(select(ApiKeyRow).order_by(ApiKeyRow.name))).scalars()]

"""Reads for other systems (Open311 requests and their updates) and the API clients' keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.cases.model import Case
from domain.kernel.privacy import mask_personal_numbers
from domain.reporting.model import ApiClient, CaseFilter, RequestLine, RequestQuery, UpdateLine
from storage.cases import _case
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
                c.photo_file_id,
            )
            for c, unit, resolve_due in rows.all()
        ]

    async def updates(self, start: datetime, end: datetime, limit: int, offset: int = 0) -> list[UpdateLine]:
        """Steps of any case in [start, end], oldest first, a page at a time."""
        rows = await self.s.execute(
            select(CaseEventRow, CaseRow.number, CaseRow.category)
            .join(CaseRow, CaseRow.id == CaseEventRow.case_id)
            .where(CaseEventRow.at >= start, CaseEventRow.at <= end)
            .order_by(CaseEventRow.at, CaseEventRow.id)
            .limit(limit)
            .offset(offset)
        )
        return [
            UpdateLine(
                e.id,
                number,
                e.action,
                e.to_state,
                e.at,
                mask_personal_numbers(e.note) if e.note else None,
                None,
                category,
                e.photo_file_id,
            )
            for e, number, category in rows.all()
        ]

    async def step_photo(self, number: str, update_id: int) -> str | None:
        """The photo of one step of a case (None if the step has none or is not the case's)."""
        return (
            await self.s.execute(
                select(CaseEventRow.photo_file_id)
                .join(CaseRow, CaseRow.id == CaseEventRow.case_id)
                .where(CaseRow.number == number, CaseEventRow.id == update_id)
            )
        ).scalar_one_or_none()

    async def browse(self, f: CaseFilter, units: list[str] | None, limit: int, now: datetime) -> list[Case]:
        """The console's list: newest first, filtered, paged by id."""
        stmt = select(CaseRow)
        if units is not None:
            stmt = stmt.where(CaseRow.unit_code.in_(units))
        if f.states:
            stmt = stmt.where(CaseRow.state.in_(f.states))
        if f.categories:
            stmt = stmt.where(CaseRow.category.in_(f.categories))
        if f.urgent is not None:
            stmt = stmt.where(CaseRow.urgent.is_(f.urgent))
        if f.start is not None:
            stmt = stmt.where(CaseRow.created_at >= f.start)
        if f.end is not None:
            stmt = stmt.where(CaseRow.created_at < f.end)
        if f.text:
            text = f.text.strip()[:100]
            stmt = stmt.where(or_(CaseRow.number == text.upper(), CaseRow.description.contains(text, autoescape=True)))
        if f.overdue:
            stmt = stmt.where(CaseRow.id.in_(_binding_missed()))
        if f.before_id is not None:
            stmt = stmt.where(CaseRow.id < f.before_id)
        rows = await self.s.execute(stmt.order_by(CaseRow.id.desc()).limit(limit))
        return [_case(r) for r in rows.scalars()]

    async def overdue_among(self, case_ids: list[int]) -> set[int]:
        """Which of these cases have a clock that ran out and still binds."""
        if not case_ids:
            return set()
        rows = await self.s.execute(_binding_missed().where(DeadlineRow.case_id.in_(case_ids)))
        return {int(x) for x in rows.scalars()}

    async def tallies(
        self, units: list[str] | None, start: datetime, end: datetime, places: int
    ) -> tuple[dict[str, int], list[tuple[str, int]]]:
        """Cases received in a window by category, and the places named most often."""
        scope = [CaseRow.created_at >= start, CaseRow.created_at < end]
        if units is not None:
            scope.append(CaseRow.unit_code.in_(units))
        by_category = await self.s.execute(
            select(CaseRow.category, func.count()).where(*scope).group_by(CaseRow.category)
        )
        top = await self.s.execute(
            select(CaseRow.address, func.count())
            .where(*scope, CaseRow.address.is_not(None))
            .group_by(CaseRow.address)
            .order_by(func.count().desc(), CaseRow.address)
            .limit(places)
        )
        return {c: int(n) for c, n in by_category.all()}, [(str(a), int(n)) for a, n in top.all()]

    async def open_pins(self, units: list[str] | None, limit: int) -> list[Case]:
        """Open cases with a point, newest first (for the map)."""
        stmt = select(CaseRow).where(CaseRow.state.in_(OPEN), CaseRow.lat.is_not(None))
        if units is not None:
            stmt = stmt.where(CaseRow.unit_code.in_(units))
        rows = await self.s.execute(stmt.order_by(CaseRow.id.desc()).limit(limit))
        return [_case(r) for r in rows.scalars()]

    async def filed_since(self, user_id: int, since: datetime) -> int:
        """How many cases this reporter filed since a moment."""
        found = await self.s.execute(
            select(func.count()).select_from(CaseRow).where(CaseRow.reporter_id == user_id, CaseRow.created_at >= since)
        )
        return int(found.scalar_one())


def _binding_missed() -> Select[Any]:
    # A missed clock that still binds in the case's state (a late claim is history once claimed).
    binds = or_(
        and_(CaseRow.state == "new", DeadlineRow.kind.in_(("claim", "resolve"))),
        and_(CaseRow.state == "claimed", DeadlineRow.kind.in_(("on_site", "resolve"))),
        and_(CaseRow.state == "on_site", DeadlineRow.kind == "resolve"),
    )
    return (
        select(DeadlineRow.case_id)
        .join(CaseRow, CaseRow.id == DeadlineRow.case_id)
        .where(DeadlineRow.state == "missed", binds)
    )


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

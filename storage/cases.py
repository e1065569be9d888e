"""Cases, their timelines, drafts, labelled examples and group offers."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.cases.model import Case, CaseEvent, CaseState, Draft, GroupOffer, LabelledExample
from domain.kernel.people import Role
from domain.kernel.rating import Rating
from storage.db import Clock, conflict_insert
from storage.orm import CaseEventRow, CaseRow, CaseSeqRow, DraftRow, ExampleRow, GroupOfferRow


def _case(row: CaseRow) -> Case:
    return Case(
        id=row.id,
        number=row.number,
        reporter_id=row.reporter_id,
        reporter_role=Role(row.reporter_role),
        description=row.description,
        category=row.category,
        unit_code=row.unit_code,
        state=CaseState(row.state),
        rev=row.rev,
        created_at=row.created_at,
        photo_file_id=row.photo_file_id,
        lat=row.lat,
        lon=row.lon,
        address=row.address,
        fallback=row.fallback,
        confidence=row.confidence,
        model_version=row.model_version,
        assignee_id=row.assignee_id,
        reopen_count=row.reopen_count,
        rating=Rating(row.rating) if row.rating else None,
    )


_CASE_FIELDS = {f.name for f in dataclasses.fields(Case)} - {"id"}


class CaseRepo:
    """Cases and events."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def next_seq(self, day: str) -> int:
        """Atomically take the next number of the day (upsert … returning works on SQLite ≥ 3.35 and PG)."""
        stmt = (
            conflict_insert(self.s)(CaseSeqRow)
            .values(day=day, last=1)
            .on_conflict_do_update(index_elements=["day"], set_={"last": CaseSeqRow.last + 1})
            .returning(CaseSeqRow.last)
        )
        return int((await self.s.execute(stmt)).scalar_one())

    async def add(self, case: Case) -> Case:
        """Insert; returns the case with its id."""
        values = {k: getattr(case, k) for k in _CASE_FIELDS}
        values["reporter_role"] = case.reporter_role.value
        values["state"] = case.state.value
        values["rating"] = case.rating.value if case.rating else None
        values["updated_at"] = case.created_at
        new_id = (await self.s.execute(insert(CaseRow).values(**values).returning(CaseRow.id))).scalar_one()
        return dataclasses.replace(case, id=int(new_id))

    async def get(self, case_id: int) -> Case | None:
        """By id (fresh from the database, not the identity map)."""
        row = (
            await self.s.execute(select(CaseRow).where(CaseRow.id == case_id).execution_options(populate_existing=True))
        ).scalar_one_or_none()
        return _case(row) if row else None

    async def transition(self, case_id: int, expected: CaseState, rev: int, to: CaseState, **changes: object) -> bool:
        """Compare-and-set on (state, rev): exactly one of two racing presses wins."""
        bad = set(changes) - _CASE_FIELDS
        if bad:
            raise ValueError(f"unknown case fields {bad}")
        res = await self.s.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id, CaseRow.state == expected.value, CaseRow.rev == rev)
            .values(state=to.value, rev=CaseRow.rev + 1, updated_at=self.clock(), **changes)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def add_event(self, event: CaseEvent) -> None:
        """Record a transition."""
        self.s.add(
            CaseEventRow(
                case_id=event.case_id,
                actor_id=event.actor_id,
                at=event.at,
                from_state=event.from_state.value if event.from_state else None,
                to_state=event.to_state.value,
                action=event.action,
                note=event.note,
                photo_file_id=event.photo_file_id,
            )
        )
        await self.s.flush()

    async def events(self, case_id: int) -> list[CaseEvent]:
        """A case's timeline, oldest first."""
        rows = await self.s.execute(
            select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
        )
        return [
            CaseEvent(
                r.case_id,
                r.actor_id,
                r.at,
                CaseState(r.from_state) if r.from_state else None,
                CaseState(r.to_state),
                r.action,
                r.note,
                r.photo_file_id,
            )
            for r in rows.scalars()
        ]

    async def by_reporter(self, user_id: int, limit: int) -> list[Case]:
        """Newest first."""
        rows = await self.s.execute(
            select(CaseRow).where(CaseRow.reporter_id == user_id).order_by(CaseRow.id.desc()).limit(limit)
        )
        return [_case(r) for r in rows.scalars()]


_DRAFT_FIELDS = [f.name for f in dataclasses.fields(Draft) if f.name != "user_id"]


class DraftRepo:
    """Drafts as one JSON document per user: the shape changes more often than it is queried."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock
        self._rows: dict[int, DraftRow | None] = {}

    async def _row(self, user_id: int) -> DraftRow | None:
        # Strong per-session cache: a draft is read several times per update; absence is cached too.
        if user_id not in self._rows:
            self._rows[user_id] = await self.s.get(DraftRow, user_id)
        return self._rows[user_id]

    async def get(self, user_id: int) -> Draft | None:
        """The user's draft."""
        row = await self._row(user_id)
        if row is None:
            return None
        return Draft(user_id=user_id, **{k: row.data.get(k) for k in _DRAFT_FIELDS})

    async def save(self, draft: Draft) -> None:
        """Create or replace."""
        data = {k: getattr(draft, k) for k in _DRAFT_FIELDS}
        row = await self._row(draft.user_id)
        if row is None:
            row = DraftRow(user_id=draft.user_id, data=data, updated_at=self.clock())
            self.s.add(row)
            self._rows[draft.user_id] = row
        else:
            row.data = data
            row.updated_at = self.clock()
        await self.s.flush()

    async def delete(self, user_id: int) -> None:
        """Drop."""
        row = await self._row(user_id)
        if row is not None:
            await self.s.delete(row)
            await self.s.flush()
        self._rows[user_id] = None


def _example(r: ExampleRow) -> LabelledExample:
    return LabelledExample(
        text=r.text,
        source=r.source,
        intent=r.intent,
        category=r.category,
        user_id=r.user_id,
        case_id=r.case_id,
        model_version=r.model_version,
        predicted_intent=r.predicted_intent,
        predicted_category=r.predicted_category,
        id=r.id,
    )


class ExampleRepo:
    """Labelled examples."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def add(self, example: LabelledExample) -> int:
        """Store; an example with an intent counts as answered now."""
        now = self.clock()
        row = ExampleRow(
            text=example.text,
            intent=example.intent,
            category=example.category,
            source=example.source,
            user_id=example.user_id,
            case_id=example.case_id,
            model_version=example.model_version,
            predicted_intent=example.predicted_intent,
            predicted_category=example.predicted_category,
            created_at=now,
            answered_at=now if example.intent else None,
        )
        self.s.add(row)
        await self.s.flush()
        return row.id

    async def get(self, example_id: int) -> LabelledExample | None:
        """By id."""
        row = await self.s.get(ExampleRow, example_id)
        return _example(row) if row else None

    async def answer(self, example_id: int, intent: str, category: str | None) -> bool:
        """Record the answer to a clarification once; False if it was answered before."""
        res = await self.s.execute(
            update(ExampleRow)
            .where(ExampleRow.id == example_id, ExampleRow.intent.is_(None))
            .values(intent=intent, category=category, answered_at=self.clock())
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def answered(self) -> list[LabelledExample]:
        """Every labelled (answered) example, oldest first."""
        rows = await self.s.execute(select(ExampleRow).where(ExampleRow.intent.is_not(None)).order_by(ExampleRow.id))
        return [_example(r) for r in rows.scalars()]


def _offer(r: GroupOfferRow) -> GroupOffer:
    return GroupOffer(r.id, r.unit_code or "", r.user_id, r.text, r.photo_file_id, r.state)


class OfferRepo:
    """Group offers."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def last_offer_at(self, unit_code: str, user_id: int) -> datetime | None:
        """When this author was last offered anything in this unit's group."""
        at = (
            await self.s.execute(
                select(func.max(GroupOfferRow.created_at)).where(
                    GroupOfferRow.unit_code == unit_code, GroupOfferRow.user_id == user_id
                )
            )
        ).scalar_one_or_none()
        return at

    async def add(self, offer: GroupOffer, at: datetime) -> int:
        """Store an open offer."""
        row = GroupOfferRow(
            unit_code=offer.unit_code,
            user_id=offer.user_id,
            text=offer.text,
            photo_file_id=offer.photo_file_id,
            state="open",
            created_at=at,
        )
        self.s.add(row)
        await self.s.flush()
        return row.id

    async def get(self, offer_id: int) -> GroupOffer | None:
        """By id."""
        row = await self.s.get(GroupOfferRow, offer_id)
        return _offer(row) if row else None

    async def close(self, offer_id: int, state: str) -> bool:
        """Accept or decline once."""
        res = await self.s.execute(
            update(GroupOfferRow).where(GroupOfferRow.id == offer_id, GroupOfferRow.state == "open").values(state=state)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

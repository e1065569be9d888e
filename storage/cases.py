"""Cases, their timelines, drafts, labelled examples and group offers."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.cases.model import Case, CaseEvent, CaseState, Deadline, DepartmentCall, Draft, GroupOffer, LabelledExample
from domain.kernel.people import Role
from domain.kernel.rating import Rating
from storage.db import Clock, conflict_insert
from storage.media import MediaQueue
from storage.orm import (
    CallRow,
    CaseEventRow,
    CaseRow,
    CaseSeqRow,
    DeadlineRow,
    DraftRow,
    ExampleRow,
    FollowerRow,
    GroupOfferRow,
)


def _case(row: CaseRow | Row[Any]) -> Case:
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
        urgent=row.urgent,
        photo_unique_id=row.photo_unique_id,
        merged_into=row.merged_into,
        close_reason=row.close_reason,
        origin_unit=row.origin_unit,
        on_behalf=row.on_behalf,
    )


def _event(r: CaseEventRow) -> CaseEvent:
    return CaseEvent(
        r.case_id,
        r.actor_id,
        r.at,
        CaseState(r.from_state) if r.from_state else None,
        CaseState(r.to_state),
        r.action,
        r.note,
        r.photo_file_id,
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
        # The photo is fetched into the office's store by the runner, in this same transaction's wake.
        await MediaQueue(self.s, self.clock).note(case.photo_file_id)
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
        await MediaQueue(self.s, self.clock).note(event.photo_file_id)
        await self.s.flush()

    async def events(self, case_id: int) -> list[CaseEvent]:
        """A case's timeline, oldest first."""
        rows = await self.s.execute(
            select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
        )
        return [_event(r) for r in rows.scalars()]

    async def by_number(self, number: str) -> Case | None:
        """By its number."""
        row = (await self.s.execute(select(CaseRow).where(CaseRow.number == number))).scalar_one_or_none()
        return _case(row) if row else None

    async def set_fields(self, case_id: int, **changes: object) -> None:
        """Fields that are not a transition."""
        await self.s.execute(update(CaseRow).where(CaseRow.id == case_id).values(**changes))

    async def open_near(self, category: str, since: datetime, lat: float, lon: float, radius_m: float) -> list[Case]:
        """Open cases of a category from `since` within a box around the point (the caller measures exactly)."""
        dlat = radius_m / 110_574.0
        dlon = radius_m / (111_320.0 * max(0.1, math.cos(math.radians(lat))))
        rows = await self.s.execute(
            select(CaseRow).where(
                CaseRow.category == category,
                CaseRow.state.in_(("new", "claimed", "on_site")),
                CaseRow.created_at >= since,
                CaseRow.lat.between(lat - dlat, lat + dlat),
                CaseRow.lon.between(lon - dlon, lon + dlon),
            )
        )
        return [_case(r) for r in rows.scalars()]

    async def open_in(self, units: list[str], limit: int) -> list[Case]:
        """Open cases now held by these units, newest first."""
        rows = await self.s.execute(
            select(CaseRow)
            .where(CaseRow.unit_code.in_(units), CaseRow.state.in_(("new", "claimed", "on_site")))
            .order_by(CaseRow.id.desc())
            .limit(limit)
        )
        return [_case(r) for r in rows.scalars()]

    async def open_with_photo(self, photo_unique_id: str) -> list[Case]:
        """Open cases with the very same photo file."""
        rows = await self.s.execute(
            select(CaseRow).where(
                CaseRow.photo_unique_id == photo_unique_id, CaseRow.state.in_(("new", "claimed", "on_site"))
            )
        )
        return [_case(r) for r in rows.scalars()]

    async def in_month(self, units: list[str], start: datetime, end: datetime) -> list[Case]:
        """Cases received in [start, end) that were first sent to one of the units."""
        # Plain rows, not ORM objects: a month of a big street is tens of thousands of cases, read to be counted;
        # filling the identity map with them costs most of the time.
        rows = await self.s.execute(
            select(*CaseRow.__table__.c).where(
                func.coalesce(CaseRow.origin_unit, CaseRow.unit_code).in_(units),
                CaseRow.created_at >= start,
                CaseRow.created_at < end,
            )
        )
        return [_case(r) for r in rows]

    async def events_of(self, case_ids: list[int]) -> list[CaseEvent]:
        """The timelines of many cases, oldest first."""
        if not case_ids:
            return []
        out: list[CaseEvent] = []
        for i in range(0, len(case_ids), 500):
            rows = await self.s.execute(
                select(CaseEventRow).where(CaseEventRow.case_id.in_(case_ids[i : i + 500])).order_by(CaseEventRow.id)
            )
            out += [_event(r) for r in rows.scalars()]
        return out

    async def with_action(self, case_ids: list[int], action: str) -> set[int]:
        """Which of these cases have at least one event of this action (the 三率 need a yes, not the timeline)."""
        out: set[int] = set()
        for i in range(0, len(case_ids), 500):
            rows = await self.s.execute(
                select(CaseEventRow.case_id)
                .where(CaseEventRow.case_id.in_(case_ids[i : i + 500]), CaseEventRow.action == action)
                .distinct()
            )
            out.update(rows.scalars())
        return out

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


def _deadline(r: DeadlineRow | Row[Any]) -> Deadline:
    return Deadline(
        r.id, r.case_id, r.kind, r.started_at, r.due_at, r.state, r.reminders_sent, r.estimated, r.paused_at, r.ref,
        r.next_at, r.working,
    )  # fmt: skip


class DeadlineRepo:
    """Clocks on cases."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, d: Deadline) -> int:
        """Insert; returns the id."""
        row = DeadlineRow(
            case_id=d.case_id,
            kind=d.kind,
            started_at=d.started_at,
            due_at=d.due_at,
            state=d.state,
            reminders_sent=d.reminders_sent,
            estimated=d.estimated,
            paused_at=d.paused_at,
            ref=d.ref,
            next_at=d.next_at,
            working=d.working,
        )
        self.s.add(row)
        await self.s.flush()
        return row.id

    async def open_for(self, case_id: int) -> list[Deadline]:
        """A case's running clocks."""
        rows = await self.s.execute(
            select(DeadlineRow)
            .where(DeadlineRow.case_id == case_id, DeadlineRow.state == "open")
            .order_by(DeadlineRow.id)
            .execution_options(populate_existing=True)
        )
        return [_deadline(r) for r in rows.scalars()]

    async def update(self, deadline_id: int, expected_state: str, **values: object) -> bool:
        """Compare-and-set on the state."""
        res = await self.s.execute(
            update(DeadlineRow)
            .where(DeadlineRow.id == deadline_id, DeadlineRow.state == expected_state)
            .values(**values)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def due(self, now: datetime, limit: int) -> list[Deadline]:
        """Running clocks with something due by now, locked for this transaction; rows another sweeper holds
        are skipped (PostgreSQL), so two sweepers never act on the same one."""
        stmt = (
            select(DeadlineRow)
            .where(DeadlineRow.state == "open", DeadlineRow.paused_at.is_(None), DeadlineRow.next_at <= now)
            .order_by(DeadlineRow.next_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return [_deadline(r) for r in (await self.s.execute(stmt)).scalars()]

    async def of_cases(self, case_ids: list[int]) -> list[Deadline]:
        """Every clock of these cases."""
        out: list[Deadline] = []
        for i in range(0, len(case_ids), 500):
            rows = await self.s.execute(
                select(*DeadlineRow.__table__.c)
                .where(DeadlineRow.case_id.in_(case_ids[i : i + 500]))
                .order_by(DeadlineRow.id)
            )
            out += [_deadline(r) for r in rows]  # plain rows, always as stored now (see in_month)
        return out


class FollowerRepo:
    """People following a case they also reported."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, case_id: int, user_id: int, at: datetime) -> bool:
        """Follow (once)."""
        stmt = (
            conflict_insert(self.s)(FollowerRow)
            .values(case_id=case_id, user_id=user_id, created_at=at)
            .on_conflict_do_nothing(index_elements=["case_id", "user_id"])
            .returning(FollowerRow.user_id)
        )
        return (await self.s.execute(stmt)).scalar_one_or_none() is not None

    async def of_case(self, case_id: int) -> list[int]:
        """Who follows a case, first first."""
        rows = await self.s.execute(
            select(FollowerRow.user_id).where(FollowerRow.case_id == case_id).order_by(FollowerRow.created_at)
        )
        return [int(x) for x in rows.scalars()]

    async def counts(self, case_ids: list[int]) -> dict[int, int]:
        """How many follow each of these cases (cases nobody follows are left out)."""
        out: dict[int, int] = {}
        for i in range(0, len(case_ids), 500):
            rows = await self.s.execute(
                select(FollowerRow.case_id, func.count())
                .where(FollowerRow.case_id.in_(case_ids[i : i + 500]))
                .group_by(FollowerRow.case_id)
            )
            out.update({int(c): int(n) for c, n in rows.all()})
        return out


def _call(r: CallRow) -> DepartmentCall:
    return DepartmentCall(
        r.case_id, r.department, r.called_at, r.called_by, r.note, r.state, r.reported_at, r.done_at, r.done_note
    )


class CallRepo:
    """Departments called to cases."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, call: DepartmentCall) -> bool:
        """Call (once per department and case)."""
        stmt = (
            conflict_insert(self.s)(CallRow)
            .values(
                case_id=call.case_id,
                department=call.department,
                called_at=call.called_at,
                called_by=call.called_by,
                note=call.note,
                state=call.state,
            )
            .on_conflict_do_nothing(index_elements=["case_id", "department"])
            .returning(CallRow.department)
        )
        return (await self.s.execute(stmt)).scalar_one_or_none() is not None

    async def get(self, case_id: int, department: str) -> DepartmentCall | None:
        """One call, fresh."""
        row = (
            await self.s.execute(
                select(CallRow)
                .where(CallRow.case_id == case_id, CallRow.department == department)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return _call(row) if row else None

    async def of_case(self, case_id: int) -> list[DepartmentCall]:
        """Every department called to a case."""
        rows = await self.s.execute(
            select(CallRow)
            .where(CallRow.case_id == case_id)
            .order_by(CallRow.called_at)
            .execution_options(populate_existing=True)
        )
        return [_call(r) for r in rows.scalars()]

    async def of_cases(self, case_ids: list[int]) -> list[DepartmentCall]:
        """Every department called to any of these cases."""
        out: list[DepartmentCall] = []
        for i in range(0, len(case_ids), 500):
            rows = await self.s.execute(
                select(CallRow)
                .where(CallRow.case_id.in_(case_ids[i : i + 500]))
                .order_by(CallRow.called_at)
                .execution_options(populate_existing=True)
            )
            out += [_call(r) for r in rows.scalars()]
        return out

    async def of_department(self, department: str, since: datetime, until: datetime) -> list[DepartmentCall]:
        """A department's (or property company's) calls made in [since, until)."""
        rows = await self.s.execute(
            select(CallRow)
            .where(CallRow.department == department, CallRow.called_at >= since, CallRow.called_at < until)
            .order_by(CallRow.called_at)
        )
        return [_call(r) for r in rows.scalars()]

    async def update(self, case_id: int, department: str, expected_state: str, **values: object) -> bool:
        """Compare-and-set on the state."""
        res = await self.s.execute(
            update(CallRow)
            .where(CallRow.case_id == case_id, CallRow.department == department, CallRow.state == expected_state)
            .values(**values)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

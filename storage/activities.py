"""Activities and sign-ups: seats are a conditional counter, so confirmed sign-ups never exceed capacity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.activities import Activity, Signup
from domain.activity_file import ActivitySpec
from storage.db import conflict_insert
from storage.orm import ActivityRow, SignupRow


def _activity(r: ActivityRow) -> Activity:
    return Activity(
        r.id,
        r.community_code,
        r.title,
        r.description,
        r.place,
        r.lat,
        r.lon,
        r.start_at,
        r.end_at,
        r.capacity,
        r.taken,
        r.points_rule,
        r.points,
        r.team,
        r.signup_cutoff_hours,
        r.checkin_code,
        r.state,
    )


def _signup(r: SignupRow) -> Signup:
    return Signup(
        r.id,
        r.activity_id,
        r.user_id,
        r.state,
        r.checkin_at,
        r.checkout_at,
        r.hours,
        list(r.reminder_ids or []),
    )


class ActivityRepo:
    """Activities and sign-ups of one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, spec: ActivitySpec, code: str, at: datetime) -> Activity:
        """Insert a published activity."""
        row = ActivityRow(
            community_code=spec.community,
            title=spec.title,
            description=spec.description,
            place=spec.place,
            lat=spec.lat,
            lon=spec.lon,
            start_at=spec.start,
            end_at=spec.end,
            capacity=spec.capacity,
            taken=0,
            points_rule=spec.points_rule,
            points=spec.points,
            team=spec.team,
            signup_cutoff_hours=spec.signup_cutoff_hours,
            checkin_code=code,
            state="published",
            created_at=at,
        )
        self.s.add(row)
        await self.s.flush()
        return _activity(row)

    async def get(self, activity_id: int) -> Activity | None:
        """By id, fresh."""
        row = (
            await self.s.execute(
                select(ActivityRow).where(ActivityRow.id == activity_id).execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return _activity(row) if row else None

    async def lock(self, activity_id: int) -> Activity | None:
        """The activity, locked until the transaction ends: its seat changes happen one at a time.

        PostgreSQL takes a row lock (SELECT … FOR UPDATE); on SQLite the transaction already holds the write
        lock (BEGIN IMMEDIATE), so nothing else can change seats meanwhile.
        """
        row = (
            await self.s.execute(
                select(ActivityRow)
                .where(ActivityRow.id == activity_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return _activity(row) if row else None

    async def upcoming(self, now: datetime, limit: int) -> list[Activity]:
        """Published, not started, soonest first."""
        rows = await self.s.execute(
            select(ActivityRow)
            .where(ActivityRow.state == "published", ActivityRow.start_at > now)
            .order_by(ActivityRow.start_at)
            .limit(limit)
        )
        return [_activity(r) for r in rows.scalars()]

    async def take_seat(self, activity_id: int) -> bool:
        """taken += 1 only while below capacity."""
        res = await self.s.execute(
            update(ActivityRow)
            .where(ActivityRow.id == activity_id, ActivityRow.taken < ActivityRow.capacity)
            .values(taken=ActivityRow.taken + 1)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def free_seat(self, activity_id: int) -> None:
        """taken -= 1."""
        await self.s.execute(
            update(ActivityRow)
            .where(ActivityRow.id == activity_id, ActivityRow.taken > 0)
            .values(taken=ActivityRow.taken - 1)
        )

    async def signup(self, activity_id: int, user_id: int) -> Signup | None:
        """A person's sign-up, fresh."""
        row = (
            await self.s.execute(
                select(SignupRow)
                .where(SignupRow.activity_id == activity_id, SignupRow.user_id == user_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return _signup(row) if row else None

    async def create_signup(self, activity_id: int, user_id: int, at: datetime) -> Signup | None:
        """Insert a pending sign-up; None when one exists already (a simultaneous repeat tap)."""
        insert = conflict_insert(self.s)
        new_id = (
            await self.s.execute(
                insert(SignupRow)
                .values(activity_id=activity_id, user_id=user_id, state="pending", created_at=at)
                .on_conflict_do_nothing(index_elements=["activity_id", "user_id"])
                .returning(SignupRow.id)
            )
        ).scalar_one_or_none()
        return Signup(int(new_id), activity_id, user_id, "pending") if new_id is not None else None

    async def set_signup(self, signup_id: int, expected: str | None = None, **values: object) -> bool:
        """Update a sign-up, only if it is still in `expected` state when one is given."""
        stmt = update(SignupRow).where(SignupRow.id == signup_id)
        if expected is not None:
            stmt = stmt.where(SignupRow.state == expected)
        res = await self.s.execute(stmt.values(**values))
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def waitlist(self, activity_id: int) -> list[Signup]:
        """Waitlisted sign-ups, first come first."""
        rows = await self.s.execute(
            select(SignupRow)
            .where(SignupRow.activity_id == activity_id, SignupRow.state == "waitlisted")
            .order_by(SignupRow.id)
        )
        return [_signup(r) for r in rows.scalars()]

    async def mine(self, user_id: int, since: datetime) -> list[tuple[Activity, Signup]]:
        """A person's activities ending after `since`."""
        rows = await self.s.execute(
            select(ActivityRow, SignupRow)
            .join(SignupRow, SignupRow.activity_id == ActivityRow.id)
            .where(SignupRow.user_id == user_id, ActivityRow.end_at >= since, SignupRow.state != "cancelled")
            .order_by(ActivityRow.start_at)
        )
        return [(_activity(a), _signup(s)) for a, s in rows.all()]

    async def signups(self, activity_id: int) -> list[Signup]:
        """Every sign-up of an activity."""
        rows = await self.s.execute(
            select(SignupRow).where(SignupRow.activity_id == activity_id).order_by(SignupRow.id)
        )
        return [_signup(r) for r in rows.scalars()]

"""Volunteers and teams, activities and sign-ups, service orders, multi-step forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.kernel.people import User
from domain.volunteering.activity_file import ActivitySpec
from domain.volunteering.model import Activity, ServiceOrder, Signup, Team, Volunteer
from storage.db import Clock, conflict_insert
from storage.orm import ActivityRow, FormRow, ServiceOrderRow, SignupRow, TeamRow, UserRow, VolunteerRow
from storage.people import _user


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


def _vol(r: VolunteerRow) -> Volunteer:
    return Volunteer(r.user_id, r.phone, r.real_name, r.community_code, r.team_id, r.state, r.step)


class VolunteerRepo:
    """Registration rows, one per user."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def get(self, user_id: int) -> Volunteer | None:
        """By user, fresh."""
        row = (
            await self.s.execute(
                select(VolunteerRow).where(VolunteerRow.user_id == user_id).execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return _vol(row) if row else None

    async def save(self, v: Volunteer) -> None:
        """Create or replace."""
        row = await self.s.get(VolunteerRow, v.user_id)
        if row is None:
            row = VolunteerRow(user_id=v.user_id, created_at=self.clock())
            self.s.add(row)
        row.phone, row.real_name, row.community_code = v.phone, v.real_name, v.community_code
        row.team_id, row.state, row.step = v.team_id, v.state, v.step
        await self.s.flush()

    async def set_state(self, user_id: int, expected: str, state: str, by: int | None) -> bool:
        """Compare-and-set on the state."""
        res = await self.s.execute(
            update(VolunteerRow)
            .where(VolunteerRow.user_id == user_id, VolunteerRow.state == expected)
            .values(state=state, decided_by=by)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def of_community(self, code: str) -> list[tuple[Volunteer, User]]:
        """A community's registered volunteers with their users."""
        rows = await self.s.execute(
            select(VolunteerRow, UserRow)
            .join(UserRow, UserRow.id == VolunteerRow.user_id)
            .where(VolunteerRow.community_code == code, VolunteerRow.state != "draft")
            .order_by(VolunteerRow.created_at)
        )
        return [(_vol(v), _user(u)) for v, u in rows.all()]

    async def teams(self, code: str) -> list[Team]:
        """A community's teams."""
        rows = await self.s.execute(select(TeamRow).where(TeamRow.community_code == code).order_by(TeamRow.id))
        return [Team(r.id, r.community_code, r.name, r.leader_id) for r in rows.scalars()]

    async def add_team(self, code: str, name: str, leader_id: int | None) -> Team:
        """Create a team (or update its leader)."""
        row = (
            await self.s.execute(select(TeamRow).where(TeamRow.community_code == code, TeamRow.name == name))
        ).scalar_one_or_none()
        if row is None:
            row = TeamRow(community_code=code, name=name, leader_id=leader_id)
            self.s.add(row)
        else:
            row.leader_id = leader_id
        await self.s.flush()
        return Team(row.id, row.community_code, row.name, row.leader_id)


def _order(r: ServiceOrderRow) -> ServiceOrder:
    return ServiceOrder(r.id, r.requester_id, r.what, r.state, r.community_code, r.when_text, r.volunteer_id, r.rating)


class OrderRepo:
    """Service orders of one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, requester_id: int, what: str, at: datetime) -> ServiceOrder:
        """A draft order."""
        row = ServiceOrderRow(requester_id=requester_id, what=what, state="draft", created_at=at, flagged=False)
        self.s.add(row)
        await self.s.flush()
        return _order(row)

    async def get(self, order_id: int) -> ServiceOrder | None:
        """By id, fresh."""
        row = (
            await self.s.execute(
                select(ServiceOrderRow).where(ServiceOrderRow.id == order_id).execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return _order(row) if row else None

    async def update(self, order_id: int, expected: str, **values: object) -> bool:
        """Compare-and-set on the state."""
        stmt = update(ServiceOrderRow).where(ServiceOrderRow.id == order_id, ServiceOrderRow.state == expected)
        if "flagged" in values:
            stmt = stmt.where(ServiceOrderRow.flagged.is_(False))
        res = await self.s.execute(stmt.values(**values))
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    async def untaken(self, before: datetime) -> list[ServiceOrder]:
        """Open, unflagged orders posted before `before`."""
        rows = await self.s.execute(
            select(ServiceOrderRow).where(
                ServiceOrderRow.state == "open", ServiceOrderRow.flagged.is_(False), ServiceOrderRow.posted_at < before
            )
        )
        return [_order(r) for r in rows.scalars()]


class FormRepo:
    """One form per (user, kind)."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    async def get(self, user_id: int, kind: str) -> dict[str, Any] | None:
        """The form's data."""
        row = await self.s.get(FormRow, (user_id, kind))
        return dict(row.data) if row else None

    async def save(self, user_id: int, kind: str, data: dict[str, Any]) -> None:
        """Create or replace."""
        row = await self.s.get(FormRow, (user_id, kind))
        if row is None:
            self.s.add(FormRow(user_id=user_id, kind=kind, data=data, updated_at=self.clock()))
        else:
            row.data, row.updated_at = dict(data), self.clock()
        await self.s.flush()

    async def delete(self, user_id: int, kind: str) -> None:
        """Drop."""
        row = await self.s.get(FormRow, (user_id, kind))
        if row is not None:
            await self.s.delete(row)
            await self.s.flush()

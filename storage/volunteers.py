"""Volunteers and teams."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import User
from domain.volunteers import Team, Volunteer
from storage.orm import TeamRow, UserRow, VolunteerRow
from storage.repos import _user


def _vol(r: VolunteerRow) -> Volunteer:
    return Volunteer(r.user_id, r.phone, r.real_name, r.community_code, r.team_id, r.state, r.step)


class VolunteerRepo:
    """Registration rows, one per user."""

    def __init__(self, session: AsyncSession, clock: Callable[[], datetime]) -> None:
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

"""The reporting reads: hours, points and redemptions of some communities in a month, joined in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Float, String, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.reporting.model import ActivityLine, HoursLine, PointsLine, RedemptionLine, TeamLine
from storage.orm import (
    ActivityRow,
    HoursRow,
    LedgerRow,
    ShopItemRow,
    ShopOrderRow,
    SignupRow,
    TeamRow,
    UnitRow,
    UserRow,
    VolunteerRow,
)


class LedgerReadRepo:
    """Month slices of the ledgers (the domain's LedgerReads port); people by registered real name, else chat name."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def hours(self, communities: list[str], start: datetime, end: datetime) -> list[HoursLine]:
        """Hours booked to activities of these communities."""
        operator = aliased(UserRow)
        name = func.coalesce(VolunteerRow.real_name, UserRow.display_name)
        rows = await self.s.execute(
            select(HoursRow, name, UnitRow.name, ActivityRow.title, operator.display_name, UnitRow.code)
            .join(ActivityRow, HoursRow.ref == "activity:" + cast(ActivityRow.id, String))
            .join(UnitRow, UnitRow.code == ActivityRow.community_code)
            .join(UserRow, UserRow.id == HoursRow.user_id)
            .outerjoin(VolunteerRow, VolunteerRow.user_id == HoursRow.user_id)
            .outerjoin(operator, operator.id == HoursRow.operator_id)
            .where(
                ActivityRow.community_code.in_(communities),
                HoursRow.created_at >= start,
                HoursRow.created_at < end,
            )
            .order_by(HoursRow.created_at, HoursRow.id)
        )
        return [
            HoursLine(h.created_at, person, community, title, h.hours, h.kind, op, code)
            for h, person, community, title, op, code in rows.all()
        ]

    async def points(self, communities: list[str], start: datetime, end: datetime) -> list[PointsLine]:
        """Points rows booked to these communities (or, without one, to their volunteers)."""
        operator = aliased(UserRow)
        community = aliased(UnitRow)
        name = func.coalesce(VolunteerRow.real_name, UserRow.display_name)
        where_community = func.coalesce(LedgerRow.community_code, VolunteerRow.community_code)
        rows = await self.s.execute(
            select(LedgerRow, name, community.name, operator.display_name, community.code)
            .join(UserRow, UserRow.id == LedgerRow.user_id)
            .outerjoin(VolunteerRow, VolunteerRow.user_id == LedgerRow.user_id)
            .outerjoin(community, community.code == where_community)
            .outerjoin(operator, operator.id == LedgerRow.operator_id)
            .where(
                or_(
                    LedgerRow.community_code.in_(communities),
                    and_(LedgerRow.community_code.is_(None), VolunteerRow.community_code.in_(communities)),
                ),
                LedgerRow.created_at >= start,
                LedgerRow.created_at < end,
            )
            .order_by(LedgerRow.created_at, LedgerRow.id)
        )
        return [
            PointsLine(r.created_at, person, unit, r.kind, r.amount, r.reason, op, code, r.ref)
            for r, person, unit, op, code in rows.all()
        ]

    async def redemptions(self, communities: list[str], start: datetime, end: datetime) -> list[RedemptionLine]:
        """Orders in these communities' credit supermarkets."""
        closer = aliased(UserRow)
        name = func.coalesce(VolunteerRow.real_name, UserRow.display_name)
        rows = await self.s.execute(
            select(ShopOrderRow, ShopItemRow.name, name, UnitRow.name, closer.display_name, UnitRow.code)
            .join(ShopItemRow, ShopItemRow.id == ShopOrderRow.item_id)
            .join(UnitRow, UnitRow.code == ShopItemRow.community_code)
            .join(UserRow, UserRow.id == ShopOrderRow.user_id)
            .outerjoin(VolunteerRow, VolunteerRow.user_id == ShopOrderRow.user_id)
            .outerjoin(closer, closer.id == ShopOrderRow.closed_by)
            .where(
                ShopItemRow.community_code.in_(communities),
                ShopOrderRow.created_at >= start,
                ShopOrderRow.created_at < end,
            )
            .order_by(ShopOrderRow.created_at, ShopOrderRow.id)
        )
        return [
            RedemptionLine(o.created_at, o.code, item, o.price, person, unit, o.state, o.closed_at, by, code)
            for o, item, person, unit, by, code in rows.all()
        ]

    async def activities(self, communities: list[str], start: datetime, end: datetime) -> list[ActivityLine]:
        """Activities starting in the window, with their signups counted by state in the same query."""

        def count(*states: str) -> ColumnElement[int]:
            return func.coalesce(func.sum(case((SignupRow.state.in_(states), 1), else_=0)), 0)

        rows = await self.s.execute(
            select(
                ActivityRow,
                UnitRow.name,
                count("confirmed", "attended", "no_show"),
                count("waitlisted"),
                count("attended"),
                count("no_show"),
                func.coalesce(func.sum(SignupRow.hours), cast(0, Float)),
            )
            .join(UnitRow, UnitRow.code == ActivityRow.community_code)
            .outerjoin(SignupRow, SignupRow.activity_id == ActivityRow.id)
            .where(
                ActivityRow.community_code.in_(communities),
                ActivityRow.start_at >= start,
                ActivityRow.start_at < end,
            )
            .group_by(ActivityRow.id, UnitRow.name)
            .order_by(ActivityRow.start_at, ActivityRow.id)
        )
        return [
            ActivityLine(a.start_at, a.title, unit, a.place, a.team, a.capacity, int(signed), int(waiting),
                         int(came), int(absent), round(float(hours or 0), 2))
            for a, unit, signed, waiting, came, absent, hours in rows.all()
        ]  # fmt: skip

    async def teams(self, communities: list[str], start: datetime, end: datetime) -> list[TeamLine]:
        """Teams with their active members, and the activities they ran in the window with the hours booked."""
        members = (
            select(VolunteerRow.team_id, func.count().label("n"))
            .where(VolunteerRow.state == "active", VolunteerRow.team_id.is_not(None))
            .group_by(VolunteerRow.team_id)
            .subquery()
        )
        held = (
            select(
                ActivityRow.community_code,
                ActivityRow.team,
                func.count(func.distinct(ActivityRow.id)).label("n"),
                func.coalesce(func.sum(SignupRow.hours), cast(0, Float)).label("hours"),
            )
            .outerjoin(SignupRow, SignupRow.activity_id == ActivityRow.id)
            .where(ActivityRow.start_at >= start, ActivityRow.start_at < end, ActivityRow.team.is_not(None))
            .group_by(ActivityRow.community_code, ActivityRow.team)
            .subquery()
        )
        rows = await self.s.execute(
            select(TeamRow, UnitRow.name, UserRow.display_name, members.c.n, held.c.n, held.c.hours)
            .join(UnitRow, UnitRow.code == TeamRow.community_code)
            .outerjoin(UserRow, UserRow.id == TeamRow.leader_id)
            .outerjoin(members, members.c.team_id == TeamRow.id)
            .outerjoin(held, and_(held.c.community_code == TeamRow.community_code, held.c.team == TeamRow.name))
            .where(TeamRow.community_code.in_(communities))
            .order_by(UnitRow.name, TeamRow.name)
        )
        return [
            TeamLine(unit, t.name, leader, int(n or 0), int(acts or 0), round(float(hours or 0), 2))
            for t, unit, leader, n, acts, hours in rows.all()
        ]

"""What earns points elsewhere: reactions to other contexts' events, inside the same unit of work."""

from __future__ import annotations

from domain.kernel.errors import Conflict
from domain.kernel.events import AttendanceRecorded, CaseResolved, EventBus, HeadServed, HomeConfirmed, OrderRated
from domain.kernel.i18n import memo
from domain.kernel.notices import Audience, Notice, Notices
from domain.org.service import OrgService
from domain.points.ledger import PointsService
from domain.points.rules import PointsRules


class Rewards:
    """A resolved report earns its reporter points once; attendance earns hours (and points); a good service
    order earns its volunteer points."""

    def __init__(self, points: PointsService, org: OrgService, notices: Notices, rules: PointsRules) -> None:
        self.points = points
        self.org = org
        self.notices = notices
        self.rules = rules

    def subscribe(self, bus: EventBus) -> None:
        """Register the reactions."""
        bus.subscribe(CaseResolved, self.case_resolved)
        bus.subscribe(AttendanceRecorded, self.attendance)
        bus.subscribe(OrderRated, self.order_rated)
        bus.subscribe(HomeConfirmed, self.home_confirmed)
        bus.subscribe(HeadServed, self.head_served)

    async def case_resolved(self, event: CaseResolved) -> None:
        """Keyed by case: a reopened case resolved again earns nothing more."""
        amount = self.rules.report_points.get(event.category, self.rules.report_points_default)
        if amount <= 0 or not event.by_person:
            return
        community = await self.org.community_of(event.unit_code)
        earned = await self.points.earn(
            event.reporter_id,
            amount,
            memo("ledger.report", self.rules.locale, number=event.number),
            f"report:{event.case_id}",
            f"case:{event.case_id}",
            None,
            community,
        )
        if earned:
            await self.notices.emit(
                Notice(
                    "points.earned_report",
                    Audience.person(event.reporter_id),
                    {"number": event.number, "points": amount},
                )
            )

    async def attendance(self, event: AttendanceRecorded) -> None:
        """Hours first (stars follow), then the points that come with them."""
        if event.hours:
            await self.points.add_hours(
                event.user_id,
                event.hours,
                event.kind,
                event.hours_key,
                f"activity:{event.activity_id}",
                event.operator_id,
            )
        kind = "adjust" if event.kind == "correction" else "earn"
        if event.points > 0:
            await self.points.earn(
                event.user_id,
                event.points,
                event.title,
                event.points_key,
                f"activity:{event.activity_id}",
                event.operator_id,
                event.community_code,
                kind=kind,
            )
        elif event.points < 0:
            try:
                await self.points.spend(
                    event.user_id,
                    -event.points,
                    event.title,
                    event.points_key,
                    f"activity:{event.activity_id}",
                    kind=kind,
                    operator_id=event.operator_id,
                )
            except Conflict:
                raise Conflict("correction_spent") from None

    async def order_rated(self, event: OrderRated) -> None:
        """A satisfied resident's order earns its volunteer points."""
        if event.satisfied and self.rules.order_points > 0:
            await self.points.earn(
                event.volunteer_id,
                self.rules.order_points,
                memo("ledger.order", self.rules.locale, id=event.order_id),
                f"order:{event.order_id}",
                f"order:{event.order_id}",
                None,
                event.community_code,
            )

    async def home_confirmed(self, event: HomeConfirmed) -> None:
        """A building head's confirmation of a home earns points once per home."""
        if self.rules.head_confirm_points > 0:
            await self.points.earn(
                event.head_id,
                self.rules.head_confirm_points,
                memo("ledger.home", self.rules.locale, id=event.home_id),
                f"home:{event.home_id}",
                f"home:{event.home_id}",
                None,
                event.community_code,
            )

    async def head_served(self, event: HeadServed) -> None:
        """A month as a building head earns points once per person and month."""
        if self.rules.head_month_points > 0:
            await self.points.earn(
                event.head_id,
                self.rules.head_month_points,
                memo("ledger.head_month", self.rules.locale, month=event.month),
                f"head:{event.head_id}:{event.month}",
                f"head:{event.month}",
                None,
                event.community_code,
            )

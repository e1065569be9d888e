"""The domain's services for one unit of work, built from that unit of work's ports and the rules in force.

This is the one module that knows every context; contexts themselves know only the kernel and `org`, and
reach each other through events (a resolved case earns points: `points.rewards`). Services are built on
first use, so an update pays only for what it touches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from domain.cases.access import CaseAccess
from domain.cases.bodies import body_figures
from domain.cases.deadlines import DeadlineClock
from domain.cases.departments import WhistleService
from domain.cases.duplicates import DuplicateService
from domain.cases.handling import Handling
from domain.cases.intake import ReportService
from domain.cases.listening import GroupService
from domain.cases.oversight import Oversight
from domain.cases.ports import Calls, Cases, Deadlines, Drafts, Examples, Followers, Offers, RateSnapshots
from domain.cases.post import CasePost
from domain.cases.record import CaseRecord
from domain.cases.rules import CaseRules
from domain.cases.service import CaseService
from domain.cases.stats import StatsService
from domain.cases.steps import Deps, Steps
from domain.cases.sweeper import Sweeper
from domain.cases.verdicts import Verdicts
from domain.civic.model import CaseBrief
from domain.civic.ports import Assessments, Homes, Matters, Places, Teams
from domain.civic.rules import CivicRules
from domain.civic.wiring import Civic, CivicPorts
from domain.kernel.awaiting import Awaitings, Conversation
from domain.kernel.events import (
    AttendanceRecorded,
    CaseOpened,
    CaseResolved,
    EventBus,
    HeadServed,
    HomeConfirmed,
    MatterToFile,
    OrderRated,
)
from domain.kernel.hours import HoursGuard, QuietHours
from domain.kernel.markers import Markers
from domain.kernel.notices import Notices
from domain.kernel.people import People, PeopleService, UserRef
from domain.kernel.time import Clock
from domain.org.access import ConsoleAccess
from domain.org.ports import Logins, Staff, Units
from domain.org.service import GeoCache, OrgService
from domain.outreach.broadcast import BroadcastService
from domain.outreach.fixed_days import FixedDayService, default_schedule
from domain.outreach.model import FixedDay
from domain.outreach.ports import Broadcasts, DayRecords
from domain.points.board import BoardService
from domain.points.ledger import PointsService
from domain.points.ports import Ledger, Shop
from domain.points.rewards import Rewards
from domain.points.rules import PointsRules
from domain.points.shop import ShopService
from domain.reporting.browse import CaseBrowser
from domain.reporting.dashboard import DashboardService
from domain.reporting.ledgers import LedgerService
from domain.reporting.open311 import Open311Service
from domain.reporting.ports import ApiKeys, LedgerReads, Requests
from domain.reporting.rules import ReportingRules
from domain.volunteering.activities import ActivityService
from domain.volunteering.activity_form import ActivityFormService
from domain.volunteering.orders import OrderService
from domain.volunteering.organiser import OrganiserTools
from domain.volunteering.ports import Activities, Forms, Orders, Volunteers
from domain.volunteering.registration import VolunteerService
from domain.volunteering.rules import VolunteeringRules


@dataclass
class Ports:
    """Every port of one unit of work (storage implements them on one transaction)."""

    people: People
    units: Units
    staff: Staff
    cases: Cases
    drafts: Drafts
    examples: Examples
    offers: Offers
    awaitings: Awaitings
    markers: Markers
    ledger: Ledger
    shop: Shop
    activities: Activities
    volunteers: Volunteers
    orders: Orders
    forms: Forms
    deadlines: Deadlines
    followers: Followers
    calls: Calls
    day_records: DayRecords
    broadcasts: Broadcasts
    ledger_reads: LedgerReads
    requests: Requests
    api_keys: ApiKeys
    logins: Logins
    snapshots: RateSnapshots
    places: Places
    homes: Homes
    matters: Matters
    assessments: Assessments
    block_teams: Teams


@dataclass(frozen=True)
class Rules:
    """The rules in force, by context (settings build them; defaults live with each context)."""

    cases: CaseRules = field(default_factory=CaseRules)
    volunteering: VolunteeringRules = field(default_factory=VolunteeringRules)
    points: PointsRules = field(default_factory=PointsRules)
    reporting: ReportingRules = field(default_factory=ReportingRules)
    admins: frozenset[UserRef] = frozenset()
    fixed_days: tuple[FixedDay, ...] = field(default_factory=default_schedule)
    quiet: QuietHours = field(default_factory=QuietHours)
    civic: CivicRules = field(default_factory=CivicRules)


class Services:
    """The services of one unit of work."""

    def __init__(
        self,
        ports: Ports,
        notices: Notices,
        clock: Clock,
        rules: Rules | None = None,
        geo: GeoCache | None = None,
        offer_threshold: Callable[[], float] = lambda: 0.9,
    ) -> None:
        self.ports = ports
        self.clock = clock
        self.rules = rules or Rules()
        # Every service writes to the guard of people's hours: nothing that is not urgent goes out at night.
        self.hours = HoursGuard(notices, clock, self.rules.quiet)
        self.notices: Notices = self.hours
        self.geo = geo or GeoCache(self.rules.cases.community_radius_m, self.rules.cases.street_radius_m)
        self.offer_threshold = offer_threshold
        self.events = EventBus()
        # Reactions across contexts; the handlers resolve their service only when an event arrives.
        self.events.subscribe(CaseResolved, lambda e: self.rewards.case_resolved(e))
        self.events.subscribe(AttendanceRecorded, lambda e: self.rewards.attendance(e))
        self.events.subscribe(OrderRated, lambda e: self.rewards.order_rated(e))
        self.events.subscribe(MatterToFile, self._file_matter)
        self.events.subscribe(HomeConfirmed, lambda e: self.rewards.home_confirmed(e))
        self.events.subscribe(HeadServed, lambda e: self.rewards.head_served(e))
        self.events.subscribe(CaseResolved, lambda e: self.civic.matters.case_resolved(e))
        self.events.subscribe(CaseOpened, self._call_property)

    def acting(self, user_id: int | None) -> None:
        """Whose update this unit of work handles: answers to them go at once, whatever the hour."""
        self.hours.actor_id = user_id

    async def _file_matter(self, matter: MatterToFile) -> None:
        await self.reports.file_matter(matter)

    async def _call_property(self, opened: CaseOpened) -> None:
        company = await self.civic.property.company_for(opened)
        if company is not None and await self.org.find(company) is not None:
            case = await self.case_record.get(opened.case_id)
            await self.cases.act(case.id, "whistle", case.rev, None, company)

    async def _body_score(self, code: str, since: datetime, until: datetime) -> float | None:
        ports = self.ports
        return (await body_figures(ports.calls, ports.deadlines, ports.cases, code, since, until)).score

    async def _open_cases(self, units: list[str]) -> list[CaseBrief]:
        cases = await self.ports.cases.open_in(units, 200)
        return [CaseBrief(c.number, c.category, c.state.value, c.description, c.lat, c.lon, c.reporter_id, c.unit_code)
                for c in cases]  # fmt: skip

    async def _file_follow_up(self, unit_code: str, text: str, by: int) -> tuple[int, str]:
        case = await self.reports.file_matter(MatterToFile(unit_code, text, by, 0, 0))
        return case.id, case.number

    @cached_property
    def people(self) -> PeopleService:
        """Who is acting."""
        return PeopleService(self.ports.people, self.rules.admins)

    @cached_property
    def conversation(self) -> Conversation:
        """What reply is awaited from whom."""
        return Conversation(self.ports.awaitings, self.clock)

    @cached_property
    def org(self) -> OrgService:
        """Units, groups, staff, access."""
        return OrgService(self.ports.units, self.ports.staff, self.people, self.geo)

    @cached_property
    def clocks(self) -> DeadlineClock:
        """Deadlines of cases."""
        return DeadlineClock(
            self.ports.deadlines, self.rules.cases.policy, self.rules.cases.calendar, self.org, self.clock,
            self.ports.markers, self.notices,
        )  # fmt: skip

    @cached_property
    def case_record(self) -> CaseRecord:
        """Cases and their timelines, moved by compare-and-set."""
        return CaseRecord(self.ports.cases, self.people, self.clock)

    @cached_property
    def case_access(self) -> CaseAccess:
        """Who someone is to a case."""
        return CaseAccess(self.org, self.people, self.ports.calls, self.clocks, self.case_record)

    @cached_property
    def case_post(self) -> CasePost:
        """How a case is shown and told."""
        ports = self.ports
        return CasePost(
            self.case_record, ports.deadlines, ports.followers, ports.calls, self.case_access, self.org, self.people,
            self.notices, self.clock,
        )  # fmt: skip

    @cached_property
    def cases(self) -> CaseService:
        """The case lifecycle."""
        ports, whistle = self.ports, self.whistle
        deps = Deps(
            self.case_record, self.case_post, self.clocks, self.org, self.people, self.conversation, ports.examples,
            ports.followers, ports.calls, self.notices, self.events, self.rules.cases, closers=[whistle.close_all],
        )  # fmt: skip
        groups = (Handling(deps), Oversight(deps), Verdicts(deps))
        steps = Steps(deps, groups, {"whistle": whistle.call_step, "override": whistle.override_step})
        return CaseService(
            self.case_record, self.case_post, self.case_access, self.clocks, steps, self.org, self.conversation,
            self.clock,
        )  # fmt: skip

    @cached_property
    def sweeper(self) -> Sweeper:
        """Reminders, overdue cases, escalation, follow-up."""
        return Sweeper(self.cases, self.whistle, self.ports.deadlines, self.rules.cases.policy.reminders)

    @cached_property
    def whistle(self) -> WhistleService:
        """吹哨报到."""
        return WhistleService(
            self.case_record, self.case_post, self.clocks, self.ports.calls, self.org, self.people, self.conversation,
            self.notices, self.clock,
        )  # fmt: skip

    @cached_property
    def duplicates(self) -> DuplicateService:
        """The same problem reported twice."""
        return DuplicateService(
            self.ports.cases, self.ports.drafts, self.ports.followers, self.cases, self.rules.cases.policy
        )

    @cached_property
    def stats(self) -> StatsService:
        """The 三率 and staff performance."""
        return StatsService(
            self.ports.cases, self.ports.deadlines, self.ports.followers, self.ports.calls, self.org, self.people,
            self.ports.markers, self.notices, self.clock, self.ports.snapshots, self.rules.quiet,
        )  # fmt: skip

    @cached_property
    def ledgers(self) -> LedgerService:
        """The monthly ledgers (台账)."""
        ports = self.ports
        return LedgerService(
            ports.cases, ports.deadlines, ports.followers, ports.calls, ports.ledger_reads, self.stats, self.org,
            self.people,
        )  # fmt: skip

    @cached_property
    def access(self) -> ConsoleAccess:
        """Who may use the staff console; login links and sessions."""
        return ConsoleAccess(self.ports.logins, self.org, self.people, self.clock)

    @cached_property
    def browser(self) -> CaseBrowser:
        """Cases for the console."""
        return CaseBrowser(self.ports.requests, self.cases, self.org, self.access, self.clock)

    @cached_property
    def dashboard(self) -> DashboardService:
        """The console's dashboard and map."""
        return DashboardService(self.ports.requests, self.ledgers, self.stats, self.access, self.org, self.clock)

    @cached_property
    def open311(self) -> Open311Service:
        """Requests in and out for other systems (Open311)."""
        return Open311Service(
            self.ports.requests, self.ports.api_keys, self.people, self.ports.people, self.reports, self.clock,
            self.rules.reporting.open311_per_minute, self.ports.units,
            self.rules.reporting.open311_private_categories, self.rules.reporting.open311_public_precision_m,
        )  # fmt: skip

    @cached_property
    def fixed_days(self) -> FixedDayService:
        """民情日 and the other fixed days."""
        return FixedDayService(
            self.rules.fixed_days, self.ports.day_records, self.org, self.rules.cases.calendar, self.ports.markers,
            self.notices, self.events, self.clock, self.rules.quiet,
        )  # fmt: skip

    @cached_property
    def broadcasts(self) -> BroadcastService:
        """Notices to every group under a street or community."""
        return BroadcastService(self.ports.broadcasts, self.org, self.notices, self.clock)

    @cached_property
    def reports(self) -> ReportService:
        """Drafts and submission."""
        ports = self.ports
        return ReportService(ports.drafts, ports.examples, ports.cases, self.cases, self.org, self.clock, self.events,
                             lambda user: self.civic.homes.is_head(user))  # fmt: skip

    @cached_property
    def groups(self) -> GroupService:
        """Listening in groups."""
        return GroupService(
            self.ports.offers, self.reports, self.org, self.notices, self.clock, self.rules.cases,
            self.offer_threshold, self.ports.markers,
        )  # fmt: skip

    @cached_property
    def points(self) -> PointsService:
        """Points, hours, stars."""
        return PointsService(self.ports.ledger, self.org, self.notices, self.clock, self.rules.points)

    @cached_property
    def rewards(self) -> Rewards:
        """What earns points."""
        return Rewards(self.points, self.org, self.notices, self.rules.points)

    @cached_property
    def shop(self) -> ShopService:
        """The credit supermarket."""
        return ShopService(self.ports.shop, self.points, self.org, self.notices, self.clock)

    @cached_property
    def board(self) -> BoardService:
        """The monthly credit-star board."""
        return BoardService(
            self.ports.ledger, self.org, self.people, self.ports.markers, self.notices, self.clock, self.rules.points,
            self.rules.quiet,
        )  # fmt: skip

    @cached_property
    def activities(self) -> ActivityService:
        """Activities, sign-ups, check-in/out."""
        return ActivityService(
            self.ports.activities, self.ports.volunteers, self.org, self.people, self.notices, self.events,
            self.clock, self.rules.volunteering,
        )  # fmt: skip

    @cached_property
    def organiser(self) -> OrganiserTools:
        """Organisers' tools after an activity."""
        return OrganiserTools(self.ports.activities, self.org, self.people, self.events)

    @cached_property
    def activity_form(self) -> ActivityFormService:
        """The guided /newactivity form."""
        return ActivityFormService(self.ports.forms, self.org, self.activities, self.conversation, self.clock)

    @cached_property
    def volunteers(self) -> VolunteerService:
        """Registration and teams."""
        return VolunteerService(self.ports.volunteers, self.org, self.conversation, self.notices)

    @cached_property
    def orders(self) -> OrderService:
        """Residents' service orders."""
        return OrderService(
            self.ports.orders, self.ports.volunteers, self.org, self.notices, self.events, self.clock,
            self.rules.volunteering,
        )  # fmt: skip

    @cached_property
    def civic(self) -> Civic:
        """Residents: homes, building heads, 议事, property companies and their assessment."""
        p = self.ports
        ports = CivicPorts(p.places, p.homes, p.matters, p.assessments, p.forms, p.block_teams)
        return Civic(ports, self.org, self.people, self.notices, self.events, self.clock, self.rules.civic,
                     self._file_follow_up, self._body_score, self._open_cases)  # fmt: skip

"""The one place settings become the domain's rules, and a unit of work becomes domain services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Settings
from domain.cases.rules import CaseRules, default_policy
from domain.cases.sla import Policy, load_policy
from domain.cases.urgency import EmergencyNumbers
from domain.civic.assessment import Plan, default_plan, load_plan
from domain.civic.rules import CivicRules
from domain.kernel.hours import QuietHours
from domain.kernel.notices import Notices
from domain.kernel.people import UserRef
from domain.kernel.workdays import WorkCalendar
from domain.org.model import Level
from domain.org.service import GeoCache
from domain.outreach.fixed_days import default_schedule, load_schedule
from domain.outreach.model import FixedDay
from domain.points.rules import PointsRules
from domain.reporting.rules import ReportingRules
from domain.services import Ports, Rules, Services
from domain.volunteering.rules import VolunteeringRules

ServicesFactory = Callable[[Ports, Notices], Services]


@dataclass(frozen=True)
class Files:
    """What offices supply as files (read once at start): service levels, calendar, fixed days, assessment."""

    policy: Policy
    calendar: WorkCalendar
    fixed_days: tuple[FixedDay, ...]
    plan: Plan


def files_from(settings: Settings) -> Files:
    """Read the office's files (the shipped defaults where none is given)."""
    policy = load_policy(settings.sla_policy) if settings.sla_policy else default_policy()
    schedule = load_schedule(settings.fixed_days_file) if settings.fixed_days_file else default_schedule()
    plan = load_plan(settings.assessment_file) if settings.assessment_file else default_plan()
    return Files(policy, WorkCalendar.load(settings.calendar_file), schedule, plan)


def rules_from(settings: Settings, files: Files | None = None) -> Rules:
    """The rules in force, by context, from the settings."""
    files = files or files_from(settings)
    return Rules(
        cases=CaseRules(
            category_levels={c: Level(v) for c, v in settings.category_levels.items()},
            community_radius_m=settings.community_radius_m,
            street_radius_m=settings.street_radius_m,
            offer_cooldown=timedelta(minutes=settings.offer_cooldown_minutes),
            policy=files.policy,
            calendar=files.calendar,
            emergency=EmergencyNumbers({**EmergencyNumbers().numbers, **settings.emergency_numbers}),
        ),
        volunteering=VolunteeringRules(
            checkin_radius_m=settings.checkin_radius_m,
            order_untaken_minutes=settings.order_untaken_minutes,
        ),
        points=PointsRules(
            star_hours=tuple(settings.star_hours),
            report_points=dict(settings.report_points),
            report_points_default=settings.report_points_default,
            order_points=settings.order_points,
            head_confirm_points=settings.head_confirm_points,
            head_month_points=settings.head_month_points,
            award_max=settings.award_max,
            locale=settings.default_locale,
        ),
        reporting=ReportingRules(
            open311_per_minute=settings.open311_per_minute,
            open311_public_reads=settings.open311_public_reads,
            open311_private_categories=tuple(settings.open311_private_categories),
            open311_public_precision_m=settings.open311_public_precision_m,
        ),
        admins=frozenset(UserRef("telegram", str(i)) for i in settings.admin_ids),
        fixed_days=files.fixed_days,
        quiet=QuietHours.parse(settings.quiet_hours) if settings.quiet_hours else QuietHours(dt.time(0), dt.time(0)),
        civic=CivicRules(
            plan=files.plan,
            property_categories=tuple(settings.property_categories),
            locale=settings.default_locale,
        ),
    )


def services_factory(
    settings: Settings, clock: Callable[[], datetime], geo: GeoCache | None = None, classifier: object = None
) -> ServicesFactory:
    """A function (ports, notices) → the domain services of one unit of work, configured from settings."""
    geo = geo or GeoCache(settings.community_radius_m, settings.street_radius_m)
    files = files_from(settings)

    def offer_threshold() -> float:
        # Read when needed, not at start-up: the built-in model and its calibration load on first use.
        th = getattr(classifier, "thresholds", None)
        return float(th.group_report) if th is not None else 0.9

    def make(ports: Ports, notices: Notices) -> Services:
        # Settings are read each time, so a test (or an operator's reload) changing them takes effect.
        return Services(ports, notices, clock, rules_from(settings, files), geo, offer_threshold)

    return make

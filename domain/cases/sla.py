"""Service levels (服务时限) as data: per category and urgency, how long to claim, to be on site, to resolve.

The policy file is YAML; `domain/cases/sla.yml` ships the defaults from the articles (ordinary complaints
resolved within 3 working days; urgent matters claimed within 1 minute and on site within 10). A file with
any problem is refused whole, every problem listed. Durations read "N minutes", "N hours" (wall clock),
"N working hours" (office hours on working days) or "N working days"; `null` means no such deadline.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from domain.cases.model import CATEGORIES
from domain.kernel.notices import Phrase
from domain.kernel.workdays import WorkCalendar

DEFAULT_POLICY = Path(__file__).with_name("sla.yml")
DEADLINE_KINDS = ("claim", "on_site", "resolve")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(minutes?|hours?|working hours?|working days?)\s*$")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message lists every problem."""


@dataclass(frozen=True)
class Duration:
    """An amount of time in one of the four units."""

    amount: float
    unit: str  # minutes | hours | working_hours | working_days

    @staticmethod
    def parse(text: str) -> Duration:
        """'3 working days' → Duration(3, 'working_days'); ValueError if it is not one."""
        m = _DURATION.match(str(text))
        if m is None:
            raise ValueError(f"{str(text)[:40]!r} is not a duration like '10 minutes' or '3 working days'")
        unit = m.group(2).rstrip("s").replace(" ", "_") + "s"
        amount = float(m.group(1))
        if amount <= 0 or amount > 10_000:
            raise ValueError(f"{text!r}: the amount must be between 0 and 10000")
        if unit == "working_days" and not amount.is_integer():
            raise ValueError(f"{text!r}: working days must be whole")
        return Duration(amount, unit)

    def after(
        self, start: dt.datetime, calendar: WorkCalendar, office: tuple[dt.time, dt.time], units: tuple[str, ...] = ()
    ) -> tuple[dt.datetime, bool]:
        """The moment this long after `start`, and whether it is an estimate (a year nobody covers)."""
        if self.unit == "minutes":
            return start + dt.timedelta(minutes=self.amount), False
        if self.unit == "hours":
            return start + dt.timedelta(hours=self.amount), False
        if self.unit == "working_hours":
            return calendar.add_work_hours(start, self.amount, office, units)
        return calendar.add_workdays(start, int(self.amount), units, office)

    def words(self) -> Phrase:
        """The duration as people read it (10 分钟, 1 个工作日)."""
        return Phrase(f"duration.{self.unit}", {"n": f"{self.amount:g}"})

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit.replace('_', ' ')}"


@dataclass(frozen=True)
class Levels:
    """The three deadlines of one category at one urgency."""

    claim: Duration | None = None
    on_site: Duration | None = None
    resolve: Duration | None = None

    def get(self, kind: str) -> Duration | None:
        """By deadline kind."""
        return {"claim": self.claim, "on_site": self.on_site, "resolve": self.resolve}[kind]


@dataclass(frozen=True)
class Policy:
    """The whole service-level policy."""

    normal: Levels
    urgent: Levels
    categories: dict[str, dict[str, Levels]] = field(default_factory=dict)
    reminders: tuple[float, ...] = (0.5, 0.8)
    office_hours: tuple[dt.time, dt.time] = (dt.time(8, 30), dt.time(17, 30))
    # After a deadline passes, a still-open case climbs one level each time this runs out again.
    escalate_after: Duration = field(default_factory=lambda: Duration(1, "working_days"))
    escalate_after_urgent: Duration = field(default_factory=lambda: Duration(30, "minutes"))
    follow_up_remind: Duration = field(default_factory=lambda: Duration(2, "working_days"))
    follow_up_close: Duration = field(default_factory=lambda: Duration(5, "working_days"))
    department_report_in: Duration = field(default_factory=lambda: Duration(2, "hours"))
    department_report_in_urgent: Duration = field(default_factory=lambda: Duration(10, "minutes"))
    duplicate_radius_m: float = 100.0
    duplicate_radius_wide_m: float = 250.0
    duplicate_wide_categories: tuple[str, ...] = ("road_traffic", "public_facility")
    duplicate_days: int = 7
    # A body's own report-in times (a property company's contract may promise less or more): code → (normal, urgent).
    department_units: dict[str, tuple[Duration, Duration]] = field(default_factory=dict)

    def report_in(self, department: str, urgent: bool) -> Duration:
        """How long a called body has to report in (its own time if the file gives one)."""
        normal, fast = self.department_units.get(
            department, (self.department_report_in, self.department_report_in_urgent)
        )
        return fast if urgent else normal

    def levels(self, category: str, urgent: bool) -> Levels:
        """The deadlines of a category at an urgency (the category's own, else the default)."""
        key = "urgent" if urgent else "normal"
        return self.categories.get(category, {}).get(key) or (self.urgent if urgent else self.normal)


def _levels(where: str, raw: Any, problems: list[str]) -> Levels:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected claim / on_site / resolve")
        return Levels()
    unknown = set(raw) - set(DEADLINE_KINDS)
    if unknown:
        problems.append(f"{where}: unknown deadline(s) {', '.join(sorted(map(str, unknown)))}")
    out: dict[str, Duration | None] = {}
    for kind in DEADLINE_KINDS:
        value = raw.get(kind)
        if value is None:
            out[kind] = None
            continue
        try:
            out[kind] = Duration.parse(value)
        except ValueError as e:
            problems.append(f"{where}.{kind}: {e}")
    return Levels(out.get("claim"), out.get("on_site"), out.get("resolve"))


def _duration(where: str, raw: Any, default: Duration, problems: list[str]) -> Duration:
    if raw is None:
        return default
    try:
        return Duration.parse(raw)
    except ValueError as e:
        problems.append(f"{where}: {e}")
        return default


def _section(name: str, value: object, keys: set[str] | None, problems: list[str]) -> dict[str, Any]:
    # A mapping with only the keys it may have: a typo (urgnet) must not silently drop a deadline.
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{name}: expected a mapping" + (f" with {', '.join(sorted(keys))}" if keys else ""))
        return {}
    if keys is not None:
        for key in sorted(set(map(str, value)) - keys):
            problems.append(f"{name}: unknown key {key!r} (expected {', '.join(sorted(keys))})")
    return {str(k): v for k, v in value.items()}


def _number(where: str, value: object, default: float, most: float, problems: list[str]) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= most:
        problems.append(f"{where}: expected a number above 0 and at most {most:g}")
        return default
    return float(value)


def _office_hours(value: object, problems: list[str]) -> tuple[dt.time, dt.time]:
    m = re.match(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$", str(value))
    if m is not None:
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60 and (h1, m1) < (h2, m2):
            return dt.time(h1, m1), dt.time(h2, m2)
    problems.append("office_hours: expected a range like 08:30-17:30")
    return dt.time(8, 30), dt.time(17, 30)


def parse_policy(text: str) -> Policy:
    """A policy from YAML text; PolicyError listing every problem if anything is wrong."""
    problems: list[str] = []
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise PolicyError(f"not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise PolicyError("expected a mapping (urgency, categories, reminders, …)")
    known = {
        "urgency",
        "categories",
        "reminders",
        "office_hours",
        "escalate_after",
        "follow_up",
        "department",
        "duplicates",
    }
    for key in set(data) - known:
        problems.append(f"unknown key {key!r}")
    urgency = _section("urgency", data.get("urgency"), {"normal", "urgent"}, problems)
    normal = _levels("urgency.normal", urgency.get("normal", {}), problems)
    urgent = _levels("urgency.urgent", urgency.get("urgent", {}), problems)
    categories: dict[str, dict[str, Levels]] = {}
    for category, per in _section("categories", data.get("categories"), None, problems).items():
        if category not in CATEGORIES:
            problems.append(f"categories: unknown category {category!r}")
            continue
        if not isinstance(per, dict) or set(per) - {"normal", "urgent"}:
            problems.append(f"categories.{category}: expected normal and/or urgent")
            continue
        categories[category] = {k: _levels(f"categories.{category}.{k}", v, problems) for k, v in per.items()}
    reminders = data.get("reminders", [0.5, 0.8])
    if not isinstance(reminders, list) or not all(isinstance(r, int | float) and 0 < r < 1 for r in reminders):
        problems.append("reminders: expected fractions between 0 and 1, e.g. [0.5, 0.8]")
        reminders = [0.5, 0.8]
    office = _office_hours(data.get("office_hours", "08:30-17:30"), problems)
    escalate = _section("escalate_after", data.get("escalate_after"), {"normal", "urgent"}, problems)
    follow = _section("follow_up", data.get("follow_up"), {"remind_after", "close_after"}, problems)
    department = _section("department", data.get("department"), {"report_in", "report_in_urgent", "units"}, problems)
    dups = _section(
        "duplicates", data.get("duplicates"), {"radius_m", "radius_wide_m", "wide_categories", "days"}, problems
    )
    d = Policy(normal, urgent)
    units: dict[str, tuple[Duration, Duration]] = {}
    for code, own in _section("department.units", department.get("units"), None, problems).items():
        own = _section(f"department.units.{code}", own, {"report_in", "report_in_urgent"}, problems)
        where = f"department.units.{code}"
        units[code] = (
            _duration(f"{where}.report_in", own.get("report_in"), d.department_report_in, problems),
            _duration(
                f"{where}.report_in_urgent", own.get("report_in_urgent"), d.department_report_in_urgent, problems
            ),
        )
    wide = dups.get("wide_categories", list(d.duplicate_wide_categories))
    if not isinstance(wide, list) or any(c not in CATEGORIES for c in wide):
        problems.append(f"duplicates.wide_categories: expected a list of categories from {', '.join(CATEGORIES)}")
        wide = list(d.duplicate_wide_categories)
    policy = Policy(
        normal,
        urgent,
        categories,
        tuple(sorted(float(r) for r in reminders)),
        office,
        _duration("escalate_after.normal", escalate.get("normal"), d.escalate_after, problems),
        _duration("escalate_after.urgent", escalate.get("urgent"), d.escalate_after_urgent, problems),
        _duration("follow_up.remind_after", follow.get("remind_after"), d.follow_up_remind, problems),
        _duration("follow_up.close_after", follow.get("close_after"), d.follow_up_close, problems),
        _duration("department.report_in", department.get("report_in"), d.department_report_in, problems),
        _duration(
            "department.report_in_urgent", department.get("report_in_urgent"), d.department_report_in_urgent, problems
        ),
        _number("duplicates.radius_m", dups.get("radius_m"), d.duplicate_radius_m, 5000, problems),
        _number("duplicates.radius_wide_m", dups.get("radius_wide_m"), d.duplicate_radius_wide_m, 5000, problems),
        tuple(str(c) for c in wide),
        int(_number("duplicates.days", dups.get("days"), d.duplicate_days, 365, problems)),
        units,
    )
    if not policy.normal.resolve:
        problems.append("urgency.normal.resolve is required (every case needs a time to be resolved)")
    if problems:
        raise PolicyError("; ".join(problems))
    return policy


def load_policy(path: Path | None = None) -> Policy:
    """The policy from a file (the shipped defaults when none is given)."""
    target = path or DEFAULT_POLICY
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as e:
        raise PolicyError(f"cannot read {target}: {e}") from None
    try:
        return parse_policy(text)
    except PolicyError as e:
        raise PolicyError(f"{target}: {e}") from None

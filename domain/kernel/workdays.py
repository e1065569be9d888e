"""Working days as Chinese offices count them: statutory holidays and make-up working days (调休).

The statutory schedule comes from the `chinesecalendar` package, which covers the years up to the one it
was released for. An office adds a year the package does not know yet (the State Council publishes the next
year's schedule each autumn) in an optional file; a street may also declare its own closed days there. For a
year neither covers, Monday–Friday are taken as working days and every deadline computed over such a day is
marked *estimated* — nothing crashes and nothing is silently guessed.

The file (YAML)::

    holidays: [2027-01-01, 2027-02-15, ...]      # days off on top of weekends
    workdays: [2027-02-07, ...]                   # make-up working days on a weekend
    years: [2027]                                  # years these lists cover completely
    closed:                                        # a unit's own closed days (and the units below it)
      QH: [2026-12-31]
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar
import yaml

from domain.kernel.time import CHINA_TZ

OFFICE_HOURS = (dt.time(8, 30), dt.time(17, 30))


class CalendarFileError(ValueError):
    """The extra calendar file is wrong; the message lists every problem."""


@dataclass(frozen=True)
class Coverage:
    """Who knows a year's schedule."""

    year: int
    source: str  # "chinesecalendar" | "file" | "weekdays-estimate"

    @property
    def estimated(self) -> bool:
        """Monday–Friday is a guess for this year."""
        return self.source == "weekdays-estimate"


@functools.cache
def _library_years() -> tuple[int, int]:
    # The package answers NotImplementedError outside its range; find the range once.
    low, high = 2004, dt.date.today().year + 2
    while high > low:
        try:
            chinese_calendar.is_workday(dt.date(high, 6, 1))
            break
        except NotImplementedError:
            high -= 1
    return low, high


class _DatesAsText(yaml.SafeLoader):
    """YAML with dates left as text, so that an impossible one (2027-02-30) is listed with the file's other
    problems instead of failing the whole parse."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class WorkCalendar:
    """Is a day a working day, and what is N working days after a moment."""

    holidays: set[dt.date] = field(default_factory=set)
    workdays: set[dt.date] = field(default_factory=set)
    years: set[int] = field(default_factory=set)
    closed: dict[str, set[dt.date]] = field(default_factory=dict)

    @staticmethod
    def load(path: Path | None) -> WorkCalendar:
        """The calendar with an office's file (if any); CalendarFileError lists every problem in it."""
        if path is None or not path.exists():
            return WorkCalendar()
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_DatesAsText) or {}  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as e:
            raise CalendarFileError(f"{path}: not valid YAML: {e}") from None
        problems: list[str] = []
        if not isinstance(data, dict):
            raise CalendarFileError(f"{path}: expected a mapping with holidays, workdays, years, closed")
        unknown = set(data) - {"holidays", "workdays", "years", "closed"}
        if unknown:
            problems.append(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")

        def dates(where: str, value: object) -> set[dt.date]:
            out: set[dt.date] = set()
            if value is None:
                return out
            if not isinstance(value, list):
                problems.append(f"{where}: expected a list of dates")
                return out
            for item in value:
                if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
                    out.add(item)
                else:
                    try:
                        out.add(dt.date.fromisoformat(str(item)))
                    except ValueError:
                        problems.append(f"{where}: {str(item)[:30]!r} is not a date like 2027-01-01")
            return out

        holidays = dates("holidays", data.get("holidays"))
        workdays = dates("workdays", data.get("workdays"))
        both = holidays & workdays
        if both:
            problems.append(f"both a holiday and a working day: {', '.join(map(str, sorted(both)))}")
        years: set[int] = set()
        raw_years = data.get("years") or []
        if not isinstance(raw_years, list):
            problems.append("years: expected a list of years, e.g. [2027]")
            raw_years = []
        for y in raw_years:
            if isinstance(y, int) and 2000 <= y <= 2100:
                years.add(y)
            else:
                problems.append(f"years: {str(y)[:10]!r} is not a year")
        closed: dict[str, set[dt.date]] = {}
        raw_closed = data.get("closed") or {}
        if not isinstance(raw_closed, dict):
            problems.append("closed: expected unit codes with their lists of dates")
        else:
            for code, days in raw_closed.items():
                closed[str(code)] = dates(f"closed.{code}", days)
        if problems:
            raise CalendarFileError(f"{path}: " + "; ".join(problems))
        return WorkCalendar(holidays, workdays, years, closed)

    def coverage(self, year: int) -> Coverage:
        """Who knows this year's schedule."""
        if year in self.years:
            return Coverage(year, "file")
        low, high = _library_years()
        if low <= year <= high:
            return Coverage(year, "chinesecalendar")
        return Coverage(year, "weekdays-estimate")

    def is_workday(self, day: dt.date, units: tuple[str, ...] = ()) -> bool:
        """A working day, for these units (a unit's own closed days and its ancestors' count)."""
        if any(day in self.closed.get(code, ()) for code in units):
            return False
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if self.coverage(day.year).source == "chinesecalendar":
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def estimated(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether any day between two moments falls in a year nobody knows the schedule of."""
        return any(self.coverage(y).estimated for y in range(start.year, end.year + 1))

    def add_workdays(
        self,
        start: dt.datetime,
        n: int,
        units: tuple[str, ...] = (),
        office: tuple[dt.time, dt.time] = OFFICE_HOURS,
    ) -> tuple[dt.datetime, bool]:
        """N working days of office time after `start`, and whether it is estimated.

        Started inside office hours, it is the same time of day N working days later; started outside them (the
        evening, a day off), the time counts from the next opening and ends at the close of the Nth working
        day: a working-time deadline always falls inside office hours, never at night.
        """
        day = dt.datetime.combine(dt.date(2000, 1, 3), office[1]) - dt.datetime.combine(dt.date(2000, 1, 3), office[0])
        return self.add_work_hours(start, n * day.total_seconds() / 3600, office, units)

    def _office_spans(
        self, start: dt.datetime, end: dt.datetime, office: tuple[dt.time, dt.time], units: tuple[str, ...]
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        spans: list[tuple[dt.datetime, dt.datetime]] = []
        day, last = start.astimezone(CHINA_TZ).date(), end.astimezone(CHINA_TZ).date()
        while day <= last and len(spans) < 15_000:
            if self.is_workday(day, units):
                begin = max(start, dt.datetime.combine(day, office[0], CHINA_TZ))
                finish = min(end, dt.datetime.combine(day, office[1], CHINA_TZ))
                if begin < finish:
                    spans.append((begin, finish))
            day += dt.timedelta(days=1)
        return spans

    def office_time(
        self,
        start: dt.datetime,
        end: dt.datetime,
        office: tuple[dt.time, dt.time] = OFFICE_HOURS,
        units: tuple[str, ...] = (),
    ) -> dt.timedelta:
        """How much office time (on working days) lies between two moments."""
        return sum((b - a for a, b in self._office_spans(start, end, office, units)), dt.timedelta())

    def office_point(
        self,
        start: dt.datetime,
        end: dt.datetime,
        share: float,
        office: tuple[dt.time, dt.time] = OFFICE_HOURS,
        units: tuple[str, ...] = (),
    ) -> dt.datetime:
        """The moment `share` of the office time between start and end has passed (wall time if there is none)."""
        spans = self._office_spans(start, end, office, units)
        total = sum((b - a for a, b in spans), dt.timedelta())
        if not total:
            return start + (end - start) * share
        left = total * share
        for a, b in spans:
            if left <= b - a:
                return a + left
            left -= b - a
        return end

    def add_work_hours(
        self,
        start: dt.datetime,
        hours: float,
        office: tuple[dt.time, dt.time] = OFFICE_HOURS,
        units: tuple[str, ...] = (),
    ) -> tuple[dt.datetime, bool]:
        """The moment `hours` of office time (on working days) after `start`, and whether it is estimated."""
        remaining = dt.timedelta(hours=hours)
        local = start.astimezone(CHINA_TZ)
        day = local.date()
        cursor = local
        for _ in range(15_000):  # forty years of days at most (a policy allows up to 10,000 working days)
            if self.is_workday(day, units):
                opens = dt.datetime.combine(day, office[0], CHINA_TZ)
                closes = dt.datetime.combine(day, office[1], CHINA_TZ)
                begin = max(cursor, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        due = begin + remaining
                        return due, self.estimated(local, due)
                    remaining -= available
            day += dt.timedelta(days=1)
            cursor = dt.datetime.combine(day, dt.time(0, 0), CHINA_TZ)
        raise ValueError("working hours beyond forty years")

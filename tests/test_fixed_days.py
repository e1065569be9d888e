"""Fixed days (民情日 on the 5th and 25th, …): the shipped schedule, moving off days off, refused schedule files.

Weekdays and holidays of 2026 worked out by hand (Jan 1 2026 is a Thursday; the State Council's 2026 schedule).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from domain.kernel.workdays import WorkCalendar
from domain.org.model import Level
from domain.outreach.fixed_days import DEFAULT_SCHEDULE, default_schedule, load_schedule, occurs
from domain.outreach.model import FixedDay

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def fixed(days: tuple[int, ...], rule: str) -> FixedDay:
    return FixedDay("t", days, (Level.GRID,), rule)


def occurrences(day: FixedDay, year: int, month: int, cal: WorkCalendar) -> list[dt.date]:
    """Every date of a month (and the few days either side) on which the fixed day falls."""
    first = D(year, month, 1)
    span = [first + dt.timedelta(days=i) for i in range(-7, 38)]
    return [d for d in span if d.month == month and occurs(day, d, cal)]


def test_shipped_schedule() -> None:
    schedule = load_schedule()
    assert schedule == (
        FixedDay("minqing", (5, 25), (Level.COMMUNITY, Level.GRID), "next_workday"),
        FixedDay("reception", (15,), (Level.COMMUNITY,), "next_workday"),
        FixedDay("three_party", (15,), (Level.COMMUNITY,), "next_workday"),
    )
    assert default_schedule() == schedule == load_schedule(DEFAULT_SCHEDULE)


# Where 民情日 (5th and 25th, next working day) falls in each month of 2026.
MINQING_2026 = {
    1: [D(2026, 1, 5), D(2026, 1, 26)],  # Jan 25 Sun
    2: [D(2026, 2, 5), D(2026, 2, 25)],
    3: [D(2026, 3, 5), D(2026, 3, 25)],
    4: [D(2026, 4, 7), D(2026, 4, 27)],  # Apr 5 Sun in Qingming (Apr 4–6); Apr 25 Sat
    5: [D(2026, 5, 6), D(2026, 5, 25)],  # May 5 Tue, Labour Day
    6: [D(2026, 6, 5), D(2026, 6, 25)],
    7: [D(2026, 7, 6), D(2026, 7, 27)],  # Jul 5 Sun; Jul 25 Sat
    8: [D(2026, 8, 5), D(2026, 8, 25)],
    9: [D(2026, 9, 7), D(2026, 9, 28)],  # Sep 5 Sat; Sep 25 Fri, Mid-Autumn
    10: [D(2026, 10, 8), D(2026, 10, 26)],  # Oct 5 Mon, National Day (to Oct 7); Oct 25 Sun
    11: [D(2026, 11, 5), D(2026, 11, 25)],
    12: [D(2026, 12, 7), D(2026, 12, 25)],  # Dec 5 Sat
}


@pytest.mark.parametrize("month", range(1, 13))
def test_minqing_days_of_2026(cal: WorkCalendar, month: int) -> None:
    minqing = default_schedule()[0]
    assert occurrences(minqing, 2026, month, cal) == MINQING_2026[month]


def test_fifth_on_a_saturday(cal: WorkCalendar) -> None:
    assert D(2026, 9, 5).weekday() == 5
    assert occurs(fixed((5,), "next_workday"), D(2026, 9, 7), cal)  # → Monday
    assert not occurs(fixed((5,), "next_workday"), D(2026, 9, 5), cal)
    assert not occurs(fixed((5,), "next_workday"), D(2026, 9, 6), cal)
    assert occurs(fixed((5,), "previous_workday"), D(2026, 9, 4), cal)  # → Friday
    assert not occurs(fixed((5,), "previous_workday"), D(2026, 9, 7), cal)
    assert occurs(fixed((5,), "keep"), D(2026, 9, 5), cal)  # stays on the Saturday
    assert not occurs(fixed((5,), "keep"), D(2026, 9, 7), cal)


def test_fifth_on_the_national_day_holiday(cal: WorkCalendar) -> None:
    # Oct 5 2026 is a Monday inside the Oct 1–7 break: the next working day is Thu Oct 8.
    assert occurrences(fixed((5,), "next_workday"), 2026, 10, cal) == [D(2026, 10, 8)]
    assert occurrences(fixed((5,), "keep"), 2026, 10, cal) == [D(2026, 10, 5)]
    # 15th Feb 2026: Sunday, first day of the Spring Festival break (to Feb 23) → Tue Feb 24; backwards it is the
    # make-up Saturday Feb 14.
    assert occurrences(fixed((15,), "next_workday"), 2026, 2, cal) == [D(2026, 2, 24)]
    assert occurrences(fixed((15,), "previous_workday"), 2026, 2, cal) == [D(2026, 2, 14)]
    # Sep 25 (Mid-Autumn, Fri) backwards → Thu Sep 24.
    assert occurrences(fixed((25,), "previous_workday"), 2026, 9, cal) == [D(2026, 9, 24)]


def test_a_worked_weekend_day_does_not_move(cal: WorkCalendar) -> None:
    # Sun Jan 4 2026 is a make-up working day: a fixed day on the 4th stays there.
    for rule in ("next_workday", "previous_workday", "keep"):
        assert occurrences(fixed((4,), rule), 2026, 1, cal) == [D(2026, 1, 4)], rule


def test_reception_and_three_party_on_the_15th(cal: WorkCalendar) -> None:
    _, reception, three_party = default_schedule()
    assert occurrences(reception, 2026, 8, cal) == [D(2026, 8, 17)]  # Sat Aug 15 → Mon Aug 17
    assert occurrences(three_party, 2026, 2, cal) == [D(2026, 2, 24)]
    assert occurrences(reception, 2026, 6, cal) == [D(2026, 6, 15)]


def test_uncovered_year_and_office_file(cal: WorkCalendar, tmp_path: Path) -> None:
    # 2027 is not covered: Monday–Friday. Fri Jan 1 2027 counts as a working day; Sat Jun 5 2027 → Mon Jun 7.
    assert occurrences(fixed((1,), "next_workday"), 2027, 1, cal) == [D(2027, 1, 1)]
    assert occurrences(fixed((5,), "next_workday"), 2027, 6, cal) == [D(2027, 6, 7)]
    path = tmp_path / "cal.yml"
    path.write_text("years: [2027]\nholidays: [2027-01-01]\n", encoding="utf-8")
    declared = WorkCalendar.load(path)
    assert occurrences(fixed((1,), "next_workday"), 2027, 1, declared) == [D(2027, 1, 4)]


def test_previous_workday_into_the_previous_month(cal: WorkCalendar) -> None:
    assert occurs(fixed((5,), "previous_workday"), D(2026, 9, 30), cal)


def test_next_workday_into_the_next_month(cal: WorkCalendar) -> None:
    assert D(2027, 2, 28).weekday() == 6
    assert occurs(fixed((28,), "next_workday"), D(2027, 3, 1), cal)


# --- schedule files -------------------------------------------------------------------------------------------------


def test_schedule_file(tmp_path: Path) -> None:
    path = tmp_path / "fixed.yml"
    path.write_text(
        "fixed_days:\n"
        "  minqing: {days: [5, 25], levels: [grid], on_holiday: previous_workday}\n"
        "  street_day: {days: [1], levels: [street, community]}\n",  # rule defaults to next_workday
        encoding="utf-8",
    )
    assert load_schedule(path) == (
        FixedDay("minqing", (5, 25), (Level.GRID,), "previous_workday"),
        FixedDay("street_day", (1,), (Level.STREET, Level.COMMUNITY), "next_workday"),
    )


def test_empty_schedule_file(tmp_path: Path) -> None:
    path = tmp_path / "fixed.yml"
    path.write_text("", encoding="utf-8")
    assert load_schedule(path) == ()


def test_bad_schedule_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "fixed.yml"
    path.write_text(
        "fixed_days:\n"
        "  a: {days: [0, 5], levels: [grid]}\n"
        "  b: {days: [29], levels: [grid]}\n"
        "  c: {days: [], levels: [grid]}\n"
        "  d: {days: [fifth], levels: [grid]}\n"
        "  e: {days: [5], levels: [grid, village]}\n"
        "  f: {days: [5], levels: [grid], on_holiday: skip}\n"
        "  g: every month\n"
        "  h: {levels: [grid]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as err:
        load_schedule(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ")
    for needle in (
        "a.days: a list of days of the month from 1 to 28",
        "b.days: a list of days of the month from 1 to 28",
        "c.days: a list of days of the month from 1 to 28",
        "d.days: a list of days of the month from 1 to 28",
        "e.levels: unknown level 'village'",
        "f.on_holiday: next_workday, previous_workday or keep",
        "g: expected days, levels, on_holiday",
        "h.days: a list of days of the month from 1 to 28",
    ):
        assert needle in msg, (needle, msg)
    assert msg.count(";") == 7


def test_days_not_a_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fixed.yml"
    path.write_text("fixed_days:\n  minqing: {days: 5, levels: [grid]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"minqing\.days"):
        load_schedule(path)


def test_fixed_days_a_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fixed.yml"
    path.write_text("fixed_days: [minqing, reception]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="fixed_days"):
        load_schedule(path)

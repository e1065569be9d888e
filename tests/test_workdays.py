"""The working-day calendar: 2026's statutory holidays and make-up days, uncovered years, the office's file, the CLI.

Expected dates are worked out by hand from the State Council's 2026 schedule
(国务院办公厅关于2026年部分节假日安排的通知):
New Year Jan 1–3 off, Sun Jan 4 worked; Spring Festival Feb 15–23 off, Sat Feb 14 and Sat Feb 28 worked;
Qingming Apr 4–6; Labour Day May 1–5 off, Sat May 9 worked; Dragon Boat Jun 19–21; Mid-Autumn Sep 25–27;
National Day Oct 1–7 off, Sun Sep 20 and Sat Oct 10 worked. The chinesecalendar package agrees (checked).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from domain.kernel.time import CHINA_TZ
from domain.kernel.workdays import CalendarFileError, Coverage, WorkCalendar

ROOT = Path(__file__).resolve().parent.parent
FILE_2027 = ROOT / "tests/data/calendar/2027.yml"
D = dt.date

# Days off in 2026 that fall Monday–Friday, and weekend days that are worked (调休), from the official notice.
OFF_2026 = {
    D(2026, 1, 1), D(2026, 1, 2),
    D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18), D(2026, 2, 19), D(2026, 2, 20), D(2026, 2, 23),
    D(2026, 4, 6),
    D(2026, 5, 1), D(2026, 5, 4), D(2026, 5, 5),
    D(2026, 6, 19),
    D(2026, 9, 25),
    D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 5), D(2026, 10, 6), D(2026, 10, 7),
}  # fmt: skip
MAKEUP_2026 = {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)}


def bj(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    """A Beijing-time moment."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=CHINA_TZ)


def expected_workday_2026(day: dt.date) -> bool:
    return day in MAKEUP_2026 or (day.weekday() < 5 and day not in OFF_2026)


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def cal_2027() -> WorkCalendar:
    return WorkCalendar.load(FILE_2027)


# --- 2026, from the chinesecalendar package -------------------------------------------------------------------------


def test_every_day_of_2026_matches_the_official_schedule(cal: WorkCalendar) -> None:
    days = [D(2026, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    wrong = [d for d in days if cal.is_workday(d) != expected_workday_2026(d)]
    assert wrong == []
    # 261 weekdays, 19 of them holidays, 6 make-up weekend days.
    assert sum(cal.is_workday(d) for d in days) == 248


def test_the_statutory_makeup_days_themselves(cal: WorkCalendar) -> None:
    for d in MAKEUP_2026:
        assert d.weekday() >= 5 and cal.is_workday(d), d
    assert not cal.is_workday(D(2026, 1, 3))  # Sat inside the New Year break
    assert not cal.is_workday(D(2026, 2, 15))  # Sun, first day of the Spring Festival break
    assert not cal.is_workday(D(2026, 2, 21))  # Sat inside the break
    assert cal.is_workday(D(2026, 2, 24))  # Tue, first day back


def test_coverage(cal: WorkCalendar) -> None:
    assert cal.coverage(2026) == Coverage(2026, "chinesecalendar")
    assert not cal.coverage(2026).estimated
    assert cal.coverage(2004).source == "chinesecalendar"
    assert cal.coverage(2027) == Coverage(2027, "weekdays-estimate")
    assert cal.coverage(2027).estimated
    assert cal.coverage(2003).estimated  # before the package's data starts


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # Spring Festival: Fri Feb 13 → Sat Feb 14 (make-up) → Tue Feb 24 (first day back).
        (bj(2026, 2, 13), 1, bj(2026, 2, 14)),
        (bj(2026, 2, 13), 2, bj(2026, 2, 24)),
        (bj(2026, 2, 12, 16, 45), 3, bj(2026, 2, 24, 16, 45)),
        (bj(2026, 2, 27), 1, bj(2026, 2, 28)),  # Fri → Sat Feb 28, a working day
        (bj(2026, 2, 28, 11), 1, bj(2026, 3, 2, 11)),  # from that Saturday: Sun Mar 1 off → Mon Mar 2
        # Starting on the make-up Saturday counts from it like any working day.
        (bj(2026, 2, 14, 14), 0, bj(2026, 2, 14, 14)),
        (bj(2026, 2, 14, 14), 1, bj(2026, 2, 24, 14)),
        # National Day: Wed Sep 30 → Thu Oct 8, Fri Oct 9, Sat Oct 10 (make-up), Mon Oct 12.
        (bj(2026, 9, 30), 1, bj(2026, 10, 8)),
        (bj(2026, 9, 30), 3, bj(2026, 10, 10)),
        (bj(2026, 9, 30), 4, bj(2026, 10, 12)),
        (bj(2026, 9, 18, 16), 1, bj(2026, 9, 20, 16)),  # Fri → Sun Sep 20, a make-up day
        (bj(2026, 9, 24), 1, bj(2026, 9, 28)),  # Thu → Mid-Autumn Fri Sep 25 off → Mon Sep 28
        # The other breaks.
        (bj(2025, 12, 31), 1, bj(2026, 1, 4)),  # New Year: → Sun Jan 4 (make-up), across a year end
        (bj(2026, 4, 3), 1, bj(2026, 4, 7)),  # Qingming Apr 4–6
        (bj(2026, 4, 30), 1, bj(2026, 5, 6)),  # Labour Day May 1–5
        (bj(2026, 5, 8), 1, bj(2026, 5, 9)),  # → Sat May 9, a make-up day
        (bj(2026, 6, 18), 1, bj(2026, 6, 22)),  # Dragon Boat Jun 19–21
        # N = 0 on a working day: the moment itself.
        (bj(2026, 3, 4, 15, 7), 0, bj(2026, 3, 4, 15, 7)),
    ],
)
def test_add_workdays_2026(cal: WorkCalendar, start: dt.datetime, n: int, due: dt.datetime) -> None:
    got, estimated = cal.add_workdays(start, n)
    assert got == due
    assert got.utcoffset() == dt.timedelta(hours=8)
    assert not estimated


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # A report on a day off counts from the next opening (08:30) and ends at the close of the Nth working day.
        (bj(2026, 10, 1, 8), 0, bj(2026, 10, 8, 8, 30)),
        (bj(2026, 10, 3, 20), 1, bj(2026, 10, 8, 17, 30)),
        (bj(2026, 10, 3, 20), 3, bj(2026, 10, 10, 17, 30)),  # Oct 8, Oct 9, Sat Oct 10 (make-up)
        (bj(2026, 2, 17, 15), 0, bj(2026, 2, 24, 8, 30)),
        (bj(2026, 2, 17, 15), 3, bj(2026, 2, 26, 17, 30)),
        (bj(2026, 3, 7, 10), 1, bj(2026, 3, 9, 17, 30)),  # an ordinary Saturday → the close of Monday
    ],
)
def test_add_workdays_starting_on_a_day_off(cal: WorkCalendar, start: dt.datetime, n: int, due: dt.datetime) -> None:
    assert cal.add_workdays(start, n) == (due, False)


def test_an_evening_report_is_due_in_office_hours_never_at_night(cal: WorkCalendar) -> None:
    # A report at 20:04 with one working day is due at the close of the next working day, not at 20:04.
    assert cal.add_workdays(bj(2026, 3, 2, 20, 4), 1) == (bj(2026, 3, 3, 17, 30), False)
    # Monday 22:00 with three working days: Tue, Wed, Thu → Thursday 17:30 (it used to be Thursday 22:00).
    assert cal.add_workdays(bj(2026, 3, 2, 22), 3) == (bj(2026, 3, 5, 17, 30), False)
    # Before opening the same day counts from 08:30.
    assert cal.add_workdays(bj(2026, 3, 3, 7), 1) == (bj(2026, 3, 3, 17, 30), False)
    # 23:30 Friday in Beijing, or the same moment written in UTC: the close of Monday either way.
    assert cal.add_workdays(bj(2026, 3, 6, 23, 30), 1) == (bj(2026, 3, 9, 17, 30), False)
    utc = dt.datetime(2026, 3, 6, 16, 30, tzinfo=dt.UTC)  # Saturday 00:30 in Beijing
    assert cal.add_workdays(utc, 1) == (bj(2026, 3, 9, 17, 30), False)
    # Friday before the National Day's make-up Saturday: Fri Oct 9 late → the close of Sat Oct 10.
    assert cal.add_workdays(bj(2026, 10, 9, 22), 1) == (bj(2026, 10, 10, 17, 30), False)
    # Every working-day deadline of a whole week of starts, minute by minute at the hour, is in office hours.
    start = bj(2026, 3, 2, 0)
    for hour in range(24 * 7):
        due, _ = cal.add_workdays(start + dt.timedelta(hours=hour, minutes=7), 2)
        assert dt.time(8, 30) <= due.timetz().replace(tzinfo=None) <= dt.time(17, 30), due


# --- working hours: 08:30–17:30 on working days, no lunch break modelled --------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (bj(2026, 3, 4, 10), 2, bj(2026, 3, 4, 12)),  # within a day (no lunch break in the model)
        (bj(2026, 3, 4, 16, 30), 1, bj(2026, 3, 4, 17, 30)),  # exactly to closing time
        (bj(2026, 3, 4, 16, 30), 4, bj(2026, 3, 5, 11, 30)),  # 1 h today, 3 h tomorrow from 08:30
        (bj(2026, 3, 6, 16, 30), 4, bj(2026, 3, 9, 11, 30)),  # Friday evening → Monday
        (bj(2026, 3, 9, 7), 2, bj(2026, 3, 9, 10, 30)),  # before opening: counts from 08:30
        (bj(2026, 3, 9, 19), 1, bj(2026, 3, 10, 9, 30)),  # after closing: from tomorrow's opening
        (bj(2026, 3, 9, 8, 30), 9, bj(2026, 3, 9, 17, 30)),  # a whole office day
        (bj(2026, 3, 9, 8, 30), 9.5, bj(2026, 3, 10, 9)),
        (bj(2026, 3, 9, 12), 0.25, bj(2026, 3, 9, 12, 15)),
        (bj(2026, 9, 30, 16, 30), 4, bj(2026, 10, 8, 11, 30)),  # across the National Day break
        (bj(2026, 10, 9, 17), 2, bj(2026, 10, 10, 10)),  # into the make-up Saturday
        (bj(2026, 2, 17, 12), 1, bj(2026, 2, 24, 9, 30)),  # starting on a holiday
        (bj(2026, 2, 13, 17), 1, bj(2026, 2, 14, 9)),  # Fri 30 min, then make-up Sat Feb 14
        (bj(2026, 2, 14, 17), 1, bj(2026, 2, 24, 9)),  # from that Saturday, over the whole break
    ],
)
def test_add_work_hours(cal: WorkCalendar, start: dt.datetime, hours: float, due: dt.datetime) -> None:
    assert cal.add_work_hours(start, hours) == (due, False)


def test_add_work_hours_with_other_office_hours(cal: WorkCalendar) -> None:
    morning = (dt.time(9, 0), dt.time(12, 0))
    assert cal.add_work_hours(bj(2026, 3, 6, 11), 2, morning) == (bj(2026, 3, 9, 10), False)


def test_add_work_hours_from_utc(cal: WorkCalendar) -> None:
    # 01:00 UTC = 09:00 Beijing.
    start = dt.datetime(2026, 3, 4, 1, 0, tzinfo=dt.UTC)
    assert cal.add_work_hours(start, 1) == (bj(2026, 3, 4, 10), False)


def test_office_point_shares_office_time(cal: WorkCalendar) -> None:
    # Fri Mar 6 16:30 → Mon Mar 9 11:30 holds 4 office hours (1 Fri, 3 Mon): half is at Mon 09:30.
    assert cal.office_point(bj(2026, 3, 6, 16, 30), bj(2026, 3, 9, 11, 30), 0.5) == bj(2026, 3, 9, 9, 30)
    # Tue Sep 29 10:00 → Fri Oct 9 10:00 (3 working days): 7.5 h + 9 h (Sep 30) + 9 h (Oct 8) + 1.5 h = 27 h.
    start, end = bj(2026, 9, 29), bj(2026, 10, 9)
    assert cal.office_point(start, end, 0.5) == bj(2026, 9, 30, 14, 30)  # 13.5 h
    assert cal.office_point(start, end, 0.8) == bj(2026, 10, 8, 13, 36)  # 21.6 h
    # No office time in between (a Saturday): wall time.
    assert cal.office_point(bj(2026, 3, 7, 10), bj(2026, 3, 7, 12), 0.5) == bj(2026, 3, 7, 11)


# --- a year nobody covers -------------------------------------------------------------------------------------------


def test_uncovered_year_is_monday_to_friday_and_estimated(cal: WorkCalendar) -> None:
    # 2027-01-01 is a Friday; New Year's Day is surely a holiday, but nobody has said so: a weekday is worked.
    assert D(2027, 1, 1).weekday() == 4
    assert cal.is_workday(D(2027, 1, 1))
    assert not cal.is_workday(D(2027, 1, 2))
    assert cal.add_workdays(bj(2027, 1, 1), 1) == (bj(2027, 1, 4), True)
    assert cal.add_workdays(bj(2027, 3, 10), 5) == (bj(2027, 3, 17), True)
    assert cal.add_workdays(bj(2027, 3, 10), 0) == (bj(2027, 3, 10), True)
    assert cal.add_workdays(bj(2027, 1, 2), 0) == (bj(2027, 1, 4, 8, 30), True)  # Saturday → Monday's opening
    assert cal.add_work_hours(bj(2027, 1, 1, 17), 1) == (bj(2027, 1, 4, 9), True)


def test_deadline_running_into_an_uncovered_year_is_estimated(cal: WorkCalendar) -> None:
    # Wed Dec 30 2026 + 3: Thu Dec 31, Fri Jan 1 2027 (guessed a working day), Mon Jan 4.
    assert cal.add_workdays(bj(2026, 12, 30), 3) == (bj(2027, 1, 4), True)
    assert cal.add_workdays(bj(2026, 12, 30), 1) == (bj(2026, 12, 31), False)  # stays in 2026: not estimated
    assert cal.add_work_hours(bj(2026, 12, 31, 17), 2) == (bj(2027, 1, 1, 10), True)
    assert cal.estimated(bj(2026, 12, 31), bj(2027, 1, 1))
    assert not cal.estimated(bj(2026, 1, 1), bj(2026, 12, 31))


def test_far_future_does_not_crash(cal: WorkCalendar) -> None:
    # Mon Nov 30 2026 (December 2026 has no holidays) + 3650 Monday–Friday days = 730 weeks = 5110 days later.
    assert cal.add_workdays(bj(2026, 11, 30), 3650) == (bj(2026, 11, 30) + dt.timedelta(days=5110), True)
    assert bj(2026, 11, 30) + dt.timedelta(days=5110) == bj(2040, 11, 26)
    due, estimated = cal.add_work_hours(bj(2030, 1, 1), 1000)
    assert estimated and due.year == 2030


# --- the office's file ----------------------------------------------------------------------------------------------


def test_no_file_is_the_package_alone(tmp_path: Path) -> None:
    assert WorkCalendar.load(None) == WorkCalendar()
    assert WorkCalendar.load(tmp_path / "absent.yml") == WorkCalendar()
    empty = tmp_path / "empty.yml"
    empty.write_text("", encoding="utf-8")
    assert WorkCalendar.load(empty) == WorkCalendar()


def test_file_reads_every_section(cal_2027: WorkCalendar) -> None:
    assert cal_2027.years == {2027}
    assert D(2027, 2, 11) in cal_2027.holidays  # quoted in the file, still a date
    assert cal_2027.holidays == {D(2027, 1, 1), *(D(2027, 2, d) for d in range(8, 13))}
    assert cal_2027.workdays == {D(2027, 2, 20)}
    assert cal_2027.closed == {"QH": {D(2026, 12, 31)}, "QH-01": {D(2027, 1, 5)}}


def test_file_covers_2027(cal_2027: WorkCalendar) -> None:
    assert cal_2027.coverage(2027) == Coverage(2027, "file")
    assert not cal_2027.coverage(2027).estimated
    assert cal_2027.coverage(2028).estimated
    assert not cal_2027.is_workday(D(2027, 1, 1))
    assert cal_2027.is_workday(D(2027, 2, 20))  # make-up Saturday
    assert not cal_2027.is_workday(D(2027, 2, 13))  # an ordinary weekend day of the year
    # Wed Dec 30 2026 + 3: Thu Dec 31, (Jan 1 off, weekend), Mon Jan 4, Tue Jan 5 — known, not estimated.
    assert cal_2027.add_workdays(bj(2026, 12, 30), 3) == (bj(2027, 1, 5), False)
    # Spring Festival: Fri Feb 5 → Mon Feb 15; Fri Feb 19 → Sat Feb 20 (make-up).
    assert cal_2027.add_workdays(bj(2027, 2, 5), 1) == (bj(2027, 2, 15), False)
    assert cal_2027.add_workdays(bj(2027, 2, 19), 1) == (bj(2027, 2, 20), False)
    assert cal_2027.add_workdays(bj(2027, 2, 10, 15), 0) == (bj(2027, 2, 15, 8, 30), False)
    assert cal_2027.add_work_hours(bj(2027, 2, 5, 17), 1) == (bj(2027, 2, 15, 9), False)
    # The file does not change 2026's statutory schedule.
    assert cal_2027.add_workdays(bj(2026, 9, 30), 1) == (bj(2026, 10, 8), False)
    # Past the file's years it is estimated again.
    assert cal_2027.add_workdays(bj(2027, 12, 30), 2)[1]


def test_closed_days_of_a_street_and_its_communities(cal_2027: WorkCalendar) -> None:
    thu = D(2026, 12, 31)
    assert cal_2027.is_workday(thu)  # for everyone else
    assert not cal_2027.is_workday(thu, ("QH",))
    assert cal_2027.is_workday(thu, ("QH-02",))  # a unit code is not a prefix match
    # The community QH-01 inherits the street's closed day when the caller passes its ancestors too.
    assert not cal_2027.is_workday(thu, ("QH-01", "QH"))
    assert not cal_2027.is_workday(D(2027, 1, 5), ("QH-01", "QH"))
    assert cal_2027.is_workday(D(2027, 1, 5), ("QH",))
    # Wed Dec 30 + 3 for the street: Dec 31 closed → Jan 4, Jan 5, Jan 6; for the community Jan 5 too → Jan 7.
    assert cal_2027.add_workdays(bj(2026, 12, 30), 3, ("QH",)) == (bj(2027, 1, 6), False)
    assert cal_2027.add_workdays(bj(2026, 12, 30), 3, ("QH-01", "QH")) == (bj(2027, 1, 7), False)
    # A report on the closed day counts from the next open day's opening.
    assert cal_2027.add_workdays(bj(2026, 12, 31, 11), 0, ("QH",)) == (bj(2027, 1, 4, 8, 30), False)
    assert cal_2027.add_work_hours(bj(2026, 12, 30, 17), 1, units=("QH",)) == (bj(2027, 1, 4, 9), False)


def test_file_entries_for_a_covered_year_add_to_the_package(tmp_path: Path) -> None:
    path = tmp_path / "extra.yml"
    path.write_text(
        "holidays: [2026-03-02]\nworkdays: [2026-03-07, 2026-10-02]\nclosed:\n  QH: [2026-02-14]\n", encoding="utf-8"
    )
    cal = WorkCalendar.load(path)
    assert cal.coverage(2026).source == "chinesecalendar"  # 2026 not in `years`: the package still answers
    assert not cal.is_workday(D(2026, 3, 2))  # an extra holiday on a Monday
    assert cal.is_workday(D(2026, 3, 7))  # an extra working Saturday
    assert cal.is_workday(D(2026, 10, 2))  # the file wins over the package
    assert not cal.is_workday(D(2026, 10, 1))  # the rest of the package's schedule stays
    assert cal.is_workday(D(2026, 2, 14)) and not cal.is_workday(D(2026, 2, 14), ("QH",))  # closed beats make-up
    # From the make-up Sat Feb 28: Sun Mar 1 off, Mon Mar 2 now a holiday → Tue Mar 3.
    assert cal.add_workdays(bj(2026, 2, 28), 1) == (bj(2026, 3, 3), False)


def test_holidays_without_years_still_estimated(tmp_path: Path) -> None:
    path = tmp_path / "partial.yml"
    path.write_text("holidays: [2027-01-01]\n", encoding="utf-8")
    cal = WorkCalendar.load(path)
    assert not cal.is_workday(D(2027, 1, 1))  # honoured
    assert cal.coverage(2027).estimated  # but the year is not declared complete
    assert cal.add_workdays(bj(2026, 12, 31), 1) == (bj(2027, 1, 4), True)


def test_malformed_file_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(
        "holiday: [2027-01-01]\n"  # typo of holidays
        "holidays: [2027-01-04, not-a-date, 2027/02/01]\n"
        "workdays: 2027-01-04\n"  # not a list
        "years: [2027, 1999, next]\n"
        "closed:\n  QH: [tomorrow]\n",
        encoding="utf-8",
    )
    with pytest.raises(CalendarFileError) as err:
        WorkCalendar.load(path)
    msg = str(err.value)
    assert str(path) in msg
    for needle in (
        "unknown key(s) holiday",
        "holidays: 'not-a-date' is not a date",
        "holidays: '2027/02/01' is not a date",
        "workdays: expected a list of dates",
        "years: '1999' is not a year",
        "years: 'next' is not a year",
        "closed.QH: 'tomorrow' is not a date",
    ):
        assert needle in msg, (needle, msg)


def test_a_day_both_off_and_worked_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "both.yml"
    path.write_text("holidays: [2027-01-04, 2027-01-01]\nworkdays: ['2027-01-04', 2027-01-01]\n", encoding="utf-8")
    with pytest.raises(CalendarFileError, match="both a holiday and a working day: 2027-01-01, 2027-01-04"):
        WorkCalendar.load(path)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("holidays: [2027-01-01\n", "not valid YAML"),
        ("- 2027-01-01\n", "expected a mapping"),
        ("closed: [QH]\n", "closed: expected unit codes"),
        ("holidays: ['2027-01-01 10:00']\n", "'2027-01-01 10:00' is not a date"),
    ],
)
def test_malformed_shapes_are_refused(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError, match="^" + re.escape(str(path))) as err:
        WorkCalendar.load(path)
    assert needle in str(err.value)


def test_impossible_date_is_listed_with_the_other_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("holidays: [2027-02-30]\nworkdays: [someday]\n", encoding="utf-8")
    with pytest.raises(CalendarFileError) as err:
        WorkCalendar.load(path)
    assert "2027-02-30" in str(err.value) and "someday" in str(err.value)


def test_years_not_a_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("years: 2027\n", encoding="utf-8")
    with pytest.raises(CalendarFileError, match="years"):
        WorkCalendar.load(path)


# --- the command line -----------------------------------------------------------------------------------------------


def gridbot(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, with only the GRIDBOT_ variables the test sets."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=base, cwd=cwd, timeout=120
    )


@pytest.mark.parametrize(
    ("day", "n", "due"),
    [
        ("2026-09-30", "1", "2026-10-08"),
        ("2026-09-30", "3", "2026-10-10"),
        ("2026-02-13", "2", "2026-02-24"),
        ("2026-10-03", "0", "2026-10-08"),
    ],
)
def test_cli_calendar_add(tmp_path: Path, day: str, n: str, due: str) -> None:
    res = gridbot("calendar", "add", day, n, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines() == [due]


def test_cli_calendar_add_into_an_uncovered_year(tmp_path: Path) -> None:
    res = gridbot("calendar", "add", "2026-12-31", "1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[-1] == "2027-01-01"
    assert "estimated" in lines[0] and "2027" in lines[0]
    with_file = gridbot(
        "calendar", "add", "2026-12-31", "1", cwd=tmp_path, env={"GRIDBOT_CALENDAR_FILE": str(FILE_2027)}
    )
    assert with_file.returncode == 0, with_file.stderr
    assert with_file.stdout.strip().splitlines() == ["2027-01-04"]


def test_cli_calendar_check(tmp_path: Path) -> None:
    known = gridbot("calendar", "check", "2026", cwd=tmp_path)
    assert known.returncode == 0 and "chinesecalendar" in known.stdout
    unknown = gridbot("calendar", "check", "2027", cwd=tmp_path)
    assert unknown.returncode == 1
    assert "not covered" in unknown.stdout and "GRIDBOT_CALENDAR_FILE" in unknown.stdout
    from_file = gridbot("calendar", "check", "2027", cwd=tmp_path, env={"GRIDBOT_CALENDAR_FILE": str(FILE_2027)})
    assert from_file.returncode == 0 and "calendar file" in from_file.stdout
    beyond = gridbot("calendar", "check", "2028", cwd=tmp_path, env={"GRIDBOT_CALENDAR_FILE": str(FILE_2027)})
    assert beyond.returncode == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["calendar", "add", "2026-13-01", "1"], "not a date"),
        (["calendar", "add", "2026-10-01", "3651"], "N must be between 0 and 3650"),
        (["calendar", "check", "27"], "YEAR must be a year"),
    ],
)
def test_cli_calendar_usage_errors(tmp_path: Path, args: list[str], needle: str) -> None:
    res = gridbot(*args, cwd=tmp_path)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], res.stderr


def test_cli_bad_calendar_file_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("holidays: [nope]\nyears: [1999]\n", encoding="utf-8")
    res = gridbot("calendar", "check", "2027", cwd=tmp_path, env={"GRIDBOT_CALENDAR_FILE": str(bad)})
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert "GRIDBOT_CALENDAR_FILE" in lines[0] and "'nope' is not a date" in lines[0] and "'1999'" in lines[0]
    missing = gridbot("calendar", "add", "2026-01-01", "1", cwd=tmp_path, env={"GRIDBOT_CALENDAR_FILE": "nope.yml"})
    assert missing.returncode == 2 and "no such file" in missing.stderr

"""The service-level policy: the shipped defaults, durations, per-category overrides, and bad files refused whole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from domain.cases.model import CATEGORIES
from domain.cases.sla import DEFAULT_POLICY, Duration, Levels, Policy, PolicyError, load_policy, parse_policy
from domain.kernel.time import CHINA_TZ
from domain.kernel.workdays import WorkCalendar

OFFICE = (dt.time(8, 30), dt.time(17, 30))


def bj(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=CHINA_TZ)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


# --- the shipped defaults -------------------------------------------------------------------------------------------


def test_shipped_defaults_are_the_articles(policy: Policy) -> None:
    # Every complaint handled within 3 working days; urgent: accepted within 1 minute, on site within 10.
    assert policy.normal.resolve == Duration(3, "working_days")
    assert policy.urgent.claim == Duration(1, "minutes")
    assert policy.urgent.on_site == Duration(10, "minutes")
    assert policy.normal == Levels(Duration(4, "working_hours"), None, Duration(3, "working_days"))
    assert policy.urgent.resolve == Duration(1, "working_days")
    assert policy.reminders == (0.5, 0.8)
    assert policy.office_hours == OFFICE
    assert policy.escalate_after == Duration(1, "working_days")
    assert policy.escalate_after_urgent == Duration(30, "minutes")
    assert policy.follow_up_remind == Duration(2, "working_days")
    assert policy.follow_up_close == Duration(5, "working_days")
    assert policy.department_report_in == Duration(2, "hours")
    assert policy.department_report_in_urgent == Duration(10, "minutes")
    assert (policy.duplicate_radius_m, policy.duplicate_radius_wide_m, policy.duplicate_days) == (100, 250, 7)
    assert policy.duplicate_wide_categories == ("road_traffic", "public_facility")


def test_shipped_file_equals_its_text_parsed(policy: Policy) -> None:
    assert parse_policy(DEFAULT_POLICY.read_text(encoding="utf-8")) == policy
    assert load_policy(DEFAULT_POLICY) == policy


def test_category_overrides(policy: Policy) -> None:
    assert set(policy.categories) == {"fire_safety", "building_safety"}
    fire = policy.levels("fire_safety", urgent=False)
    assert fire == Levels(Duration(2, "hours"), None, Duration(1, "working_days"))
    assert policy.levels("building_safety", urgent=False) == Levels(
        Duration(2, "hours"), None, Duration(2, "working_days")
    )
    # No urgent override for them: the default urgent levels apply.
    assert policy.levels("fire_safety", urgent=True) == policy.urgent
    for category in set(CATEGORIES) - {"fire_safety", "building_safety"}:
        assert policy.levels(category, urgent=False) == policy.normal
        assert policy.levels(category, urgent=True) == policy.urgent


def test_an_override_replaces_the_levels_of_that_urgency_only() -> None:
    p = parse_policy(
        "urgency:\n  normal: {resolve: 5 working days}\n  urgent: {claim: 1 minute, on_site: 10 minutes}\n"
        "categories:\n  parking:\n    urgent: {claim: 5 minutes}\n"
    )
    assert p.levels("parking", urgent=True) == Levels(Duration(5, "minutes"), None, None)
    assert p.levels("parking", urgent=False) == Levels(None, None, Duration(5, "working_days"))
    assert p.levels("other", urgent=True) == Levels(Duration(1, "minutes"), Duration(10, "minutes"), None)


# --- deadlines from the defaults ------------------------------------------------------------------------------------


def test_ordinary_complaint_resolved_in_3_working_days_over_national_day(policy: Policy) -> None:
    cal = WorkCalendar()
    resolve = policy.levels("environment", urgent=False).resolve
    assert resolve is not None
    # Tue Sep 29 2026 10:00: Wed Sep 30, (Oct 1–7 off) Thu Oct 8, Fri Oct 9.
    assert resolve.after(bj(2026, 9, 29), cal, policy.office_hours) == (bj(2026, 10, 9), False)
    # Filed during the break: the time counts from Thu Oct 8 08:30 and ends at the close of the third working
    # day: Thu Oct 8, Fri Oct 9, Sat Oct 10 (make-up) — inside office hours, never at night.
    assert resolve.after(bj(2026, 10, 2, 21), cal, policy.office_hours) == (bj(2026, 10, 10, 17, 30), False)
    # Into 2027, which nobody covers: estimated.
    assert resolve.after(bj(2026, 12, 30), cal, policy.office_hours) == (bj(2027, 1, 4), True)


def test_ordinary_claim_in_4_working_hours(policy: Policy) -> None:
    claim = policy.normal.claim
    assert claim is not None
    # Fri Feb 13 2026 15:30: 2 h to 17:30, then Sat Feb 14 (make-up) 08:30 + 2 h.
    assert claim.after(bj(2026, 2, 13, 15, 30), WorkCalendar(), policy.office_hours) == (bj(2026, 2, 14, 10, 30), False)


def test_urgent_is_wall_clock_even_on_a_holiday(policy: Policy) -> None:
    cal = WorkCalendar()
    start = bj(2026, 10, 1, 3, 0)  # National Day, 3 a.m.
    assert policy.urgent.claim is not None and policy.urgent.on_site is not None
    assert policy.urgent.claim.after(start, cal, policy.office_hours) == (bj(2026, 10, 1, 3, 1), False)
    assert policy.urgent.on_site.after(start, cal, policy.office_hours) == (bj(2026, 10, 1, 3, 10), False)
    # Wall clock in an uncovered year is not an estimate either.
    assert policy.urgent.claim.after(bj(2027, 1, 1, 3), cal, policy.office_hours) == (bj(2027, 1, 1, 3, 1), False)
    fire = policy.levels("fire_safety", urgent=False).claim
    assert fire is not None
    assert fire.after(bj(2026, 12, 31, 23), cal, policy.office_hours) == (bj(2027, 1, 1, 1), False)


def test_working_hours_use_the_policy_office_hours() -> None:
    p = parse_policy(
        "office_hours: '09:00-12:00'\nurgency:\n  normal: {claim: 2 working hours, resolve: 1 working day}\n"
    )
    assert p.office_hours == (dt.time(9), dt.time(12))
    assert p.normal.claim is not None
    assert p.normal.claim.after(bj(2026, 3, 6, 11), WorkCalendar(), p.office_hours) == (bj(2026, 3, 9, 10), False)


# --- durations ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("1 minute", 1, "minutes"),
        ("10 minutes", 10, "minutes"),
        ("2 hours", 2, "hours"),
        ("1.5 hours", 1.5, "hours"),
        ("1 hour", 1, "hours"),
        ("4 working hours", 4, "working_hours"),
        ("0.5 working hour", 0.5, "working_hours"),
        ("1 working day", 1, "working_days"),
        ("  3   working days ", 3, "working_days"),
        ("10000 minutes", 10_000, "minutes"),
    ],
)
def test_duration_parse(text: str, amount: float, unit: str) -> None:
    assert Duration.parse(text) == Duration(amount, unit)


@pytest.mark.parametrize(
    "text",
    ["3 days", "3", "soon", "0 minutes", "-1 hours", "10001 minutes", "1.5 working days", "3 workingdays", "", "1 min"],
)
def test_duration_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Duration.parse(text)


def test_duration_text() -> None:
    assert str(Duration(3, "working_days")) == "3 working days"
    assert str(Duration(1.5, "hours")) == "1.5 hours"
    assert Duration.parse(str(Duration(4, "working_hours"))) == Duration(4, "working_hours")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("[0.8, 0.5]", (0.5, 0.8)), ("[0.9]", (0.9,)), ("[]", ())],
)
def test_reminder_fractions(raw: str, expected: tuple[float, ...]) -> None:
    assert parse_policy(f"reminders: {raw}\nurgency: {{normal: {{resolve: 3 working days}}}}\n").reminders == expected


@pytest.mark.parametrize("raw", ["[0.5, 1]", "[0]", "[1.5]", "[half]", "0.5", "[true]"])
def test_reminder_fractions_refused(raw: str) -> None:
    with pytest.raises(PolicyError, match="reminders: expected fractions between 0 and 1"):
        parse_policy(f"reminders: {raw}\nurgency: {{normal: {{resolve: 3 working days}}}}\n")


# --- bad files ------------------------------------------------------------------------------------------------------

BAD = """\
office_hours: 17:30-08:30
reminders: [0.5, 2]
colour: blue
urgency:
  normal:
    claim: 4 workin hours
    resolve: null
    deadline: 3 working days
  urgent:
    claim: 0 minutes
    on_site: 10 mins
categories:
  fire_safety:
    normal: {resolve: 1.5 working days}
  flooding:
    normal: {resolve: 1 working day}
  parking:
    rush: {claim: 1 minute}
escalate_after:
  normal: one day
follow_up:
  close_after: 0 working days
department:
  report_in: 2 fortnights
duplicates:
  radius_m: 0
  days: 400
"""


def test_bad_policy_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "sla.yml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ")
    for needle in (
        "unknown key 'colour'",
        "office_hours: expected a range like 08:30-17:30",
        "reminders: expected fractions between 0 and 1",
        "urgency.normal.claim: '4 workin hours' is not a duration",
        "urgency.normal: unknown deadline(s) deadline",
        "urgency.urgent.claim: '0 minutes': the amount must be between 0 and 10000",
        "urgency.urgent.on_site: '10 mins' is not a duration",
        "categories.fire_safety.normal.resolve: '1.5 working days': working days must be whole",
        "categories: unknown category 'flooding'",
        "categories.parking: expected normal and/or urgent",
        "escalate_after.normal: 'one day' is not a duration",
        "follow_up.close_after: '0 working days': the amount must be between 0 and 10000",
        "department.report_in: '2 fortnights' is not a duration",
        "duplicates.radius_m: expected a number above 0 and at most 5000",
        "duplicates.days: expected a number above 0 and at most 365",
        "urgency.normal.resolve is required",
    ):
        assert needle in msg, (needle, msg)
    assert msg.count(";") == 15  # sixteen problems, one message


def test_bad_policy_is_refused_whole() -> None:
    # One problem is enough to refuse everything; nothing partial comes back.
    good = DEFAULT_POLICY.read_text(encoding="utf-8")
    with pytest.raises(PolicyError, match=r"^urgency\.urgent\.on_site: 'ten minutes' is not a duration"):
        parse_policy(good.replace("on_site: 10 minutes", "on_site: ten minutes"))
    with pytest.raises(PolicyError, match=r"^unknown key 'escalate'$"):
        parse_policy(good + "\nescalate: {normal: 1 working day}\n")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("urgency: {normal: [", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("", "urgency.normal.resolve is required"),
        ("urgency: {normal: 3 working days}\n", "urgency.normal: expected claim / on_site / resolve"),
        ("urgency: {normal: {resolve: 3 working days}}\ncategories: {other: [1]}\n", "categories.other: expected"),
        (
            "urgency: {normal: {resolve: 3 working days}}\ncategories: {other: {normal: null}}\n",
            "categories.other.normal",
        ),
        ("urgency: {normal: {resolve: 3 working days}}\noffice_hours: 9-17\n", "office_hours"),
        ("urgency: {normal: {resolve: 3 working days}}\noffice_hours: '12:00-12:00'\n", "office_hours"),
        ("urgency: {normal: {resolve: 3 working days}}\nduplicates: {radius_wide_m: 6000}\n", "radius_wide_m"),
    ],
)
def test_bad_policy_shapes(text: str, needle: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(text)
    assert needle in str(err.value)


def test_unreadable_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.yml")


_MIN = "urgency: {normal: {resolve: 3 working days}}\nreminders: [7]\n"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        pytest.param(
            "office_hours: '25:00-26:00'\n",
            "office_hours",
            id="office-hours-out-of-range",
        ),
        pytest.param(
            "duplicates: {radius_m: near, days: soon}\n",
            "duplicates",
            id="duplicates-not-numbers",
        ),
        pytest.param(
            "categories: [fire_safety]\n",
            "categories",
            id="categories-a-list",
        ),
        pytest.param(
            "escalate_after: 1 working day\n",
            "escalate_after",
            id="escalate-after-a-scalar",
        ),
    ],
)
def test_every_malformed_shape_is_a_policy_error(extra: str, needle: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(_MIN + extra)
    assert needle in str(err.value) and "reminders" in str(err.value)


def test_urgency_a_list_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="urgency"):
        parse_policy("urgency: [normal, urgent]\n")


def test_misspelt_urgency_is_refused() -> None:
    with pytest.raises(PolicyError, match="urgnet"):
        parse_policy("urgency:\n  normal: {resolve: 3 working days}\n  urgnet: {claim: 1 minute}\n")

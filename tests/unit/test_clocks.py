"""Clocks exact to the second and people's hours, on in-memory fakes (each rule once, each in milliseconds)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.cases.model import CaseState, Deadline
from domain.kernel.hours import HoursGuard, QuietHours
from domain.kernel.notices import Audience, Notice, NoticeLog, PostMode
from domain.kernel.time import CHINA_TZ, local
from domain.org.model import ChannelRef
from domain.points.model import LedgerEntry
from tests.unit.conftest import District

S = CaseState


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> dt.datetime:
    """A Beijing moment."""
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=CHINA_TZ)


async def clocks(d: District, case_id: int) -> dict[str, Deadline]:
    """The latest clock of each kind."""
    return {x.kind: x for x in sorted(await d.w.deadlines.of_cases([case_id]), key=lambda x: x.id)}


# --- met or missed is decided at the moment of the action ------------------------------------------------------------


async def test_a_claim_fifteen_seconds_late_is_late_whenever_the_sweeper_runs(d: District) -> None:
    case = await d.report("地下车库冒烟了", urgent=True)
    d.w.later(seconds=75)  # the minute ran out 15 s ago; no sweep has run
    case = await d.act(case, "claim", d.worker)
    assert (await clocks(d, case.id))["claim"].state == "missed"
    events = [(e.action, e.note) for e in await d.w.cases.events(case.id)]
    assert ("overdue", "claim") in events  # the timeline says so too
    totals, _ = await d.w.svc.stats.rates(await d.w.svc.org.get("G1"), local(d.w.clock.now).strftime("%Y-%m"))
    assert (totals.claim_decided, totals.claimed_in_time) == (1, 0)  # 及时响应率 0 %, not 100 %


async def test_a_claim_on_the_last_second_is_in_time(d: District) -> None:
    case = await d.report("地下车库冒烟了", urgent=True)
    d.w.later(seconds=60)
    case = await d.act(case, "claim", d.worker)
    assert (await clocks(d, case.id))["claim"].state == "met"


def test_verdict_does_not_count_paused_time() -> None:
    start = bj(2026, 11, 23, 10)
    x = Deadline(1, 1, "resolve", start, start + dt.timedelta(hours=1), paused_at=start + dt.timedelta(minutes=30))
    assert x.verdict(start + dt.timedelta(hours=5)) == "met"  # paused inside its time
    assert Deadline(1, 1, "claim", start, start, state="missed").verdict(start) == "missed"  # decided stays


# --- 首接负责: a held case is never taken from its holder -----------------------------------------------------------


async def test_escalation_never_takes_a_case_from_a_worker_on_site(d: District) -> None:
    case = await d.report("地下车库冒烟了", urgent=True)
    await d.sweep(seconds=75)  # the claim minute ran out: overdue, escalation clock starts
    case = await d.act(case, "claim", d.worker)
    d.w.later(seconds=60)
    case = await d.act(case, "onsite", d.worker)  # on site within ten minutes of the report
    for _ in range(8):
        await d.sweep(minutes=10)
    case = await d.w.svc.cases.get(case.id)
    assert (case.unit_code, case.state, case.assignee_id) == ("G1", S.ON_SITE, d.worker.id)
    case = await d.act(case, "resolve", d.worker, "已灭火")  # 办结 is the holder's
    assert case.state is S.RESOLVED


async def test_a_held_case_still_late_is_supervised_not_moved(d: District) -> None:
    case = await d.report("地下车库冒烟了", urgent=True)
    case = await d.act(case, "claim", d.worker)
    d.w.later(minutes=5)
    case = await d.act(case, "onsite", d.worker)
    # Resolve within one working day: it runs out; 30 minutes later the community supervises.
    due = (await clocks(d, case.id))["resolve"].due_at
    d.w.clock.now = due + dt.timedelta(seconds=1)
    await d.sweep()
    await d.sweep(minutes=31)
    case = await d.w.svc.cases.get(case.id)
    assert (case.unit_code, case.state, case.assignee_id) == ("G1", S.ON_SITE, d.worker.id)
    posts = [n for n in d.w.told.notices if n.kind == "case.card" and n.audience.key == "C1"]
    assert posts and posts[-1].mode is PostMode.NEW
    assert [a.name for a in posts[-1].actions] == ["case.takeover", "case.reassign", "case.urge"]
    assert posts[-1].params["holder"] == "worker" and "held_since" in posts[-1].params and posts[-1].params["history"]
    grid_posts = [n for n in d.w.told.notices if n.kind == "case.card" and n.audience.key == "G1"]
    assert "case.resolve" in [a.name for a in grid_posts[-1].actions]  # the holder keeps their buttons
    # Still late 30 minutes later: the street is told too, the case still stays.
    await d.sweep(minutes=31)
    assert [n for n in d.w.told.notices if n.kind == "case.card" and n.audience.key == "S"]
    case = await d.w.svc.cases.get(case.id)
    assert case.unit_code == "G1"
    case = await d.act(case, "resolve", d.worker, "已处理")
    closed = [n for n in d.w.told.notices if n.kind == "case.card" and n.audience.key == "C1"][-1]
    assert closed.mode is PostMode.UPDATE and closed.actions == ()  # resolved: nothing left to supervise


async def test_an_unclaimed_case_climbs_with_fresh_clocks(d: District) -> None:
    case = await d.report("地下车库冒烟了", urgent=True)
    await d.sweep(seconds=61)
    await d.sweep(minutes=30)
    case = await d.w.svc.cases.get(case.id)
    assert (case.unit_code, case.state) == ("C1", S.NEW)
    fresh = await clocks(d, case.id)
    assert fresh["claim"].state == "open" and fresh["claim"].due_at == d.w.clock.now + dt.timedelta(minutes=1)


# --- working time ends inside office hours; nothing that is not urgent is sent at night ------------------------------


async def test_an_evening_report_is_due_in_office_hours(d: District) -> None:
    d.w.clock.now = bj(2026, 11, 23, 22)  # Monday 22:00
    case = await d.report()
    c = await clocks(d, case.id)
    assert local(c["claim"].due_at) == bj(2026, 11, 24, 12, 30)  # 4 working hours from Tuesday 08:30
    assert local(c["resolve"].due_at) == bj(2026, 11, 26, 17, 30)  # the close of Thursday, not 22:00


async def test_a_week_of_sweeps_sends_nothing_ordinary_at_night(d: District) -> None:
    quiet = QuietHours()
    d.w.clock.now = bj(2026, 11, 23, 20, 4)
    await d.report()
    await d.report("路灯不亮了", unit="G2")
    for _ in range(24 * 10):
        await d.sweep(minutes=37)
    for n in d.w.told.notices:
        if n.urgent or n.mode in (PostMode.UPDATE, PostMode.CLOSE):
            continue
        assert n.not_before is None or not quiet.contains(n.not_before), (n.kind, n.not_before)
    assert any(n.kind == "case.late" for n in d.w.told.notices)


def test_quiet_hours_hold_back_the_ordinary_and_let_danger_through() -> None:
    now = bj(2026, 11, 23, 22, 30)
    log = NoticeLog()
    guard = HoursGuard(log, lambda: now, QuietHours())
    guard.actor_id = 7
    assert guard.when(Notice("case.card", Audience.unit("G1"))) == bj(2026, 11, 24, 8)
    assert guard.when(Notice("case.card", Audience.unit("G1"), urgent=True)) is None
    assert guard.when(Notice("case.claimed", Audience.person(7))) is None  # the person acting now
    assert guard.when(Notice("case.card", Audience.unit("G1"), mode=PostMode.UPDATE)) is None  # edits are silent
    # A reminder scheduled for 06:00 comes the evening before, while that is still ahead.
    early = Notice("activity.reminder_hour", Audience.person(8), not_before=bj(2026, 11, 25, 6))
    assert guard.when(early) == bj(2026, 11, 24, 20, 59)
    day = bj(2026, 11, 23, 12)
    assert HoursGuard(log, lambda: day, QuietHours()).when(Notice("x", Audience.unit("G1"))) is None
    assert (
        QuietHours.parse("22:30-07:00").contains(bj(2026, 1, 1, 23)) and not QuietHours(dt.time(0), dt.time(0)).enabled
    )
    with pytest.raises(ValueError):
        QuietHours.parse("25:00-07:00")


async def test_fixed_day_reminders_respect_the_night_and_late_groups(d: District) -> None:
    # 民情日 on Friday Dec 25 2026 (communities and grids).
    d.w.clock.now = bj(2026, 12, 25, 22)
    assert await d.w.svc.fixed_days.remind() == 0  # the morning post missed its day: never at 22:00
    d.w.clock.now = bj(2026, 12, 25, 8, 1)
    first = await d.w.svc.fixed_days.remind()
    assert first == 3  # C1, G1, G2 have groups
    assert await d.w.svc.fixed_days.remind() == 0
    await d.w.units.bind("G3", ChannelRef("test", "-113"))
    d.w.later(hours=2)
    assert await d.w.svc.fixed_days.remind() == 1  # bound after the day's first sweep: still told that day


async def test_an_empty_board_is_not_posted_and_no_board_at_night(d: District) -> None:
    d.w.clock.now = bj(2026, 12, 1, 20, 28)
    assert await d.w.svc.board.post_monthly() == []  # nobody earned points in November: no empty board
    await d.w.ledger.append(
        LedgerEntry(d.rider.id, "earn", 5, "上报", "k1", community_code="C1", created_at=bj(2026, 11, 20))
    )
    await d.w.ledger.append(
        LedgerEntry(d.rider.id, "earn", 5, "上报", "k2", community_code="C2", created_at=bj(2026, 11, 20))
    )
    await d.w.units.bind("C2", ChannelRef("test", "-12"))
    d.w.clock.now = bj(2026, 12, 1, 22)
    assert await d.w.svc.board.post_monthly() == []  # night: waits
    d.w.clock.now = bj(2026, 12, 2, 8, 30)
    assert await d.w.svc.board.post_monthly() == ["C2"]  # C1 was marked done when it had nothing


# --- per-worker ratings, the card's clock ---------------------------------------------------------------------------


async def test_each_rounds_rating_belongs_to_its_resolver_once(d: District) -> None:
    case = await d.resolved(await d.report())
    case = await d.act(case, "reopen", d.rider, "unsatisfied")
    case = await d.act(case, "claim", d.colleague)
    case = await d.act(case, "onsite", d.colleague)
    case = await d.act(case, "resolve", d.colleague, "这次修好了")
    await d.act(case, "rate", d.rider, "satisfied")
    workers = await d.w.svc.stats.workers(await d.w.svc.org.get("C1"), local(d.w.clock.now).strftime("%Y-%m"))
    ratings = {w.name: dict(w.ratings) for w in workers}
    assert ratings == {"worker": {"unsatisfied": 1}, "colleague": {"satisfied": 1}}


async def test_the_card_shows_this_rounds_lateness_rounded_up(d: District) -> None:
    case = await d.report("地下车库冒烟了", urgent=True)
    await d.sweep(seconds=61)  # one second late
    card = [n for n in d.w.told.notices if n.kind == "case.card"][-1]
    assert card.params["overdue_minutes"] == 1  # never "0 分钟"
    case = await d.resolved(case)
    case = await d.act(case, "reopen", d.rider, "unsatisfied")
    card = [n for n in d.w.told.notices if n.kind == "case.card" and n.mode is PostMode.NEW][-1]
    assert "overdue_minutes" not in card.params  # the previous round's 接单已超时 is history
    case = await d.act(case, "recategorize", d.worker, "environment")
    card = [n for n in d.w.told.notices if n.kind == "case.card"][-1]
    assert "holder" not in card.params  # 待接单 · nobody: the corrector is not its holder


async def test_the_follow_up_clock_is_met_by_a_rating_in_time(d: District) -> None:
    case = await d.resolved(await d.report())
    d.w.later(hours=3)
    await d.act(case, "rate", d.rider, "basic")
    assert (await clocks(d, case.id))["follow_up_close"].state == "met"
    late = await d.resolved(await d.report("又堆了"))
    d.w.later(days=20)  # no sweep ran: the rating itself is late
    await d.act(late, "rate", d.rider, "satisfied")
    assert (await clocks(d, late.id))["follow_up_close"].state == "missed"

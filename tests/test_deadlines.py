"""Deadlines end to end: working-day clocks, reminders, overdue, escalation up the hierarchy, pauses, follow-up,
and the sweeper acting once per deadline across a restart and with two runners on one database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.app import App, create_app
from bot.config import Settings
from bot.demo_cast import ADMIN, COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP, GRID_HEAD, RIDER, STREET_GROUP, WORKER
from bot.jobs import SweepResult, sweep
from bot.nlu import BuiltinClassifier
from bot.recording import RecordingSession
from bot.scripted import Person, Script
from domain.cases.model import Case, CaseState, Deadline
from domain.kernel.time import CHINA_TZ
from storage.db import create_engine
from tests.conftest import FakeClock
from tests.helpers import all_cases, sent_to, services, texts, user_of


async def tick(s: Script, clock: FakeClock, **delta: float) -> SweepResult:
    """Move time on, let the sweeper act, deliver what it queued."""
    clock.now += timedelta(**delta)
    result = await sweep(s.app)
    await s.app.sender.drain()
    s._collect()
    return result


async def submit(s: Script, who: Person, text: str, spot: dict[str, float], dlat: float = 0.0) -> Case:
    """Text, location, 提交 — returns the new case."""
    await s.say(who, text)
    await s.location(who, spot["lat"] + dlat, spot["lon"])
    await s.press(who, "提交")
    if "附近已有相同问题" in texts(sent_to(s.session, who.id))[-1]:
        await s.press(who, "不是")  # these tests file the same words many times on purpose
    return (await all_cases(s.app))[-1]


async def clocks_of(app: App, case: Case) -> dict[str, Deadline]:
    """The latest clock of each kind on a case."""
    async with services(app) as svc:
        rows = await svc.ports.deadlines.of_cases([case.id])
    return {d.kind: d for d in sorted(rows, key=lambda d: d.id)}


def count(s: Script, chat_id: int, needle: str) -> int:
    """Messages and edits to a chat that contain a text."""
    calls = [
        c
        for c in s.session.by_method("sendMessage", "sendPhoto", "editMessageText", "editMessageCaption")
        if c.chat_id == chat_id
    ]
    return sum(needle in str(c.params.get("text") or c.params.get("caption") or "") for c in calls)


def beijing(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Beijing wall-clock moment."""
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


async def test_urgent_report_is_reminded_overdue_and_climbs_to_the_street(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    await s.say(GRID_HEAD, "/start")
    await s.say(ADMIN, "/staff head @chen_head", group=GRID_GROUP)
    await s.say(RIDER, "地下车库冒烟了 有股焦糊味")
    assert "紧急" in texts(sent_to(s.session, RIDER.id))[-1]  # the words propose it before submitting
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    assert case.urgent
    clocks = await clocks_of(s.app, case)
    assert clocks["claim"].due_at - case.created_at == timedelta(minutes=1)
    assert clocks["on_site"].due_at - case.created_at == timedelta(minutes=10)
    s.session.clear()

    await tick(s, clock, seconds=31)  # half the minute: the holder (nobody yet) is reminded
    [reminder] = [x for x in texts(sent_to(s.session, GRID_GROUP.id)) if "时限将到" in x]
    assert case.number in reminder and "待接单" in reminder
    await tick(s, clock, seconds=31)  # the minute is over
    assert count(s, GRID_GROUP.id, "接单已超时") == 1
    assert count(s, RIDER.id, "已超过接单时限") == 1
    assert count(s, GRID_HEAD.id, "网格长请注意") == 1  # the grid head hears before it leaves the grid
    assert count(s, COMMUNITY_GROUP.id, case.number) == 0

    await tick(s, clock, minutes=30)
    [case] = await all_cases(s.app)
    assert case.unit_code == "QH-01" and case.state is CaseState.NEW
    [post] = [x for x in texts(sent_to(s.session, COMMUNITY_GROUP.id)) if case.number in x]
    assert "提级办理" in post and "杏林社区第二网格" in post and "接单超时" in post
    assert "经过" in post and "上报" in post  # the grid's history comes with it
    assert count(s, RIDER.id, "已提级至 杏林社区") == 1

    # At its new level the case has a fresh minute to be claimed; unclaimed, it climbs again 30 minutes later.
    clocks = await clocks_of(s.app, case)
    assert clocks["claim"].state == "open" and clocks["claim"].due_at == clock.now + timedelta(minutes=1)
    await tick(s, clock, seconds=61)
    assert count(s, COMMUNITY_GROUP.id, "接单已超时") >= 1
    await tick(s, clock, minutes=30)
    [case] = await all_cases(s.app)
    assert case.unit_code == "QH"
    assert count(s, STREET_GROUP.id, "提级办理") == 1 and count(s, RIDER.id, "已提级至 青禾街道") == 1
    await tick(s, clock, seconds=61)  # the street's own minute runs out: its post says so
    await tick(s, clock, minutes=10)  # and its ten minutes to be on site
    before = len(s.session.calls)
    await tick(s, clock, hours=3)  # the street is the top: nothing climbs further, nothing is repeated
    await tick(s, clock, seconds=1)
    assert [c for c in s.session.calls[before:] if c.method != "editMessageCaption"] == []
    async with services(s.app) as svc:
        events = [(e.action, e.note) for e in await svc.ports.cases.events(case.id)]
    assert [e for e in events if e[0] in ("overdue", "escalate")] == [
        ("overdue", "claim"),
        ("overdue", "on_site"),  # ten minutes passed with nobody there
        ("escalate", "QH-01-02"),
        ("overdue", "claim"),  # the community's own minute to claim it
        ("overdue", "on_site"),  # and its own ten minutes to be there
        ("escalate", "QH-01"),
        ("overdue", "claim"),  # the street's
        ("overdue", "on_site"),
    ]
    assert count(s, RIDER.id, "已超过") == 1  # told honestly, once per round (each climb is told as such)


async def test_claimed_in_time_stops_the_clock_and_escalation(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    case = await submit(s, RIDER, "小区门口井盖松了 踩上去晃", spot)
    assert not case.urgent
    await tick(s, clock, hours=1)
    await s.press(WORKER, "接单", group=GRID_GROUP)
    clocks = await clocks_of(s.app, case)
    assert clocks["claim"].state == "met" and clocks["resolve"].state == "open"
    s.session.clear()
    await tick(s, clock, hours=6)
    assert count(s, RIDER.id, "超过") == 0 and count(s, COMMUNITY_GROUP.id, case.number) == 0


async def test_deadlines_count_working_days_across_national_day(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    clock.now = beijing(2026, 9, 30, 16, 0)  # the afternoon before the National Day week
    case = await submit(s, RIDER, "楼下路灯坏了 晚上黑", spot)
    clocks = await clocks_of(s.app, case)
    # 4 office hours (08:30–17:30): 1.5 on 30 Sep, 2.5 on 8 Oct, the first working day after the holiday.
    assert clocks["claim"].due_at == beijing(2026, 10, 8, 11, 0)
    # 3 working days: 8 Oct, 9 Oct and Saturday 10 Oct (a make-up working day).
    assert clocks["resolve"].due_at == beijing(2026, 10, 10, 16, 0)
    assert not clocks["resolve"].estimated
    # The holiday itself brings no reminder and no overdue.
    s.session.clear()
    await tick(s, clock, days=3)
    assert count(s, GRID_GROUP.id, "时限将到") == 0 and count(s, RIDER.id, "超过") == 0
    await tick(s, clock, days=4, hours=18)  # 8 Oct 10:00: past 80 % of the claim time
    assert count(s, GRID_GROUP.id, "时限将到") == 1


async def test_a_year_nobody_covers_is_estimated_and_admins_are_told_once(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    await s.say(ADMIN, "/start")
    clock.now = beijing(2031, 3, 3, 10, 0)
    first = await submit(s, RIDER, "楼下路灯坏了 晚上黑", spot)
    await submit(s, RIDER, "小区门口井盖松了", spot)
    clocks = await clocks_of(s.app, first)
    assert clocks["resolve"].estimated and clocks["resolve"].due_at == beijing(2031, 3, 6, 10, 0)
    assert count(s, ADMIN.id, "2031") == 1
    assert "估算" in next(x for x in texts(sent_to(s.session, GRID_GROUP.id)) if first.number in x)


async def test_a_reopened_case_gets_fresh_clocks(district: Script, spot: dict[str, float], clock: FakeClock) -> None:
    s = district
    case = await submit(s, RIDER, "楼道堆满纸箱 堵住消防通道", spot)
    for label in ("接单", "到场", "办结"):
        await s.press(WORKER, label, group=GRID_GROUP)
    await s.say(WORKER, "已清理")
    first = (await clocks_of(s.app, case))["resolve"]
    assert first.state == "met"
    await tick(s, clock, days=1)
    await s.press(RIDER, "不满意")
    again = (await clocks_of(s.app, case))["resolve"]
    assert again.id != first.id and again.state == "open" and again.started_at == clock.now


async def test_paused_clock_does_not_run_out_and_moves_by_the_pause(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    case = await submit(s, RIDER, "小区北门井盖松了 踩上去晃得厉害", spot)
    await s.press(WORKER, "接单", group=GRID_GROUP)
    due = (await clocks_of(s.app, case))["resolve"].due_at
    await s.say(WORKER, f"/pause {case.number} 等待业主开门", group=GRID_GROUP)
    assert count(s, RIDER.id, "暂停") == 1
    s.session.clear()
    await tick(s, clock, days=10)
    assert count(s, RIDER.id, "超过") == 0 and count(s, GRID_GROUP.id, "已超时") == 0
    await s.say(WORKER, f"/resume {case.number}", group=GRID_GROUP)
    moved = (await clocks_of(s.app, case))["resolve"]
    # Paused on Monday 10:00 with all 3 working days (27 office hours) left, resumed ten days later on Thursday
    # 10:00: the office time left runs from then — Thu, Fri, Mon — to Tuesday 10:00. Ten calendar days on
    # would have been a Sunday.
    assert due == beijing(2026, 11, 26, 10, 0)
    assert moved.due_at == beijing(2026, 12, 8, 10, 0) and moved.paused_at is None
    await s.say(WORKER, "/pause", group=GRID_GROUP)
    assert "/pause 案件编号" in texts(sent_to(s.session, GRID_GROUP.id))[-1]


async def test_unrated_case_is_reminded_once_then_closed_unrated(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    case = await submit(s, RIDER, "楼道堆满纸箱", spot)
    for label in ("接单", "到场", "办结"):
        await s.press(WORKER, label, group=GRID_GROUP)
    await s.say(WORKER, "已清理")
    s.session.clear()
    await tick(s, clock, days=3)  # Monday → Thursday: 2 working days passed
    await tick(s, clock, hours=1)
    assert count(s, RIDER.id, "回访：") == 1
    await tick(s, clock, days=7)
    [case] = await all_cases(s.app)
    assert case.state is CaseState.CLOSED and case.rating is None and case.close_reason == "unrated"
    assert count(s, RIDER.id, "未评价，已关闭") == 1
    await tick(s, clock, days=7)
    assert count(s, RIDER.id, "回访：") == 1


async def test_a_runner_that_was_down_sends_the_latest_reminder_once(
    district: Script, spot: dict[str, float], clock: FakeClock, settings: Settings, classifier: BuiltinClassifier
) -> None:
    s = district
    case = await submit(s, RIDER, "楼下路灯坏了 晚上黑", spot)
    await tick(s, clock, hours=1)  # before the first reminder (at 50 % of 4 office hours)
    # Down for 3.5 hours: both reminder moments pass unseen; a new process takes over.
    clock.now += timedelta(hours=2, minutes=30)
    await s.app.close()
    recording = RecordingSession()
    fresh = create_app(settings, bot_session=recording, classifier=classifier, clock=clock)
    try:
        again = Script(fresh, recording)
        await tick(again, clock)
        assert count(again, GRID_GROUP.id, "时限将到") == 1  # the latest only, not a burst of stale ones
        await tick(again, clock)
        assert count(again, GRID_GROUP.id, "时限将到") == 1
        await tick(again, clock, hours=1)  # past the claim deadline
        await tick(again, clock)
        assert count(again, RIDER.id, "已超过接单时限") == 1
        assert (await clocks_of(fresh, case))["claim"].state == "missed"
    finally:
        await fresh.close()


async def test_two_runners_sweeping_one_database_act_once_per_deadline(
    district: Script, spot: dict[str, float], clock: FakeClock, settings: Settings, classifier: BuiltinClassifier
) -> None:
    s = district
    reporters = [Person(810000 + i, f"骑手{i}") for i in range(12)]
    for person in reporters:
        await submit(s, person, "楼下路灯坏了 晚上黑", spot)
    clock.now += timedelta(hours=2, minutes=1)  # every claim clock is past its first reminder
    other = create_app(
        settings,
        bot_session=RecordingSession(),
        classifier=classifier,
        clock=clock,
        engine=create_engine(settings.database_url),
    )
    try:
        first, second = await asyncio.gather(sweep(s.app), sweep(other))
        assert first.deadlines + second.deadlines == len(reporters)
        assert (await sweep(s.app)).deadlines == 0 and (await sweep(other)).deadlines == 0
        # Every reminder was queued exactly once, whichever runner took it.
        s.session.clear()
        await s.app.sender.drain()
        reminders = [x for x in texts(sent_to(s.session, GRID_GROUP.id)) if "时限将到" in x]
        assert len(reminders) == len(reporters) == len(set(reminders))
    finally:
        await other.close()
        await other.engine.dispose()


async def test_staff_raise_and_lower_urgency_with_a_reason(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    case = await submit(s, RIDER, "楼道里堆了几辆电动车", spot)
    before = (await clocks_of(s.app, case))["claim"].due_at
    await s.say(WORKER, f"/urgent {case.number} 有老人被堵在楼上", group=GRID_GROUP)
    [case] = await all_cases(s.app)
    assert case.urgent and (await clocks_of(s.app, case))["claim"].due_at == case.created_at + timedelta(minutes=1)
    await s.say(WORKER, f"/normal {case.number} 已疏通", group=GRID_GROUP)
    [case] = await all_cases(s.app)
    assert not case.urgent and (await clocks_of(s.app, case))["claim"].due_at == before
    async with services(s.app) as svc:
        events = [(e.action, e.note, e.actor_id) for e in await svc.ports.cases.events(case.id)]
    worker = (await user_of(s.app, WORKER)).id
    assert ("urgent", "有老人被堵在楼上", worker) in events and ("not_urgent", "已疏通", worker) in events
    await s.say(RIDER, f"/urgent {case.number} 快点", group=GRID_GROUP)
    [case] = await all_cases(s.app)
    assert not case.urgent


async def test_staff_escalate_by_hand_with_a_reason_and_record_a_follow_up_call(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    case = await submit(s, RIDER, "小区北门井盖松了 踩上去晃得厉害", spot)
    await s.say(WORKER, f"/escalate {case.number}", group=GRID_GROUP)
    assert "/escalate 案件编号 理由" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await s.say(WORKER, f"/escalate {case.number} 需要市政更换井盖", group=GRID_GROUP)
    [case] = await all_cases(s.app)
    assert case.unit_code == "QH-01"
    assert count(s, COMMUNITY_GROUP.id, "需要市政更换井盖") == 1 and count(s, RIDER.id, "已提级至 杏林社区") == 1
    for label in ("接单", "到场", "办结"):
        await s.press(COMMUNITY_STAFF, label, group=COMMUNITY_GROUP)
    await s.say(COMMUNITY_STAFF, "已联系市政更换")
    await s.say(COMMUNITY_STAFF, f"/followup {case.number} 很好", group=COMMUNITY_GROUP)
    assert "满意|基本满意|不满意" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    await s.say(COMMUNITY_STAFF, f"/followup {case.number} 基本满意 电话回访，居民说还行", group=COMMUNITY_GROUP)
    [case] = await all_cases(s.app)
    assert case.state is CaseState.CLOSED and case.rating is not None and case.rating.value == "basic"

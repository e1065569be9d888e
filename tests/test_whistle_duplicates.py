"""吹哨报到 and duplicates end to end: departments called, reporting in (or not), blocking resolution until done,
the street's override; the same problem reported twice is followed instead of filed, within category radii;
staff merge two cases."""

from __future__ import annotations

from bot.demo_cast import (
    ADMIN,
    COMMUNITY_GROUP,
    COMMUNITY_STAFF,
    DEPARTMENT_GROUP,
    GRID_GROUP,
    INSPECTOR,
    NEIGHBOUR,
    RESIDENT,
    RIDER,
    STREET_GROUP,
    WORKER,
)
from bot.scripted import Person, Script
from domain.cases.model import Case, CaseState
from tests.conftest import FakeClock
from tests.helpers import alerts, all_cases, sent_to, services, texts, user_of
from tests.test_deadlines import count, tick

STREET_STAFF = Person(900002, "街道干事", "qh_street")
FIFTH = Person(900405, "赵女士", "zhao_ns")


async def report(s: Script, who: Person, text: str, lat: float, lon: float) -> str:
    """Text, location, 提交; returns the last thing the bot said to the person."""
    await s.say(who, text)
    await s.location(who, lat, lon)
    await s.press(who, "提交")
    return texts(sent_to(s.session, who.id))[-1]


async def with_department(s: Script) -> None:
    """The 城管 squad bound to its group, with one inspector; street staff in the street group."""
    await s.say(ADMIN, "/bind QH-D-CG", group=DEPARTMENT_GROUP)
    await s.say(INSPECTOR, "/start")
    await s.say(ADMIN, "/staff add @zhou_cg", group=DEPARTMENT_GROUP)
    await s.say(STREET_STAFF, "/start")
    await s.say(ADMIN, "/staff add @qh_street", group=STREET_GROUP)


async def the_case(s: Script) -> Case:
    """The only case."""
    [case] = await all_cases(s.app)
    return case


async def test_department_reports_in_and_must_finish_before_the_case_resolves(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    await with_department(s)
    await report(s, RIDER, "小区门口人行道上摆了好多摊位 过不去", spot["lat"], spot["lon"])
    case = await the_case(s)
    # A grid worker may not blow the whistle; the community may, with a note.
    await s.say(WORKER, f"/whistle {case.number} QH-D-CG", group=GRID_GROUP)
    assert "只有社区或街道" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await s.say(COMMUNITY_STAFF, f"/whistle {case.number} QH-D-CG 早市占道", group=COMMUNITY_GROUP)
    [card] = texts(sent_to(s.session, DEPARTMENT_GROUP.id))[-1:]
    assert case.number in card and "待报到" in card and "早市占道" in card
    await s.say(COMMUNITY_STAFF, f"/whistle {case.number} QH-D-CG", group=COMMUNITY_GROUP)
    assert "已经被叫来" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    # Someone outside the department cannot report in for it.
    await s.press(WORKER, "报到", group=DEPARTMENT_GROUP)
    assert "只有该部门的工作人员" in alerts(s.session)[-1]
    await s.press(INSPECTOR, "报到", group=DEPARTMENT_GROUP)
    # The grid works the case but cannot resolve while the department has not finished.
    for label in ("接单", "到场", "办结"):
        await s.press(WORKER, label, group=GRID_GROUP)
    await s.say(WORKER, "已劝离摊贩")
    assert (await the_case(s)).state is CaseState.ON_SITE
    assert any("协办部门没有完成" in x for x in texts(sent_to(s.session, WORKER.id)) + alerts(s.session))
    # The department adds a note (by replying), then finishes its part.
    await s.press(INSPECTOR, "添加说明", group=DEPARTMENT_GROUP)
    await s.say(INSPECTOR, "已对占道摊贩下达整改通知")
    await s.press(INSPECTOR, "完成", group=DEPARTMENT_GROUP)
    assert count(s, GRID_GROUP.id, "已完成案件") == 1
    async with services(s.app) as svc:
        [call] = await svc.ports.calls.of_case(case.id)
        events = [(e.action, e.note) for e in await svc.ports.cases.events(case.id)]
    assert call.state == "done" and call.reported_at is not None and call.done_at is not None
    assert any(a == "dept_note" and "已对占道摊贩下达整改通知" in str(n) for a, n in events)
    await s.press(WORKER, "办结", group=GRID_GROUP)
    await s.say(WORKER, "已劝离摊贩，城管已下达整改通知")
    assert (await the_case(s)).state is CaseState.RESOLVED
    assert count(s, GRID_GROUP.id, "青禾城管执法中队（已完成）") >= 1


async def test_missed_report_in_tells_the_street_which_may_override(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    await with_department(s)
    await report(s, RIDER, "小区门口人行道上摆了好多摊位 过不去", spot["lat"], spot["lon"])
    case = await the_case(s)
    await s.say(COMMUNITY_STAFF, f"/whistle {case.number} QH-D-CG", group=COMMUNITY_GROUP)
    await tick(s, clock, hours=2, minutes=1)
    assert count(s, STREET_GROUP.id, case.number) == 1  # the street hears of the missed report-in
    async with services(s.app) as svc:
        [call] = await svc.ports.calls.of_case(case.id)
    assert call.state == "missed"
    await tick(s, clock, hours=2)
    assert count(s, STREET_GROUP.id, case.number) == 1  # once
    # Late is recorded as late, never refused.
    await s.press(INSPECTOR, "报到", group=DEPARTMENT_GROUP)
    # The community may not override; the street may, with a reason, and it is recorded.
    await s.say(COMMUNITY_STAFF, f"/override {case.number} 等不及了", group=COMMUNITY_GROUP)
    assert "只有街道" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    await s.say(STREET_STAFF, f"/override {case.number}", group=STREET_GROUP)
    assert "/override 案件编号 理由" in texts(sent_to(s.session, STREET_GROUP.id))[-1]
    await s.say(STREET_STAFF, f"/override {case.number} 摊贩已自行离开", group=STREET_GROUP)
    for label in ("接单", "到场", "办结"):
        await s.press(WORKER, label, group=GRID_GROUP)
    await s.say(WORKER, "现场已恢复通行")
    assert (await the_case(s)).state is CaseState.RESOLVED
    async with services(s.app) as svc:
        [call] = await svc.ports.calls.of_case(case.id)
        events = [(e.action, e.note) for e in await svc.ports.cases.events(case.id)]
    assert call.state == "waived" and ("override", "摊贩已自行离开") in events


async def test_a_neighbour_follows_the_same_problem_instead_of_filing_it(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    lat, lon = spot["lat"], spot["lon"]
    await report(s, RIDER, "楼道里堆满纸箱 堵住了消防通道", lat, lon)
    first = await the_case(s)
    assert first.category == "fire_safety"
    for person in (NEIGHBOUR, RESIDENT):
        await s.say(person, "/start")
    # 80 m away: the same problem? yes → follows it.
    asked = await report(s, NEIGHBOUR, "楼道堆了很多纸箱 消防通道堵住了", lat + 0.00072, lon)
    assert "附近已有相同问题" in asked and first.number in asked
    await s.press(NEIGHBOUR, "是，关注它")
    assert len(await all_cases(s.app)) == 1
    assert count(s, GRID_GROUP.id, "另有 1 人反映同一问题") == 1
    # 150 m away is another stairwell for a fire hazard (100 m radius): filed without asking.
    asked = await report(s, RESIDENT, "楼道堆了很多纸箱 消防通道堵住了", lat + 0.00135, lon)
    assert "附近已有相同问题" not in asked and len(await all_cases(s.app)) == 2
    # The follower hears of progress and of the end, but is not asked to rate.
    await s.press(WORKER, "接单", group=GRID_GROUP, on=first.number)
    assert count(s, NEIGHBOUR.id, "已由工作人员") == 1
    await s.press(WORKER, "到场", group=GRID_GROUP, on=first.number)
    await s.press(WORKER, "办结", group=GRID_GROUP, on=first.number)
    await s.say(WORKER, "纸箱已清走")
    finished = [c for c in s.session.calls if c.chat_id == NEIGHBOUR.id and "已办结" in str(c.params.get("text"))]
    assert finished and "reply_markup" not in finished[-1].params
    async with services(s.app) as svc:
        [rates, _] = await svc.stats.rates(await svc.org.get("QH-01-02"), clock.now.strftime("%Y-%m"))
    assert rates.received == 2 and rates.reports == 3  # the follower's report counts for the original


async def test_road_and_facility_problems_are_matched_within_250_metres(
    district: Script, spot: dict[str, float]
) -> None:
    s = district
    lat, lon = spot["lat"], spot["lon"]
    await report(s, RIDER, "路边井盖松了 踩上去晃得厉害", lat, lon)
    assert (await the_case(s)).category == "public_facility"
    for person in (NEIGHBOUR, RESIDENT):
        await s.say(person, "/start")
    asked = await report(s, NEIGHBOUR, "井盖松动 踩上去会晃", lat + 0.0018, lon)  # about 200 m
    assert "附近已有相同问题" in asked
    await s.press(NEIGHBOUR, "不是，继续上报")
    assert len(await all_cases(s.app)) == 2
    asked = await report(s, RESIDENT, "井盖松动 踩上去会晃", lat - 0.0019, lon + 0.0024)  # about 300 m
    assert "附近已有相同问题" not in asked and len(await all_cases(s.app)) == 3


async def test_the_same_photo_twice_is_caught_wherever_it_is_sent_from(
    district: Script, spot: dict[str, float]
) -> None:
    s = district
    await s.photo(RIDER, "AgACAgPhoto-same-stairwell", "楼道电动车充电")
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "提交")
    await s.say(NEIGHBOUR, "/start")
    await s.photo(NEIGHBOUR, "AgACAgPhoto-same-stairwell", "看看这个")
    await s.location(NEIGHBOUR, spot["lat"] + 0.003, spot["lon"])
    await s.press(NEIGHBOUR, "提交")
    assert "附近已有相同问题" in texts(sent_to(s.session, NEIGHBOUR.id))[-1]


async def test_staff_merge_two_cases_and_both_reporters_are_told(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    lat, lon = spot["lat"], spot["lon"]
    await report(s, RIDER, "路边井盖松了 踩上去晃得厉害", lat, lon)
    await s.say(FIFTH, "/start")
    await report(s, FIFTH, "井盖松动 踩上去会晃", lat - 0.0003, lon)
    await s.press(FIFTH, "不是，继续上报")  # it was the same after all: staff merge it
    original, duplicate = await all_cases(s.app)
    await s.say(WORKER, f"/merge {duplicate.number} {duplicate.number}", group=GRID_GROUP)
    assert "只能并入" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await s.say(RESIDENT, f"/merge {duplicate.number} {original.number}", group=GRID_GROUP)
    assert (await all_cases(s.app))[1].state is CaseState.NEW  # not staff: nothing changed
    await s.say(WORKER, f"/merge {duplicate.number} {original.number}", group=GRID_GROUP)
    original, duplicate = await all_cases(s.app)
    assert duplicate.state is CaseState.CLOSED and duplicate.merged_into == original.id
    assert duplicate.close_reason == "merged"
    assert count(s, FIFTH.id, original.number) >= 1 and count(s, RIDER.id, duplicate.number) >= 1
    fifth = await user_of(s.app, FIFTH)
    async with services(s.app) as svc:
        assert fifth.id in await svc.ports.followers.of_case(original.id)
        [rates, _] = await svc.stats.rates(await svc.org.get("QH-01-02"), clock.now.strftime("%Y-%m"))
    assert rates.received == 1 and rates.reports == 2  # a merged duplicate is not a case of its own

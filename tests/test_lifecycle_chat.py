"""The lifecycle through the real dispatcher: 督办 of a held case with its buttons, the emergency numbers first,
quiet hours on the outbox, /stats refusals and month checks, and staff commands only in working groups."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.demo_cast import (
    ADMIN,
    COMMUNITY_GROUP,
    COMMUNITY_STAFF,
    DEPARTMENT_GROUP,
    GRID_GROUP,
    RESIDENT,
    RIDER,
    WORKER,
)
from bot.jobs import sweep
from bot.scripted import Group, Script
from domain.cases.model import CaseState
from domain.kernel.time import CHINA_TZ
from tests.conftest import FakeClock
from tests.helpers import all_cases, scalar, sent_to, texts


async def tick(s: Script, clock: FakeClock, **delta: float) -> None:
    """Move time on, let the sweeper act, deliver what is due."""
    clock.now += timedelta(**delta)
    await sweep(s.app)
    await s.app.sender.drain()
    s._collect()


async def test_a_held_late_case_is_supervised_and_taken_over_from_the_community(
    district: Script, spot: dict[str, float], clock: FakeClock
) -> None:
    s = district
    await s.say(RIDER, "地下车库冒烟了")
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "提交")
    await s.press(WORKER, "接单", group=GRID_GROUP)
    await s.press(WORKER, "到场", group=GRID_GROUP)
    [case] = await all_cases(s.app)
    await tick(s, clock, days=1, hours=8)  # the urgent working day to resolve has run out
    await tick(s, clock, minutes=31)
    [case] = await all_cases(s.app)
    assert (case.unit_code, case.state) == ("QH-01-02", CaseState.ON_SITE)  # still the worker's
    post = next(t for t in texts(sent_to(s.session, COMMUNITY_GROUP.id)) if "督办" in t)
    assert case.number in post and "王网格员" in post and "起）" in post and "经过" in post
    edits = s.session.by_method("editMessageText", "editMessageCaption")
    grid_post = [c.params for c in edits if c.chat_id == GRID_GROUP.id and case.number in str(c.params)][-1]
    assert "✅ 办结" in str(grid_post.get("reply_markup"))  # the holder keeps their buttons
    await s.press(COMMUNITY_STAFF, "接管", group=COMMUNITY_GROUP, on="督办")
    [case] = await all_cases(s.app)
    assert case.unit_code == "QH-01" and case.state is CaseState.ON_SITE
    assert any("交给" in t and case.number in t for t in texts(sent_to(s.session, WORKER.id)))
    await s.press(COMMUNITY_STAFF, "办结", group=COMMUNITY_GROUP, on=case.number)
    await s.say(COMMUNITY_STAFF, "社区已协调物业断电处理")
    [case] = await all_cases(s.app)
    assert case.state is CaseState.RESOLVED


async def test_danger_to_life_gets_the_numbers_first_whatever_its_form(
    district: Script, spot: dict[str, float]
) -> None:
    s = district
    s.session.clear()
    await s.say(RIDER, "4单元燃气味好重 有人闻到吗")
    [first, *rest] = texts(sent_to(s.session, RIDER.id))
    assert "119" in first and "燃气" not in first.split("119")[0][:2]
    assert rest and "紧急" in rest[0]  # then the draft, urgent
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    assert case.urgent


async def test_nothing_ordinary_goes_out_at_night(district: Script, spot: dict[str, float], clock: FakeClock) -> None:
    s = district
    clock.now = datetime(2026, 11, 23, 22, 0, tzinfo=CHINA_TZ)
    s.session.clear()
    await s.say(RESIDENT, "/start")
    await s.say(RESIDENT, "小区北门路灯不亮了")
    await s.location(RESIDENT, spot["lat"], spot["lon"])
    await s.press(RESIDENT, "提交")
    assert "已受理" in texts(sent_to(s.session, RESIDENT.id))[-1]  # the person acting is answered at once
    await s.app.sender.drain()
    s._collect()
    assert not [t for t in texts(sent_to(s.session, GRID_GROUP.id)) if "路灯" in t]  # the group sleeps
    await tick(s, clock, hours=10, minutes=1)  # 08:01
    assert [t for t in texts(sent_to(s.session, GRID_GROUP.id)) if "路灯" in t]
    await s.say(RIDER, "3号楼楼道着火了")
    await s.location(RIDER, spot["lat"], spot["lon"])
    clock.now = datetime(2026, 11, 24, 23, 0, tzinfo=CHINA_TZ)
    await s.press(RIDER, "提交")
    await s.app.sender.drain()
    s._collect()
    assert [t for t in texts(sent_to(s.session, GRID_GROUP.id)) if "着火" in t]  # danger may wake people


async def test_stats_refusals_and_months(district: Script) -> None:
    s = district
    await s.say(RESIDENT, "/start")
    await s.say(RESIDENT, "/stats", group=COMMUNITY_GROUP)
    refusal = texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    assert "统计" in refusal and "管理工作人员" not in refusal
    for month in ("2026-¹¹", "9999-12", "0000-01", "2026-1", "２０２６-１１"):
        await s.say(COMMUNITY_STAFF, f"/stats {month}", group=COMMUNITY_GROUP)
        assert "/stats 2026-11" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1], month
    assert await scalar(s.app, "select count(*) from failed_updates") == 0


async def test_staff_case_commands_only_in_working_groups(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RIDER, "楼道堆了纸箱")
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    loose = Group(-100777, "随便一个群")
    await s.say(COMMUNITY_STAFF, f"/urgent {case.number} 有老人被困", group=loose)
    assert "还没有绑定" in texts(sent_to(s.session, loose.id))[-1]
    await s.say(ADMIN, "/bind QH-D-CG", group=DEPARTMENT_GROUP)
    await s.say(ADMIN, f"/escalate {case.number} 试试", group=DEPARTMENT_GROUP)
    assert "部门群" in texts(sent_to(s.session, DEPARTMENT_GROUP.id))[-1]
    [case] = await all_cases(s.app)
    assert not case.urgent and case.unit_code == "QH-01-02"

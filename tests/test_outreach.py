"""Fixed days, broadcasts and the 三率 in chat, end to end."""

from __future__ import annotations

from aiogram.exceptions import TelegramForbiddenError

from bot.demo_cast import ADMIN, COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP, RESIDENT, STREET_GROUP, WORKER
from bot.jobs import sweep
from bot.scripted import Script
from bot.sender import Pace
from domain.cases.model import CaseState
from tests.conftest import FakeClock
from tests.helpers import alerts, all_cases, sent_to, texts
from tests.test_deadlines import beijing, count, submit, tick


async def test_minqing_day_on_a_saturday_is_reminded_on_the_monday_it_moves_to(
    district: Script, clock: FakeClock
) -> None:
    s = district
    clock.now = beijing(2026, 12, 4, 18, 30)  # Friday evening; the 5th is a Saturday
    await tick(s, clock)
    assert count(s, COMMUNITY_GROUP.id, "民情日") == 0
    clock.now = beijing(2026, 12, 6, 18, 1)  # Sunday evening: tomorrow is the moved 民情日
    await tick(s, clock)
    await tick(s, clock, minutes=30)
    for group in (COMMUNITY_GROUP, GRID_GROUP):
        assert count(s, group.id, "明天（2026-12-07）是民情日") == 1
    assert count(s, STREET_GROUP.id, "民情日") == 0  # not a street's day
    clock.now = beijing(2026, 12, 7, 8, 1)
    await tick(s, clock)
    await tick(s, clock, hours=3)
    assert count(s, COMMUNITY_GROUP.id, "今天（2026-12-07）是民情日") == 1


async def test_the_days_matters_become_cases_with_one_tap(district: Script, clock: FakeClock) -> None:
    s = district
    clock.now = beijing(2026, 12, 7, 16, 0)
    await s.say(RESIDENT, "/start")
    await s.say(RESIDENT, "/fixedday minqing 12 楼道灯坏了", group=COMMUNITY_GROUP)
    assert "只有" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]  # residents do not record
    await s.say(COMMUNITY_STAFF, "/fixedday minqing 十二", group=COMMUNITY_GROUP)
    assert "/fixedday 类型 接待人数" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    await s.say(COMMUNITY_STAFF, "/fixedday minqing 12 3号楼楼道灯坏了；垃圾清运不及时", group=COMMUNITY_GROUP)
    recorded = texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    assert "接待 12 人" in recorded and "垃圾清运不及时" in recorded
    await s.press(COMMUNITY_STAFF, "立案 2", group=COMMUNITY_GROUP)
    [case] = await all_cases(s.app)
    assert case.description == "垃圾清运不及时" and case.unit_code == "QH-01" and case.state is CaseState.NEW
    await s.press(COMMUNITY_STAFF, "立案 2", group=COMMUNITY_GROUP)
    assert len(await all_cases(s.app)) == 1 and "已经" in alerts(s.session)[-1]


async def test_broadcast_is_confirmed_sent_to_every_group_below_and_reported(
    district: Script, clock: FakeClock
) -> None:
    s = district
    await s.say(WORKER, "/notice 明天停水", group=GRID_GROUP)
    assert "街道或社区" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await s.say(RESIDENT, "/start")
    await s.say(RESIDENT, "/notice 明天停水", group=STREET_GROUP)
    assert "本级工作人员" in texts(sent_to(s.session, STREET_GROUP.id))[-1]
    await s.say(ADMIN, "/notice 明天8:00–12:00 青禾街道全域停水，请提前储水。", group=STREET_GROUP)
    assert "3 个群" in texts(sent_to(s.session, STREET_GROUP.id))[-1]  # the street's, the community's, the grid's
    assert count(s, GRID_GROUP.id, "停水") == 0  # nothing goes before it is confirmed
    # One group removed the bot: the report says which and why.
    s.session.inject(
        "sendMessage", lambda m: TelegramForbiddenError(method=m, message="Forbidden: bot was kicked from the group")
    )
    await s.press(ADMIN, "确认发送", group=STREET_GROUP)
    await sweep(s.app)
    await s.app.sender.drain()
    [report] = [x for x in texts(sent_to(s.session, STREET_GROUP.id)) if "通知送达" in x]
    assert "送达 2 个群，失败 1 个群" in report and "机器人已不在群里" in report and "kicked" not in report
    await tick(s, clock, minutes=1)
    assert len([x for x in texts(sent_to(s.session, STREET_GROUP.id)) if "通知送达" in x]) == 1  # once


async def test_stats_in_groups_and_privately(district: Script, spot: dict[str, float], clock: FakeClock) -> None:
    s = district
    from bot.demo_cast import RIDER

    await submit(s, RIDER, "小区北门井盖松了 踩上去晃得厉害", spot)
    for label in ("接单", "到场", "办结"):
        await s.press(WORKER, label, group=GRID_GROUP)
    await s.say(WORKER, "已更换井盖")
    await s.press(RIDER, "满意")
    await s.say(COMMUNITY_STAFF, "/stats", group=COMMUNITY_GROUP)
    posted = texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    assert "杏林社区 2026-11 三率" in posted and "满意率 100%" in posted and "王网格员" in posted
    await s.say(WORKER, "/stats", group=GRID_GROUP)
    in_grid = texts(sent_to(s.session, GRID_GROUP.id))[-1]
    assert "三率" in in_grid and "王网格员" not in in_grid  # per-worker figures only for the levels above
    await s.say(RESIDENT, "/start")
    await s.say(RESIDENT, "/stats", group=COMMUNITY_GROUP)
    assert "三率" not in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    await s.say(COMMUNITY_STAFF, "/stats 2026-13", group=COMMUNITY_GROUP)
    assert "/stats 2026-11" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    await s.say(WORKER, "/mystats")
    mine = texts(sent_to(s.session, WORKER.id))[-1]
    assert "王网格员" in mine and "办结 1" in mine


async def test_paid_broadcast_is_opt_in_and_only_for_broadcasts(district: Script, clock: FakeClock) -> None:
    s = district
    s.app.sender.pace = Pace(per_second=1000, group_per_minute=10_000, paid_per_second=500)
    await s.say(ADMIN, "/notice 明天8:00–12:00 青禾街道全域停水，请提前储水。", group=STREET_GROUP)
    await s.press(ADMIN, "确认发送", group=STREET_GROUP)
    await sweep(s.app)
    await s.app.sender.drain()
    sends = [c for c in s.session.calls if c.method == "sendMessage"]
    notices = [c for c in sends if "停水" in str(c.params.get("text")) and "确认" not in str(c.params.get("text"))]
    assert len(notices) >= 3 and all(c.params.get("allow_paid_broadcast") is True for c in notices)
    others = [c for c in sends if c not in notices]
    assert others and not any(c.params.get("allow_paid_broadcast") for c in others)  # case and staff messages free

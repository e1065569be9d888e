"""The demo's deadline scenario: the emergency numbers first, urgent clocks, reminders, an unclaimed case climbing
to the community, a held one supervised there (督办) and finished by its holder, a department called in, a duplicate
followed, a fixed-day reminder, a broadcast with its report, /stats."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from bot.demo_cast import (
    ADMIN,
    COMMUNITY_GROUP,
    COMMUNITY_STAFF,
    DEPARTMENT_GROUP,
    GRID_GROUP,
    GRID_HEAD,
    INSPECTOR,
    NEIGHBOUR,
    RESIDENT,
    RIDER,
    STREET_GROUP,
    WORKER,
)
from bot.jobs import sweep
from bot.scripted import Line, Script
from domain.kernel.time import CHINA_TZ


class MovableClock(Protocol):
    """The demo's clock, which the script moves forward."""

    offset: timedelta

    def __call__(self) -> datetime: ...


async def tick(script: Script, clock: MovableClock, note: str, chat: int, **delta: float) -> None:
    """Move simulated time on, let the sweeper act, deliver what it queued."""
    clock.offset += timedelta(**delta)
    script.transcript.append(Line(chat, "", f"（{note}）"))
    await sweep(script.app)
    await script.app.sender.drain()
    script._collect()


async def play_deadlines(script: Script, clock: MovableClock, places: dict[str, dict[str, float]]) -> None:
    """Deadlines that hold, departments that report in, duplicates, fixed days, broadcasts and the 三率."""
    spot = places["rider_spot"]
    # A grid head, and a department with its own group.
    await script.say(GRID_HEAD, "/start")
    await script.say(ADMIN, "/staff head @chen_head", group=GRID_GROUP)
    await script.say(ADMIN, "/bind QH-D-CG", group=DEPARTMENT_GROUP)
    await script.say(INSPECTOR, "/start")
    await script.say(ADMIN, "/staff add @zhou_cg", group=DEPARTMENT_GROUP)

    # 1. Urgent: the words propose it; claimed within a minute, on site within ten.
    await script.say(RIDER, "12号楼地下车库冒烟了 有股焦糊味")
    await script.location(RIDER, spot["lat"] - 0.0002, spot["lon"] + 0.0002)
    await script.press(RIDER, "提交")
    await tick(script, clock, "40 秒后", GRID_GROUP.id, seconds=40)
    await script.press(WORKER, "接单", group=GRID_GROUP, on="冒烟")
    await tick(script, clock, "又过了 5 分钟", GRID_GROUP.id, minutes=5)
    await script.press(WORKER, "到场", group=GRID_GROUP, on="冒烟")

    # 2. An ordinary report nobody claims: reminders, overdue (the grid head first), then the community.
    await script.say(RESIDENT, "杏林路12号院北门的路灯坏了好几天了 晚上黑乎乎的")
    await script.location(RESIDENT, spot["lat"] + 0.0004, spot["lon"] - 0.0003, "杏林路12号院北门")
    await script.press(RESIDENT, "提交")
    # 3. A neighbour reports the same lamp: shown the case, follows it instead of filing it again.
    await script.say(NEIGHBOUR, "/start")
    await script.say(NEIGHBOUR, "北门那个路灯不亮 好几天了")
    await script.location(NEIGHBOUR, spot["lat"] + 0.0005, spot["lon"] - 0.0003)
    await script.press(NEIGHBOUR, "提交")
    await script.press(NEIGHBOUR, "是，关注它")
    await tick(script, clock, "2 个工作小时后", GRID_GROUP.id, hours=2, minutes=5)
    await tick(script, clock, "又过了 2 小时，接单时限已过", GRID_GROUP.id, hours=2)
    await tick(script, clock, "次日，仍无人处理", GRID_GROUP.id, days=1, hours=1)

    # 4. 吹哨报到: the community calls the 城管 squad; it reports in and finishes its part.
    await script.press(COMMUNITY_STAFF, "吹哨", group=COMMUNITY_GROUP, on="路灯")
    await script.press(COMMUNITY_STAFF, "城管", group=COMMUNITY_GROUP)
    await script.app.sender.drain()
    script._collect()
    await script.press(INSPECTOR, "报到", group=DEPARTMENT_GROUP)
    await script.press(INSPECTOR, "完成", group=DEPARTMENT_GROUP)
    await script.press(COMMUNITY_STAFF, "接单", group=COMMUNITY_GROUP, on="路灯")
    await script.press(COMMUNITY_STAFF, "到场", group=COMMUNITY_GROUP, on="路灯")
    await script.press(COMMUNITY_STAFF, "办结", group=COMMUNITY_GROUP, on="路灯")
    await script.say(COMMUNITY_STAFF, "已联系供电维修，路灯恢复照明")
    await script.press(RESIDENT, "基本满意")

    # 5. A fixed day: 民情日 on the 5th falls on a Saturday and moves to Monday; the eve brings a reminder.
    now = clock().astimezone(CHINA_TZ)
    eve = datetime(now.year, now.month, 6, 18, 1, tzinfo=CHINA_TZ)
    if eve > now:
        await tick(script, clock, "周日傍晚", COMMUNITY_GROUP.id, seconds=(eve - now).total_seconds())

    # 5b. 首接负责: the urgent case stayed on site past its working day; the community got a 督办 post (the worker
    # keeps the case and their buttons). The community urges; the worker finishes it; the rider rates it.
    await script.press(COMMUNITY_STAFF, "催办", group=COMMUNITY_GROUP, on="冒烟")
    await script.press(WORKER, "办结", group=GRID_GROUP, on="冒烟")
    await script.say(WORKER, "车库电瓶车线路短路已断电处理，消防检查无隐患")
    await script.press(RIDER, "满意")

    # 6. A broadcast from the street to every group under it, and its delivery report.
    await script.say(
        ADMIN, "/notice 今晚至明天有大风降温，请各网格提醒居民收好阳台杂物、检查电动车充电安全。", group=STREET_GROUP
    )
    await script.press(ADMIN, "确认发送", group=STREET_GROUP)
    await tick(script, clock, "片刻之后", STREET_GROUP.id, seconds=30)

    # 7. The month's 三率, in the community's group.
    month = clock().astimezone(CHINA_TZ).strftime("%Y-%m")
    await script.say(COMMUNITY_STAFF, f"/stats {month}", group=COMMUNITY_GROUP)

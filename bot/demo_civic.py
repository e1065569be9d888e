"""The demo's residents: a building head's day, a matter from proposal to its follow-up case, and a quarter's
property rating with its spot check and the 五位一体 ranking."""

from __future__ import annotations

from datetime import timedelta

from bot.demo_cast import (
    ADMIN,
    COMMUNITY_GROUP,
    COMMUNITY_STAFF,
    GRID_GROUP,
    NEIGHBOUR,
    PROPERTY_GROUP,
    STEWARD,
    WORKER,
)
from bot.demo_deadlines import MovableClock, tick
from bot.runner import periodic_jobs
from bot.scripted import Line, Person, Script
from domain.kernel.time import CHINA_TZ

BUILDING_HEAD = Person(900601, "赵大姐", "zhao_dajie")
OWNERS = [Person(900611, "周阿姨", "zhou_ayi"), Person(900612, "吴师傅", "wu_shifu"), NEIGHBOUR]


async def register_home(script: Script, who: Person, flat: str, building: str = "3号楼") -> None:
    """/home → 登记住址 → community → compound → building (of 杏林小区) → flat: four taps and a line."""
    await script.say(who, "/start")
    await script.say(who, "/home")
    await script.press(who, "登记住址")
    await script.press(who, "杏林社区")
    await script.press(who, "杏林小区")
    await script.press(who, building)
    await script.say(who, flat)


async def morning_after(script: Script, clock: MovableClock, note: str, chat: int, days: int) -> None:
    """Move on to 09:30 Beijing time `days` later (the sweeper acts; nothing waits for the night to end)."""
    now = clock().astimezone(CHINA_TZ)
    target = (now + timedelta(days=days + 1)).replace(hour=9, minute=30, second=0, microsecond=0)
    await tick(script, clock, note, chat, seconds=(target - now).total_seconds())


async def play_residents(script: Script, clock: MovableClock) -> None:
    """Issue 22: homes, a building head, 议事, a property company called and rated."""
    # The property company's group, its steward, and a building head named by the grid worker.
    await script.say(ADMIN, "/bind QH-P-XL", group=PROPERTY_GROUP)
    await script.say(STEWARD, "/start")
    await script.say(ADMIN, "/staff add @sun_guanjia", group=PROPERTY_GROUP)
    await script.say(BUILDING_HEAD, "/start")
    await script.say(WORKER, "/head @zhao_dajie 杏林小区3号楼", group=GRID_GROUP)
    # A building head's day: three neighbours register, she confirms them from /homes (points for each).
    for who, flat in zip(OWNERS, ("2单元301", "2单元502", "1单元101"), strict=True):
        await register_home(script, who, flat)
    await script.say(BUILDING_HEAD, "/homes")
    for i in range(3, 0, -1):
        await script.press(BUILDING_HEAD, f"确认 {i}")
    await script.say(BUILDING_HEAD, "/home")
    # 议事: a proposal, accepted, voted on in private (a vote changed), counted at the close, decided, followed up.
    await script.say(OWNERS[0], "/propose")
    await script.say(OWNERS[0], "3号楼加装电梯\n楼里老人多，六楼上下太难，想请大家一起商量加装电梯")
    await script.press(WORKER, "付诸表决", group=GRID_GROUP)
    for who, choice in zip(OWNERS, ("同意", "不同意", "同意"), strict=True):
        await script.say(who, "/start m1")
        await script.press(who, choice)
    await script.press(OWNERS[1], "同意")  # 吴师傅 thinks again
    # A property complaint: the company serving the compound is called to it in its own group.
    await script.say(OWNERS[1], "📷 随手拍")
    await script.say(OWNERS[1], "3号楼单元门禁坏了一个星期 物业一直没来修")
    await script.press(OWNERS[1], "x", data="d:cat:property_service")
    await script.press(OWNERS[1], "x", data="d:place:QH-01-02")
    await script.press(OWNERS[1], "提交")
    await script.press(STEWARD, "报到", group=PROPERTY_GROUP)
    # The quarter's rating: the residents are asked privately once; two answer; the housing office's spot check.
    await periodic_jobs(script.app)  # the hourly round opens the quarter's rating
    await tick(script, clock, "物业季度测评开始", GRID_GROUP.id, minutes=1)
    for who, score in zip(OWNERS[:2], ("4", "3"), strict=True):
        await script.press(who, "开始测评")
        for _ in range(5):
            await script.press(who, score)
        await script.say(who, "保洁认真，门禁维修太慢")
    async with script.app.sessions.begin() as session:
        _, svc, _ = script.app.uow.unit_of_work(session)
        admin = await svc.people.by_username("street_admin")
        assert admin is not None
        await svc.civic.rating.record(admin, "QH-P-XL", "spot", "2026-12", 78, "楼道有杂物，消防通道畅通")
        await svc.civic.rating.record(admin, "QH-P-HY", "spot", "2026-12", 58, "消防通道堵塞，限期整改")
    script.transcript.append(
        Line(COMMUNITY_GROUP.id, "", "（住建科在工作台录入 12 月抽查：杏林物业 78 分，和苑物业 58 分）")
    )
    await morning_after(script, clock, "投票截止后的第二天上午", GRID_GROUP.id, days=7)
    await script.say(
        WORKER, "/decide 1 同意加装，费用按楼层分摊\n- 联系电梯公司现场勘察\n- 公示费用分摊方案", group=GRID_GROUP
    )
    await script.press(WORKER, "接单", group=GRID_GROUP, on="电梯公司")
    await script.press(WORKER, "到场", group=GRID_GROUP, on="电梯公司")
    await script.press(WORKER, "办结", group=GRID_GROUP, on="电梯公司")
    await script.say(WORKER, "电梯公司已勘察，井道位置可行，方案下周公示")
    await morning_after(script, clock, "测评截止后", COMMUNITY_GROUP.id, days=2)
    await script.say(COMMUNITY_STAFF, "/assess", group=COMMUNITY_GROUP)

"""Service orders: request → community group → exactly one volunteer takes it → done → rated → points."""

from __future__ import annotations

import asyncio

from bot.demo_cast import COMMUNITY_GROUP, COMMUNITY_STAFF, RIDER
from bot.runner import periodic_jobs
from bot.scripted import Person, Script
from tests.conftest import FakeClock
from tests.helpers import alerts, scalar, sent_to, standing_of, texts

ELDER = Person(960001, "孙奶奶", "sun_nainai")
HELPERS = [Person(960100 + i, name) for i, name in enumerate(["王明", "李强", "赵敏", "刘洋", "陈静"])]


async def make_active(s: Script, who: Person) -> None:
    """Register and approve a volunteer the short way (through the real flow)."""
    await s.say(who, "/start")
    await s.press(who, "x", data="vol:reg:")
    await s.feed(
        {
            "message": s.message_dict(
                who,
                None,
                None,
                contact={"phone_number": "13900001111", "first_name": who.first_name, "user_id": who.id},
            )
        }
    )
    await s.say(who, who.first_name)
    await s.press(who, "杏林社区")
    await s.press(COMMUNITY_STAFF, "通过", group=COMMUNITY_GROUP)


async def test_order_taken_once_done_rated_and_rewarded(district: Script) -> None:
    s = district
    for h in HELPERS:
        await make_active(s, h)
    await s.say(ELDER, "/start")
    await s.say(ELDER, "能不能找个人帮我去医院拿下药 我腿脚不方便 电话１３９１２３４５６７８")
    assert "什么时候需要" in texts(sent_to(s.session, ELDER.id))[-1]
    await s.press(ELDER, "明天")
    await s.press(ELDER, "杏林社区")
    post = sent_to(s.session, COMMUNITY_GROUP.id)[-1]
    assert "居民点单" in post.params["text"] and "拿下药" in post.params["text"]
    assert "139****5678" in post.params["text"] and "１２３４" not in post.params["text"]  # masked, full-width too
    _, data = s.button(COMMUNITY_GROUP.id, "接单")
    await s.press(RIDER, "x", group=COMMUNITY_GROUP, data=data)  # not a volunteer
    assert "只有注册志愿者" in alerts(s.session)[-1]
    await asyncio.gather(*(s.press(h, "x", group=COMMUNITY_GROUP, data=data) for h in HELPERS))
    assert await scalar(s.app, "select state from service_orders") == "taken"
    answers = alerts(s.session)[-len(HELPERS) :]
    assert sum("接单成功" in a for a in answers) == 1 and sum("已经有人接了" in a for a in answers) == 4
    winner_id = await scalar(s.app, "select u.external_id from service_orders o join users u on u.id = o.volunteer_id")
    winner = next(h for h in HELPERS if str(h.id) == winner_id)
    assert any("已由志愿者" in t for t in texts(sent_to(s.session, ELDER.id)))
    assert "tg://user?id=960001" in texts(sent_to(s.session, winner.id))[-1]
    await s.press(winner, "已完成")
    await s.press(ELDER, "满意")
    assert await scalar(s.app, "select rating from service_orders") == "satisfied"
    assert (await standing_of(s.app, winner)).balance == 10


async def test_untaken_orders_are_flagged_once(district: Script, clock: FakeClock) -> None:
    s = district
    await s.say(ELDER, "/start")
    await s.say(ELDER, "帮我家老人买点菜送上楼 他一个人住")
    await s.press(ELDER, "尽快")
    await s.press(ELDER, "杏林社区")
    clock.advance(3 * 3600)
    await periodic_jobs(s.app)
    await periodic_jobs(s.app)
    await s.app.sender.drain()
    s._collect()
    flags = [t for t in texts(sent_to(s.session, COMMUNITY_GROUP.id)) if "无人接单" in t]
    assert len(flags) == 1


async def test_staff_assign_order(district: Script) -> None:
    s = district
    helper = HELPERS[0]
    await make_active(s, helper)
    await s.say(ELDER, "/start")
    await s.say(ELDER, "家里灯泡坏了 我够不着 能来个人帮忙换一下吗")
    await s.press(ELDER, "今天")
    await s.press(ELDER, "杏林社区")
    order_id = await scalar(s.app, "select id from service_orders")
    await s.say(RIDER, f"/assign {order_id} @{helper.username or ''}", group=COMMUNITY_GROUP)
    assert await scalar(s.app, "select state from service_orders") == "open"  # not staff
    await s.say(
        COMMUNITY_STAFF,
        f"/assign {order_id}",
        group=COMMUNITY_GROUP,
        reply_to_message=s.message_dict(helper, "我可以去", COMMUNITY_GROUP),
    )
    assert await scalar(s.app, "select state from service_orders") == "taken"
    assert "指派给" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]

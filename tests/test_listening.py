"""Group listening that stays quiet (lone words, chat, modes a group chooses) and 'sign me up for X'."""

from __future__ import annotations

from pathlib import Path

from bot.demo_cast import COMMUNITY_STAFF, GRID_GROUP, WORKER
from bot.scripted import Person, Script
from tests.helpers import sent_to, texts
from tests.test_activities import publish

RESIDENT = Person(900401, "张阿姨", "zhang_ayi")
OFFER = "需要帮您正式上报"


def offers(s: Script) -> int:
    """How many offers the grid group got."""
    return sum(OFFER in x for x in texts(sent_to(s.session, GRID_GROUP.id)))


async def test_lone_words_and_chat_get_no_offer(district: Script) -> None:
    s = district
    for text in ("电梯", "路灯", "停车", "团购的接龙 3号楼 2份", "快递到了放门卫了", "谁家钥匙落在门卫了"):
        await s.say(RESIDENT, text, group=GRID_GROUP)
    assert offers(s) == 0
    await s.say(RESIDENT, "3号楼楼道里好几辆电动车在充电 电线乱拉 太危险了", group=GRID_GROUP)
    assert offers(s) == 1


async def test_a_group_can_turn_listening_off_or_to_mentions(district: Script) -> None:
    s = district
    await s.say(RESIDENT, "/listen off", group=GRID_GROUP)
    assert (
        "只有" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
        or "工作人员" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    )
    await s.say(WORKER, "/listen off", group=GRID_GROUP)
    assert "不再插话" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await s.say(RESIDENT, "3号楼楼道里好几辆电动车在充电 电线乱拉 太危险了", group=GRID_GROUP)
    assert offers(s) == 0
    await s.say(WORKER, "/listen mention", group=GRID_GROUP)
    await s.say(RESIDENT, "北门路灯全黑了 一个都不亮", group=GRID_GROUP)
    assert offers(s) == 0
    s.app.uow.bot_username = "gridbot_test_bot"
    await s.say(RESIDENT, "@gridbot_test_bot 东门那个井盖没了 晚上能掉进去人", group=GRID_GROUP)
    assert offers(s) == 1
    await s.say(WORKER, "/listen", group=GRID_GROUP)
    assert "只有 @机器人" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await s.say(WORKER, "/listen loud", group=GRID_GROUP)
    assert "/listen on" in texts(sent_to(s.session, GRID_GROUP.id))[-1]


async def test_asking_to_join_a_named_activity_shows_it_with_its_button(district: Script, tmp_path: Path) -> None:
    s = district
    await publish(s, tmp_path)
    await s.say(RESIDENT, "/start")
    await s.say(RESIDENT, "我想报名参加楼道杂物清理那个活动")
    said = texts(sent_to(s.session, RESIDENT.id))
    assert "先注册志愿者" in said[-2] and "楼道清理" in said[-1]
    join = sent_to(s.session, RESIDENT.id)[-1].params["reply_markup"]["inline_keyboard"][0][0]
    assert join["callback_data"].startswith("act:join:")
    await s.say(COMMUNITY_STAFF, "/start")
    await s.say(RESIDENT, "这周有什么志愿活动")
    assert "楼道清理" in texts(sent_to(s.session, RESIDENT.id))[-1]

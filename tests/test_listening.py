"""Group listening that stays quiet (lone words, chat, modes a group chooses) and 'sign me up for X'."""

from __future__ import annotations

from pathlib import Path

from bot.demo_cast import COMMUNITY_STAFF, GRID_GROUP, WORKER
from bot.scripted import Person, Script
from tests.conftest import FakeClock
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


DANGER_FORMS = (
    "燃气味好重 4单元 有人闻到吗",  # a question to neighbours, which the report model scores low
    "嗯 那个 就是 楼道里 好大的烟……",  # voice-input fillers
    "dianti ka zhu le, li mian you ren",  # pinyin
    "smoke coming from the 3rd floor kitchen!!",  # English
    "電梯裡有人被困",  # Traditional
    "3号楼然气味很重",  # a keyboard's homophone
    "电梯stuck了 我们两个人在里面",  # mixed
    "5栋那个老头躺在花坛边上一直没起来",  # no word of the lexicon: the danger model reads it
)


async def test_danger_is_offered_in_any_form_with_whom_to_call_first(district: Script, clock: FakeClock) -> None:
    s = district
    for i, text in enumerate(DANGER_FORMS):
        clock.advance(31 * 60)  # each its own incident
        who = Person(900500 + i, f"居民{i}", f"resident_{i}")
        await s.say(who, text, group=GRID_GROUP)
        last = texts(sent_to(s.session, GRID_GROUP.id))[-1]
        assert OFFER in last and "🆘" in last.split(OFFER)[0], (text, last)  # whom to call comes first
    assert offers(s) == len(DANGER_FORMS)
    # Ordinary talk about the same places stays unanswered by the danger rule.
    for text in (
        "楼道里真安静 一个人都没有",
        "物业说电梯明天维保 上午尽量走楼梯",
        "燃气费在哪交",
        "电动车轮胎漏气了 谁有打气筒",
    ):
        await s.say(RESIDENT, text, group=GRID_GROUP)
        assert "🆘" not in texts(sent_to(s.session, GRID_GROUP.id))[-1], text


async def test_danger_passes_the_cool_down_and_mention_only_but_not_a_group_that_turned_listening_off(
    district: Script,
) -> None:
    s = district
    await s.say(RESIDENT, "3号楼楼道里好几辆电动车在充电 电线乱拉 太危险了", group=GRID_GROUP)
    assert offers(s) == 1
    await s.say(RESIDENT, "北门路灯全黑了 一个都不亮", group=GRID_GROUP)
    assert offers(s) == 1  # the same author within the cool-down
    await s.say(RESIDENT, "楼道里冒烟了 快来人", group=GRID_GROUP)
    assert offers(s) == 2  # danger is not held back
    await s.say(WORKER, "/listen mention", group=GRID_GROUP)
    await s.say(RESIDENT, "东门那个井盖没了", group=GRID_GROUP)
    assert offers(s) == 2
    await s.say(RESIDENT, "有人困在2号楼电梯里了", group=GRID_GROUP)
    assert offers(s) == 3
    await s.say(WORKER, "/listen off", group=GRID_GROUP)
    await s.say(RESIDENT, "5楼着火了", group=GRID_GROUP)
    assert offers(s) == 3


async def test_danger_in_private_is_an_urgent_report_whatever_its_form(district: Script) -> None:
    s = district
    await s.say(RESIDENT, "/start")
    s.session.clear()
    await s.say(RESIDENT, "是不是谁家燃气漏了？电梯厅里一股味 有人闻到吗")
    said = texts(sent_to(s.session, RESIDENT.id))
    assert "119" in said[0]  # whom to call, first
    assert any("紧急" in x for x in said[1:]), said  # then the draft, marked urgent


async def test_a_danger_thread_gets_the_numbers_once_and_its_follow_ups_stay_quiet(
    district: Script, clock: FakeClock
) -> None:
    s = district
    thread = ("5楼着火了 好大的烟", "真的 我在楼下看到冒烟了", "打119了没", "消防车来了", "烟灭了 没事了 大家别慌")
    for i, text in enumerate(thread):
        await s.say(Person(900600 + i, f"邻居{i}", f"neighbour_{i}"), text, group=GRID_GROUP)
        clock.advance(60)
    assert offers(s) == 1  # the first cry has the numbers; the thread is one incident
    clock.advance(40 * 60)
    await s.say(RESIDENT, "2号楼厨房又着火了 冒黑烟", group=GRID_GROUP)
    assert offers(s) == 2  # a new incident, later


async def test_a_reply_that_follows_up_a_neighbours_report_gets_no_offer_of_its_own(district: Script) -> None:
    s = district
    first = s.message_dict(RESIDENT, "2单元电梯又坏了 关了人没有不知道 已经停了一上午", GRID_GROUP)
    await s.feed({"message": first})
    assert offers(s) == 1
    neighbour = Person(900610, "王叔", "wang_shu")
    # "Me too, for days": part of the report above, not a new one.
    await s.say(neighbour, "对 我们单元电梯也一直坏 好几天了都没人修", group=GRID_GROUP, reply_to_message=first)
    assert offers(s) == 1
    # A reply to small talk that raises a problem of its own is still heard.
    chat = s.message_dict(RESIDENT, "今天天气真好 晒被子了", GRID_GROUP)
    await s.feed({"message": chat})
    await s.say(neighbour, "北门外面井盖没了 晚上黑 容易掉进去", group=GRID_GROUP, reply_to_message=chat)
    assert offers(s) == 2


TYPED_REPORTS = (
    "北门外面的井概没了 晚上黑 容易掉近去",  # an input method's homophones (盖 → 概, 进 → 近)
    "beimenwaimiandejinggaimeile wanshanghei rongyidiaojinqu",  # whole-sentence pinyin, no spaces
    "那个 就是 北门外面 嗯 井盖没了 然后 晚上黑 容易掉进去",  # voice input
)


async def test_a_report_typed_the_way_people_type_is_offered_and_talk_about_the_same_place_is_not(
    district: Script, clock: FakeClock
) -> None:
    s = district
    for i, text in enumerate(TYPED_REPORTS):
        await s.say(Person(900700 + i, f"邻居{i}", f"neighbour_{i}"), text, group=GRID_GROUP)
        assert offers(s) == i + 1, text
    talk = ("北门外面的井盖换新的了 走着踏实", "beimen de jinggai huan xin de le", "那个 就是 北门 嗯 新开了家面馆")
    for text in talk:
        clock.advance(31 * 60)
        await s.say(RESIDENT, text, group=GRID_GROUP)
    assert offers(s) == len(TYPED_REPORTS)

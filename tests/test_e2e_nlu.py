"""End to end: clarifications, staff category corrections, group offers and /report."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, create_app
from bot.config import Settings
from bot.demo_cast import ADMIN, COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP, RIDER, WORKER
from bot.nlu import BuiltinClassifier
from bot.recording import RecordingSession
from bot.scripted import Person, Script
from domain.cases.model import Classification
from tests.conftest import FakeClock
from tests.helpers import alerts, all_cases, draft_of, scalar, sent_to, texts

RESIDENT = Person(900401, "张阿姨", "zhang_ayi")
NEIGHBOUR = Person(900402, "李大爷", "li_daye")


class Unsure:
    """The real classifier, told to be unsure about chosen texts (so the asking paths are deterministic)."""

    def __init__(self, inner: BuiltinClassifier, intent: set[str], category: set[str]) -> None:
        self.inner, self.intent, self.category = inner, intent, category
        self.thresholds = inner.thresholds

    async def classify(self, text: str) -> Classification:
        c = inner = self.inner.classify_now(text)
        c.intent_sure = inner.intent_sure and text not in self.intent
        c.category_sure = inner.category_sure and text not in self.category
        return c


UNSURE_INTENT = "那个事情你们管不管啊"
UNSURE_CATEGORY = "楼道里一股怪味 不知道是啥"


@pytest.fixture
async def app(
    settings: Settings, engine: AsyncEngine, classifier: BuiltinClassifier, clock: FakeClock
) -> AsyncIterator[App]:
    """The app with a classifier that is unsure about two known texts."""
    unsure = Unsure(classifier, {UNSURE_INTENT}, {UNSURE_CATEGORY})
    application = create_app(settings, bot_session=RecordingSession(), classifier=unsure, clock=clock, engine=engine)
    yield application
    await application.bot.session.close()


async def test_unsure_intent_asks_with_top_three_and_keeps_the_answer(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RIDER, UNSURE_INTENT)
    msg = sent_to(s.session, RIDER.id)[-1]
    assert "您是想" in msg.params["text"]
    assert len(msg.params["reply_markup"]["inline_keyboard"]) == 3
    assert await draft_of(s.app, RIDER) is None
    _, data = s.button(RIDER.id, "")
    await s.press(RIDER, "x", data=data.rsplit(":", 1)[0] + ":report_issue")
    assert await scalar(s.app, "select intent from labelled_examples where source = 'clarification'") == "report_issue"
    assert await draft_of(s.app, RIDER) is not None
    await s.press(RIDER, "x", data=data.rsplit(":", 1)[0] + ":greet")  # a second answer is refused
    assert "已经回答过" in alerts(s.session)[-1]


async def test_unsure_category_offers_top_three(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RIDER, UNSURE_CATEGORY)
    await s.location(RIDER, spot["lat"], spot["lon"])
    last = sent_to(s.session, RIDER.id)[-1]
    assert "不太确定" in last.params["text"]
    rows = last.params["reply_markup"]["inline_keyboard"]
    assert len(rows[0]) == 3 and "其他类别" in rows[1][0]["text"]
    await s.press(RIDER, rows[0][1]["text"])  # the reporter picks the runner-up
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    assert await scalar(s.app, "select category from labelled_examples") == case.category
    assert await scalar(s.app, "select source from labelled_examples") == "clarification"


async def test_staff_correct_category_and_disputes_move_to_community(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RIDER, "马路边垃圾堆成山了 臭气熏天")
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    assert case.unit_code == "QH-01-02" and case.category == "environment"
    await s.press(WORKER, "改类别", group=GRID_GROUP)
    await s.press(WORKER, "物业服务", group=GRID_GROUP)
    [case] = await all_cases(s.app)
    assert case.category == "property_service" and case.unit_code == "QH-01-02"
    row = await scalar(
        s.app, "select predicted_category || '>' || category from labelled_examples where source='correction'"
    )
    assert row == "environment>property_service"
    assert any("类别已更正" in t for t in texts(s.session.by_method("editMessageText")))
    # 矛盾纠纷 is handled by the community: the case moves there.
    await s.press(WORKER, "改类别", group=GRID_GROUP)
    await s.press(WORKER, "矛盾纠纷", group=GRID_GROUP)
    [case] = await all_cases(s.app)
    assert case.category == "neighbor_dispute" and case.unit_code == "QH-01"
    assert any(case.number in t for t in texts(sent_to(s.session, COMMUNITY_GROUP.id)))
    events = await scalar(s.app, "select count(*) from case_events where action = 'recategorize'")
    assert events == 2


async def test_dispute_report_goes_to_community_directly(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RIDER, "楼上邻居天天半夜蹦迪 说了好几次都不听 还骂人")
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    assert case.category == "neighbor_dispute" and case.unit_code == "QH-01" and not case.fallback


async def test_stranger_cannot_recategorize(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RIDER, "路灯坏了一排 晚上特别黑")
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    stranger = Person(909090, "某人")
    await s.press(stranger, "x", group=GRID_GROUP, data=f"rc:{case.id}:{case.rev}:other")
    [after] = await all_cases(s.app)
    assert after.category == case.category and "不归您" in alerts(s.session)[-1]


async def test_group_offer_only_author_can_accept(district: Script) -> None:
    s = district
    await s.say(RESIDENT, "3号楼楼道里好几辆电动车在充电 电线乱拉 太危险了", group=GRID_GROUP)
    offer = sent_to(s.session, GRID_GROUP.id)[-1]
    assert "需要帮您正式上报" in offer.params["text"] and offer.params["reply_parameters"]["message_id"]
    await s.press(NEIGHBOUR, "上报", group=GRID_GROUP)
    assert "只有发这条消息的本人" in alerts(s.session)[-1]
    assert await draft_of(s.app, NEIGHBOUR) is None and await draft_of(s.app, RESIDENT) is None
    await s.say(RESIDENT, "/start")
    await s.press(RESIDENT, "上报", group=GRID_GROUP)
    assert await draft_of(s.app, RESIDENT) is not None
    assert any("草稿" in t for t in texts(sent_to(s.session, RESIDENT.id)))
    edits = s.session.by_method("editMessageText")
    assert edits and "已转为上报草稿" in edits[-1].params["text"]
    # The same author is not asked again within 30 minutes.
    before = len(sent_to(s.session, GRID_GROUP.id))
    await s.say(RESIDENT, "小区门口的井盖又没了 快来看看", group=GRID_GROUP)
    assert len(sent_to(s.session, GRID_GROUP.id)) == before


async def test_group_offer_after_cooldown_and_decline(district: Script, clock: FakeClock) -> None:
    s = district
    await s.say(RESIDENT, "东门那个井盖没了 好几天了 晚上能掉进去人", group=GRID_GROUP)
    clock.advance(31 * 60)
    await s.say(RESIDENT, "北门路灯全黑了 一个都不亮", group=GRID_GROUP)
    offers = [t for t in texts(sent_to(s.session, GRID_GROUP.id)) if "需要帮您正式上报" in t]
    assert len(offers) == 2
    await s.press(RESIDENT, "不用了", group=GRID_GROUP)
    assert "不打扰" in s.session.by_method("editMessageText")[-1].params["text"]
    assert await draft_of(s.app, RESIDENT) is None


async def test_group_ignores_staff_commands_chatter_and_replies_to_bot(district: Script) -> None:
    s = district
    await s.say(WORKER, "3号楼楼道里有电动车在充电", group=GRID_GROUP)
    await s.say(RESIDENT, "大家晚上好 明天几点开会", group=GRID_GROUP)
    await s.say(RESIDENT, "/unknown 楼道充电", group=GRID_GROUP)
    await s.say(COMMUNITY_STAFF, "楼道里电动车充电 太危险", group=GRID_GROUP)
    assert not any("需要帮您正式上报" in t for t in texts(sent_to(s.session, GRID_GROUP.id)))


async def test_report_reply_files_draft_for_author(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RESIDENT, "/start")
    original = s.message_dict(RESIDENT, "二单元门口的台阶塌了一块", GRID_GROUP)
    await s.feed({"message": original})
    await s.say(ADMIN, "/report", group=GRID_GROUP, reply_to_message=original)
    assert await draft_of(s.app, RESIDENT) is not None and await draft_of(s.app, ADMIN) is None
    assert await all_cases(s.app) == []  # nothing filed without the author's tap
    await s.location(RESIDENT, spot["lat"], spot["lon"])
    await s.press(RESIDENT, "提交")
    [case] = await all_cases(s.app)
    assert "台阶" in case.description and case.category is not None
    assert case.number in " ".join(texts(sent_to(s.session, RESIDENT.id)))  # the author is told, not the admin
    await s.say(ADMIN, "/report", group=GRID_GROUP)
    assert "用法" in texts(sent_to(s.session, GRID_GROUP.id))[-1]


async def test_place_entities_enrich_draft_and_group_post(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RIDER, "杏林路三号楼二单元楼道有人飞线充电")
    assert "识别到的位置：杏林路 · 3号楼2单元" in texts(sent_to(s.session, RIDER.id))[-1]
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    assert case.address == "杏林路 · 3号楼2单元"
    post = texts(sent_to(s.session, GRID_GROUP.id))[-1]
    assert "地点：杏林路 · 3号楼2单元" in post and "uri.amap.com" in post

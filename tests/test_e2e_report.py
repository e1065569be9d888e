"""End to end: real Updates through the dispatcher built by the app factory; asserts on DB and Bot API calls."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.demo import places
from bot.demo_cast import ADMIN, COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP, RIDER, WORKER
from bot.scripted import Group, Person, Script
from domain.cases.model import CaseState
from tests.helpers import alerts, all_cases, draft_of, scalar, sent_to, texts

OTHER_WORKER = Person(900102, "赵网格员", "zhao_grid")
STRANGER = Person(900999, "路人甲", "passerby")


async def report(script: Script, who: Person, spot: dict[str, float], caption: str = "3号楼楼道电动车充电") -> None:
    """Photo with caption → location → 提交: the rider's three steps."""
    await script.photo(who, f"photo-{who.id}", caption)
    await script.location(who, spot["lat"], spot["lon"])
    await script.press(who, "提交")


async def test_rider_report_reaches_grid_group_in_three_steps(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RIDER, "/start")
    await s.press(RIDER, "骑手")
    s.session.clear()
    await report(s, RIDER, spot, "3号楼楼道有电动车在充电 电话13912345678")
    [case] = await all_cases(s.app)
    assert case.state is CaseState.NEW and case.unit_code == "QH-01-02" and case.category == "fire_safety"
    assert case.number.startswith("SB20261123-") and case.model_version
    [post] = sent_to(s.session, GRID_GROUP.id)
    assert post.method == "sendPhoto" and post.params["photo"] == f"photo-{RIDER.id}"
    caption = post.params["caption"]
    assert case.number in caption and "消防安全" in caption and "骑手" in caption
    assert "139****5678" in caption and "13912345678" not in caption
    assert "骑手小刘" not in caption and "liu_rider" not in caption
    assert "uri.amap.com" in caption
    buttons = [b["text"] for b in post.params["reply_markup"]["inline_keyboard"][0]]
    assert any("接单" in b for b in buttons) and any("非本网格" in b for b in buttons)
    assert any(case.number in t for t in texts(sent_to(s.session, RIDER.id)))


async def test_full_loop_with_rework(district: Script, spot: dict[str, float]) -> None:
    s = district
    await report(s, RIDER, spot)
    await s.press(WORKER, "接单", group=GRID_GROUP)
    await s.press(WORKER, "到场", group=GRID_GROUP)
    await s.press(WORKER, "办结", group=GRID_GROUP)
    await s.say(WORKER, "已清理")
    [case] = await all_cases(s.app)
    assert case.state is CaseState.RESOLVED
    await s.press(RIDER, "不满意")
    [case] = await all_cases(s.app)
    assert case.state is CaseState.NEW and case.reopen_count == 1 and case.assignee_id is None
    assert any("重办" in t for t in texts(sent_to(s.session, GRID_GROUP.id)))
    # Only the rework post has live buttons; the old post was edited to none.
    reopened_edit = [c for c in s.session.by_method("editMessageCaption") if "重新交办" in c.params["caption"]][-1]
    assert reopened_edit.params["reply_markup"]["inline_keyboard"] == []
    # A group post names the reporter only by role, in every state and every edit.
    group_texts = [
        str(c.params.get("caption") or c.params.get("text")) for c in s.session.calls if c.chat_id == GRID_GROUP.id
    ]
    assert not any(RIDER.first_name in text or "liu_rider" in text for text in group_texts)
    await s.press(WORKER, "接单", group=GRID_GROUP, on="重办")
    await s.press(WORKER, "到场", group=GRID_GROUP, on="重办")
    await s.press(WORKER, "办结", group=GRID_GROUP, on="重办")
    await s.photo(WORKER, "photo-fixed", "装了充电桩")
    await s.press(RIDER, "满意")
    [case] = await all_cases(s.app)
    assert case.state is CaseState.CLOSED and case.rating is not None and case.rating.value == "satisfied"
    actions = await scalar(s.app, "select count(*) from case_events where case_id = :id", id=case.id)
    assert actions == 9  # submit, claim, onsite, resolve, reopen, claim, onsite, resolve, rate
    rider_msgs = texts(sent_to(s.session, RIDER.id))
    assert sum("处理说明" in t for t in rider_msgs) == 2
    assert sum("积分" in t for t in rider_msgs) == 1  # one reward, though resolved twice
    photo_notice = [c for c in sent_to(s.session, RIDER.id) if c.method == "sendPhoto"]
    assert photo_notice and photo_notice[-1].params["photo"] == "photo-fixed"


async def test_two_workers_claim_at_once_one_wins(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(OTHER_WORKER, "/start")
    await s.say(ADMIN, "/staff add @zhao_grid", group=GRID_GROUP)
    await report(s, RIDER, spot)
    _, data = s.button(GRID_GROUP.id, "接单")
    s.session.clear()
    await asyncio.gather(
        s.press(WORKER, "接单", group=GRID_GROUP, data=data),
        s.press(OTHER_WORKER, "接单", group=GRID_GROUP, data=data),
    )
    [case] = await all_cases(s.app)
    assert case.state is CaseState.CLAIMED
    claims = await scalar(s.app, "select count(*) from case_events where action = 'claim'")
    assert claims == 1
    answers = alerts(s.session)
    assert sum("接单成功" in a for a in answers) == 1
    assert sum("操作未生效" in a for a in answers) == 1


async def test_stranger_cannot_press_case_buttons(district: Script, spot: dict[str, float]) -> None:
    s = district
    await report(s, RIDER, spot)
    _, data = s.button(GRID_GROUP.id, "接单")
    s.session.clear()
    await s.press(STRANGER, "接单", group=GRID_GROUP, data=data)
    [case] = await all_cases(s.app)
    assert case.state is CaseState.NEW
    [answer] = s.session.by_method("answerCallbackQuery")
    assert answer.params.get("show_alert") and "不归您" in answer.params["text"]
    assert not s.session.by_method("editMessageCaption", "editMessageText")


async def test_community_staff_may_act_on_grid_case(district: Script, spot: dict[str, float]) -> None:
    s = district
    await report(s, RIDER, spot)
    await s.press(COMMUNITY_STAFF, "接单", group=GRID_GROUP)
    [case] = await all_cases(s.app)
    assert case.state is CaseState.CLAIMED


async def test_stale_and_forged_buttons_change_nothing(district: Script, spot: dict[str, float]) -> None:
    s = district
    await report(s, RIDER, spot)
    _, old = s.button(GRID_GROUP.id, "接单")
    await s.press(WORKER, "接单", group=GRID_GROUP)
    s.session.clear()
    await s.press(WORKER, "接单", group=GRID_GROUP, data=old)  # stale revision
    await s.press(WORKER, "x", group=GRID_GROUP, data="case:explode:1:2")
    await s.press(WORKER, "x", group=GRID_GROUP, data="garbage-from-a-forged-client")
    await s.press(WORKER, "x", group=GRID_GROUP, data="case:claim:999999:1")
    [case] = await all_cases(s.app)
    assert case.state is CaseState.CLAIMED and case.rev == 2
    answers = s.session.by_method("answerCallbackQuery")
    assert len(answers) == 4 and all(a.params.get("show_alert") for a in answers)


async def test_not_our_grid_goes_back_to_community_and_is_dispatched(district: Script, spot: dict[str, float]) -> None:
    s = district
    await report(s, RIDER, spot)
    await s.press(WORKER, "非本网格", group=GRID_GROUP)
    [case] = await all_cases(s.app)
    assert case.unit_code == "QH-01" and case.state is CaseState.NEW
    community_posts = texts(sent_to(s.session, COMMUNITY_GROUP.id))
    assert any(case.number in t and "退回" in t for t in community_posts)
    await s.press(COMMUNITY_STAFF, "分派", group=COMMUNITY_GROUP)
    await s.press(COMMUNITY_STAFF, "第三网格", group=COMMUNITY_GROUP)
    [case] = await all_cases(s.app)
    assert case.unit_code == "QH-01-03" and case.state is CaseState.NEW


async def test_point_in_no_grid_goes_to_nearest_community(district: Script) -> None:
    s = district
    gap = places()["gap"]
    await s.say(RIDER, "路灯不亮了 晚上黑乎乎的")
    await s.location(RIDER, float(gap["lat"]), float(gap["lon"]))
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    assert case.fallback and case.unit_code.count("-") == 1  # a community code like QH-01
    assert any("不在任何网格" in t for t in texts(sent_to(s.session, RIDER.id)))


async def test_far_location_is_refused_and_draft_kept(district: Script) -> None:
    s = district
    far = places()["far"]
    await s.say(RIDER, "井盖没了 快来")
    s.session.clear()
    await s.location(RIDER, float(far["lat"]), float(far["lon"]))
    assert any("不在本街道" in t for t in texts(sent_to(s.session, RIDER.id)))
    assert await draft_of(s.app, RIDER) is not None  # what the rider wrote is kept
    assert await all_cases(s.app) == []


async def test_photo_only_report_asks_for_category(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.photo(RIDER, "photo-only")
    await s.location(RIDER, spot["lat"], spot["lon"])
    assert "category" in str(s.session.calls[-1].params) or s.button(RIDER.id, "停车秩序")
    await s.press(RIDER, "停车秩序")
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    assert case.category == "parking" and case.photo_file_id == "photo-only"


async def test_place_chosen_from_buttons(district: Script) -> None:
    s = district
    await s.say(RIDER, "小区门口垃圾堆了好几天 臭死了")
    await s.say(RIDER, "🗺 选择网格")
    await s.press(RIDER, "杏林社区")
    await s.press(RIDER, "第二网格")
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    assert case.unit_code == "QH-01-02" and case.category == "environment" and case.lat is None


async def test_change_category_before_submit(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RIDER, "消防通道被私家车堵死了")
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "换类别")
    await s.press(RIDER, "其他")
    await s.press(RIDER, "提交")
    [case] = await all_cases(s.app)
    assert case.category == "other"


async def test_cancel_drops_draft(district: Script) -> None:
    s = district
    await s.say(RIDER, "路面塌了一个大坑")
    await s.say(RIDER, "/cancel")
    assert await draft_of(s.app, RIDER) is None
    assert "已取消" in texts(sent_to(s.session, RIDER.id))[-1]


async def test_duplicate_update_is_processed_once(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.photo(RIDER, "p1", "井盖没了")
    await s.location(RIDER, spot["lat"], spot["lon"])
    _, data = s.button(RIDER.id, "提交")
    update: dict[str, Any] = {
        "update_id": 777,
        "callback_query": {
            "id": "cq1",
            "from": RIDER.tg(),
            "chat_instance": "x",
            "data": data,
            "message": {"message_id": 1, "date": 0, "chat": {"id": RIDER.id, "type": "private"}, "text": "…"},
        },
    }
    import copy

    await s.feed(copy.deepcopy(update))
    await s.feed(copy.deepcopy(update))
    assert len(await all_cases(s.app)) == 1
    assert s.app.uow.duplicates == 1


async def test_my_reports_and_timeline(district: Script, spot: dict[str, float]) -> None:
    s = district
    await report(s, RIDER, spot)
    await s.press(WORKER, "接单", group=GRID_GROUP)
    await s.say(RIDER, "📋 我的上报")
    await s.press(RIDER, "SB2026")
    timeline = texts(sent_to(s.session, RIDER.id))[-1]
    assert "处理记录" in timeline and "接单" in timeline and "上报" in timeline


async def test_free_text_intents(district: Script) -> None:
    s = district
    await s.say(RIDER, "你好")
    await s.say(RIDER, "今天天气怎么样")
    assert await draft_of(s.app, RIDER) is None
    await s.say(RIDER, "东风路口井盖没了 快来人")
    assert await draft_of(s.app, RIDER) is not None


async def test_bad_input_gets_polite_answer_and_changes_nothing(district: Script) -> None:
    s = district
    base = s.message_dict
    kinds: list[dict[str, Any]] = [
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        },
        {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 3}},
        {"video": {"file_id": "vi", "file_unique_id": "vi", "width": 1, "height": 1, "duration": 1}},
        {"document": {"file_id": "d", "file_unique_id": "d", "file_name": "a.pdf"}},
        {"contact": {"phone_number": "13800000000", "first_name": "x"}},
        {
            "poll": {
                "id": "p",
                "question": "q",
                "options": [{"text": "a", "voter_count": 0, "persistent_id": "o1"}],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": False,
                "members_only": False,
            }
        },
    ]
    for extra in kinds:
        await s.feed({"message": base(RIDER, None, None, **extra)})
    await s.feed({"edited_message": {**base(RIDER, "改一下"), "edit_date": 1}})
    await s.say(RIDER, "x" * 4096)
    replies = texts(sent_to(s.session, RIDER.id))
    assert len(replies) == len(kinds) + 2
    assert not [r for r in replies if not r.startswith(("暂时只能", "修改过的", "文字太长"))]
    assert await draft_of(s.app, RIDER) is None
    assert await all_cases(s.app) == []


async def test_bad_coordinates(district: Script) -> None:
    s = district
    await s.say(RIDER, "路灯坏了")
    s.session.clear()
    await s.feed({"message": s.message_dict(RIDER, None, None, location={"latitude": 95.0, "longitude": 200.0})})
    assert "位置信息无效" in texts(sent_to(s.session, RIDER.id))[-1]


async def test_bind_requires_admin_or_parent_staff(script: Script) -> None:
    s = script
    g = Group(-100777, "随便建的群")
    await s.say(STRANGER, "/bind QH-01-02", group=g)
    assert await scalar(s.app, "select count(*) from units where chat_id is not null") == 0
    assert "只有" in texts(sent_to(s.session, g.id))[-1]
    await s.say(ADMIN, "/bind QH-01", group=COMMUNITY_GROUP)
    await s.say(COMMUNITY_STAFF, "/start")
    await s.say(ADMIN, "/staff add @li_comm", group=COMMUNITY_GROUP)
    await s.say(COMMUNITY_STAFF, "/bind QH-01-02", group=GRID_GROUP)  # staff of the parent community may
    assert await scalar(s.app, "select chat_id from units where code = 'QH-01-02'") == GRID_GROUP.id
    await s.say(COMMUNITY_STAFF, "/bind QH-02-01", group=g)  # but not for another community's grid
    assert await scalar(s.app, "select chat_id from units where code = 'QH-02-01'") is None
    await s.say(ADMIN, "/bind NOPE", group=g)
    assert "NOPE" in texts(sent_to(s.session, g.id))[-1]


async def test_staff_add_and_remove_permissions(district: Script) -> None:
    s = district
    await s.say(STRANGER, "/start")
    await s.say(STRANGER, "/staff add @passerby", group=GRID_GROUP)
    assert "只有" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await s.say(WORKER, "/staff add @passerby", group=GRID_GROUP)  # staff of the level may add
    assert await scalar(s.app, "select count(*) from staff where unit_code = 'QH-01-02'") == 2
    await s.say(WORKER, "/staff remove @passerby", group=GRID_GROUP)
    assert await scalar(s.app, "select count(*) from staff where unit_code = 'QH-01-02'") == 1
    await s.say(WORKER, "/staff add @nobody_known", group=GRID_GROUP)
    assert "找不到" in texts(sent_to(s.session, GRID_GROUP.id))[-1]


async def test_unbound_group_and_bot_removed(district: Script, spot: dict[str, float]) -> None:
    s = district
    g = Group(-100555, "没绑定的群")
    await s.say(WORKER, "/staff", group=g)
    assert "还没有绑定" in texts(sent_to(s.session, g.id))[-1]
    await s.feed(
        {
            "my_chat_member": {
                "chat": GRID_GROUP.tg(),
                "from": ADMIN.tg(),
                "date": 0,
                "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "gridbot"}},
                "new_chat_member": {
                    "status": "kicked",
                    "user": {"id": 1, "is_bot": True, "first_name": "gridbot"},
                    "until_date": 0,
                },
            }
        }
    )
    assert await scalar(s.app, "select chat_id from units where code = 'QH-01-02'") is None
    await report(s, RIDER, spot)
    [case] = await all_cases(s.app)
    assert case.unit_code == "QH-01-02"
    assert any(case.number in t for t in texts(sent_to(s.session, COMMUNITY_GROUP.id)))


async def test_english_user_gets_english(district: Script) -> None:
    s = district
    en = Person(901000, "Tom", "tom", language_code="en")
    await s.say(en, "/start")
    assert "Snap" in str(s.session.calls[-2].params) or "hazard" in texts(sent_to(s.session, en.id))[0].lower()


async def test_someone_first_met_through_a_staff_reply_is_answered_in_their_language(district: Script) -> None:
    s = district
    newcomer = Person(901001, "Anna", "anna_grid", language_code="en-US")
    message = s.message_dict(newcomer, "hello", GRID_GROUP)
    await s.say(ADMIN, "/staff add", group=GRID_GROUP, reply_to_message=message)
    await s.say(newcomer, "/start")
    first = texts(sent_to(s.session, newcomer.id))[0]
    assert "report" in first.lower() or "hazard" in first.lower(), first

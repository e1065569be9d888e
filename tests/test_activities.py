"""Activities end to end: publish from a file, sign-up within capacity (also under 50 concurrent taps), waitlist
promotion in the cancelling transaction, reminders, check-in/out with hours and points."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.admin import import_activities, rebuild_points
from bot.demo_cast import COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP
from bot.scripted import Person, Script
from tests.conftest import FakeClock
from tests.helpers import alerts, scalar, sent_to, standing_of, texts, user_of

ACTIVITY = """
- community: QH-01
  title: 楼道清理
  description: 清理楼道杂物，消除消防隐患
  place: 杏林社区3号楼
  lat: 36.654049
  lon: 117.018011
  start: "2026-11-28 09:00"
  end: "2026-11-28 11:00"
  capacity: {capacity}
  points_rule: per_hour
  points: 10
"""


async def publish(s: Script, tmp_path: Path, capacity: int = 2) -> int:
    path = tmp_path / "acts.yml"
    path.write_text(ACTIVITY.format(capacity=capacity), encoding="utf-8")
    settings = s.app.settings
    assert await import_activities(settings, path, s.app.store.clock) == 1
    await s.app.sender.drain()
    s._collect()
    return int(await scalar(s.app, "select id from activities"))


def people(n: int, base: int = 930000) -> list[Person]:
    return [Person(base + i, f"志愿者{i:02d}") for i in range(n)]


async def test_publish_posts_to_community_and_grid_groups(district: Script, tmp_path: Path) -> None:
    s = district
    await publish(s, tmp_path)
    for group in (COMMUNITY_GROUP, GRID_GROUP):
        post = sent_to(s.session, group.id)[-1]
        assert "楼道清理" in post.params["text"] and "剩余 2 / 共 2" in post.params["text"]
        assert post.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].startswith("act:join:")


async def test_capacity_waitlist_and_promotion(district: Script, tmp_path: Path, clock: FakeClock) -> None:
    s = district
    act = await publish(s, tmp_path, capacity=2)
    a, b, c = people(3)
    for p in (a, b, c):
        await s.say(p, "/start")
        await s.press(p, "报名", group=COMMUNITY_GROUP)
    assert "候补" in alerts(s.session)[-1]
    await s.press(a, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}")  # a repeat tap is the same sign-up
    states = await scalar(s.app, "select count(*) from signups where state = 'confirmed'")
    assert states == 2 and await scalar(s.app, "select taken from activities") == 2
    reminders = await scalar(s.app, "select count(*) from outbox where tag like 'remind:%' and state = 'pending'")
    assert reminders == 4  # 24 h and 1 h for each confirmed volunteer
    await s.say(a, "🤝 志愿服务")
    await s.press(a, "我的活动")
    await s.press(a, "取消报名")
    assert (
        await scalar(
            s.app,
            "select state from signups where user_id = (select id from users where external_id = :x)",
            x=str(c.id),
        )
        == "confirmed"
    )
    assert await scalar(s.app, "select taken from activities") == 2
    assert any("递补" in t for t in texts(sent_to(s.session, c.id)))
    assert await scalar(s.app, "select count(*) from outbox where state = 'cancelled'") == 2  # a's reminders
    # Reminders arrive when due, not before, and never hold up other messages.
    clock.now = datetime(2026, 11, 27, 1, 1, tzinfo=UTC)  # 24 h before 09:00 Beijing, plus a minute
    await s.app.sender.drain()
    s._collect()
    assert any("明天" in t for t in texts(sent_to(s.session, c.id)))
    assert not any("1 小时后" in t for t in texts(sent_to(s.session, c.id)))


async def test_fifty_concurrent_signups_never_exceed_capacity(district: Script, tmp_path: Path) -> None:
    s = district
    act = await publish(s, tmp_path, capacity=7)
    crowd = people(50, base=940000)
    await asyncio.gather(*(s.press(p, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}") for p in crowd))
    assert await scalar(s.app, "select count(*) from signups where state = 'confirmed'") == 7
    assert await scalar(s.app, "select count(*) from signups where state = 'waitlisted'") == 43
    assert await scalar(s.app, "select taken from activities") == 7
    # The same person tapping many times at once still has one sign-up.
    one = Person(949999, "急性子")
    await asyncio.gather(*(s.press(one, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}") for _ in range(10)))
    assert (
        await scalar(
            s.app,
            "select count(*) from signups where user_id = (select id from users where external_id = :x)",
            x=str(one.id),
        )
        == 1
    )


async def test_checkin_checkout_hours_and_points(district: Script, tmp_path: Path, clock: FakeClock) -> None:
    s = district
    act = await publish(s, tmp_path)
    code = await scalar(s.app, "select checkin_code from activities")
    [v] = people(1)
    await s.say(v, "/start")
    await s.press(v, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}")
    clock.now = datetime(2026, 11, 28, 0, 50, tzinfo=UTC)  # 08:50 Beijing
    await s.say(v, "🤝 志愿服务")
    await s.press(v, "我的活动")
    await s.press(v, "签到")
    await s.location(v, 36.70, 117.10)  # far away
    assert "超过" in texts(sent_to(s.session, v.id))[-1]
    await s.location(v, 36.6541, 117.0181)
    assert "已签到" in texts(sent_to(s.session, v.id))[-1]
    clock.now += timedelta(hours=3)  # leaves at 11:50: credited up to the activity's end (2 h from 09:00)
    await s.press(v, "签退")
    await s.say(v, "0000" if code != "0000" else "1111")
    assert "签到码不对" in texts(sent_to(s.session, v.id))[-1]
    await s.say(v, str(code))
    assert "2 小时" in texts(sent_to(s.session, v.id))[-1]
    standing = await standing_of(s.app, v)
    assert (standing.hours, standing.balance) == (2, 20)
    # The ledger row records the community it was earned in (the monthly board counts by it).
    uid = (await user_of(s.app, v)).id
    assert await scalar(s.app, "select community_code from points_ledger where user_id = :u", u=uid) == "QH-01"


async def test_bad_activity_file_is_refused_whole(district: Script, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(ACTIVITY.format(capacity=0) + ACTIVITY.format(capacity=3).replace("QH-01", "NOPE"), encoding="utf-8")
    settings = district.app.settings
    try:
        await import_activities(settings, bad)
    except ValueError as e:
        assert "capacity" in str(e)
    else:
        raise AssertionError("accepted")
    assert await scalar(district.app, "select count(*) from activities") == 0


async def test_organiser_attendance_noshow_and_backfill(district: Script, tmp_path: Path) -> None:
    s = district
    act = await publish(s, tmp_path, capacity=3)
    a, b = people(2, base=970000)
    for p in (a, b):
        await s.say(p, "/start")
        await s.press(p, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}")
    await s.say(a, "/start")
    await s.say(
        COMMUNITY_STAFF,
        f"/backfill {act} 1.5",
        group=COMMUNITY_GROUP,
        reply_to_message=s.message_dict(a, "我来了", COMMUNITY_GROUP),
    )
    await s.say(
        COMMUNITY_STAFF,
        f"/noshow {act}",
        group=COMMUNITY_GROUP,
        reply_to_message=s.message_dict(b, "…", COMMUNITY_GROUP),
    )
    await s.say(COMMUNITY_STAFF, f"/attendance {act}", group=COMMUNITY_GROUP)
    listing = texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    assert "签到情况" in listing and "未到场" in listing and "1.5 小时" in listing
    standing = await standing_of(s.app, a)
    assert (standing.hours, standing.balance) == (1.5, 0)  # back-filled hours earn no points
    ua = (await user_of(s.app, a)).id
    assert await scalar(s.app, "select kind from hours_ledger where user_id = :u", u=ua) == "backfill"
    await s.say(a, f"/attendance {act}", group=COMMUNITY_GROUP)  # not staff
    assert "只有本社区" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]


async def test_team_only_activity(district: Script, tmp_path: Path) -> None:
    s = district
    path = tmp_path / "team.yml"
    path.write_text(ACTIVITY.format(capacity=5) + "  team: 红马甲服务队\n", encoding="utf-8")
    settings = s.app.settings
    await import_activities(settings, path, s.app.store.clock)
    act = int(await scalar(s.app, "select id from activities"))
    [outsider] = people(1, base=980000)
    await s.say(outsider, "/start")
    await s.press(outsider, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}")
    assert "只限" in alerts(s.session)[-1]
    assert await scalar(s.app, "select count(*) from signups") == 0


async def test_staff_create_activity_step_by_step(district: Script) -> None:
    s = district
    await s.say(COMMUNITY_STAFF, "/newactivity")
    await s.press(COMMUNITY_STAFF, "杏林社区")
    answers = [
        "敬老院陪伴",
        "陪老人聊天、读报",
        "杏林社区敬老院",
        "2026-12-12 14:00",
        "明天下午",
        "2026-12-12 16:30",
        "十个",
        "10",
    ]
    for text in answers:
        await s.say(COMMUNITY_STAFF, text)
    replies = texts(sent_to(s.session, COMMUNITY_STAFF.id))
    assert any("时间格式不对" in t for t in replies) and any("请输入数字" in t for t in replies)
    await s.press(COMMUNITY_STAFF, "按服务小时")
    await s.say(COMMUNITY_STAFF, "8")
    await s.press(COMMUNITY_STAFF, "不限")
    assert "请确认活动信息" in texts(sent_to(s.session, COMMUNITY_STAFF.id))[-1]
    await s.press(COMMUNITY_STAFF, "发布")
    assert await scalar(s.app, "select title from activities") == "敬老院陪伴"
    assert await scalar(s.app, "select capacity from activities") == 10
    assert any("敬老院陪伴" in t for t in texts(sent_to(s.session, COMMUNITY_GROUP.id)))
    assert await scalar(s.app, "select count(*) from forms") == 0
    [outsider] = people(1, base=990000)
    await s.say(outsider, "/newactivity")
    assert "只有社区" in texts(sent_to(s.session, outsider.id))[-1]


async def test_organiser_corrects_times_with_ledger_rows(district: Script, tmp_path: Path, clock: FakeClock) -> None:
    s = district
    act = await publish(s, tmp_path)
    code = await scalar(s.app, "select checkin_code from activities")
    [v] = people(1, base=995000)
    await s.say(v, "/start")
    await s.press(v, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}")
    clock.now = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    await s.press(v, "x", data=f"act:in:{act}")
    await s.say(v, str(code))
    clock.now += timedelta(hours=2)
    await s.press(v, "x", data=f"act:out:{act}")
    await s.say(v, str(code))
    assert (await standing_of(s.app, v)).balance == 20
    msg = s.message_dict(v, "…", COMMUNITY_GROUP)
    await s.say(COMMUNITY_STAFF, f"/fixtime {act} 09:00 10:00", group=COMMUNITY_GROUP, reply_to_message=msg)
    assert "已更正" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    standing = await standing_of(s.app, v)
    assert (standing.hours, standing.balance) == (1, 10)
    assert await scalar(s.app, "select count(*) from points_ledger where kind = 'adjust'") == 1
    assert await scalar(s.app, "select count(*) from hours_ledger where kind = 'correction'") == 1
    settings = s.app.settings
    assert await rebuild_points(settings) == []


async def test_cancels_racing_signups_never_leave_a_seat_free_while_people_wait(
    district: Script, tmp_path: Path
) -> None:
    """10 of 10 places taken; the 10 cancel while 10 others sign up, all at once — many times over."""
    s = district
    holders, newcomers = people(10, base=950000), people(10, base=951000)
    for p in holders + newcomers:
        await s.say(p, "/start")
    for _ in range(12):
        await publish(s, tmp_path, capacity=10)
        act = int(await scalar(s.app, "select max(id) from activities"))
        for p in holders:
            await s.press(p, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}")
        taps = [s.press(p, "x", data=f"act:leave:{act}") for p in holders]
        taps += [s.press(p, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}") for p in newcomers]
        await asyncio.gather(*taps)
        confirmed = await scalar(
            s.app, "select count(*) from signups where activity_id = :a and state = 'confirmed'", a=act
        )
        waiting = await scalar(
            s.app, "select count(*) from signups where activity_id = :a and state = 'waitlisted'", a=act
        )
        taken = await scalar(s.app, "select taken from activities where id = :a", a=act)
        assert confirmed == taken <= 10
        assert waiting == 0 or taken == 10, (confirmed, waiting, taken)
        assert (confirmed, waiting) == (10, 0)  # every newcomer got one of the freed seats


async def test_a_time_correction_moves_the_star_level_like_any_change_of_hours(
    district: Script, tmp_path: Path, clock: FakeClock
) -> None:
    s = district
    s.app.settings.star_hours = [1.5, 3.0]
    act = await publish(s, tmp_path)
    code = await scalar(s.app, "select checkin_code from activities")
    [v] = people(1, base=996000)
    await s.say(v, "/start")
    await s.press(v, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}")
    clock.now = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    await s.press(v, "x", data=f"act:in:{act}")
    await s.say(v, str(code))
    clock.now += timedelta(hours=1)
    await s.press(v, "x", data=f"act:out:{act}")
    await s.say(v, str(code))
    assert (await standing_of(s.app, v)).star_level == 0
    msg = s.message_dict(v, "…", COMMUNITY_GROUP)
    await s.say(COMMUNITY_STAFF, f"/fixtime {act} 09:00 11:00", group=COMMUNITY_GROUP, reply_to_message=msg)
    standing = await standing_of(s.app, v)
    assert (standing.hours, standing.star_level) == (2, 1)
    assert any("星" in t for t in texts(sent_to(s.session, v.id))[-2:])
    await s.say(COMMUNITY_STAFF, f"/fixtime {act} 09:00 10:00", group=COMMUNITY_GROUP, reply_to_message=msg)
    assert (await standing_of(s.app, v)).star_level == 0


async def test_the_activity_post_follows_its_seats_in_one_coalesced_edit(
    district: Script, tmp_path: Path, clock: FakeClock
) -> None:
    """A burst of sign-ups becomes one edit per group (Telegram allows about 20 messages a minute per group)."""
    s = district
    act = await publish(s, tmp_path, capacity=5)
    crowd = people(8, base=953000)
    for p in crowd:
        await s.press(p, "x", group=COMMUNITY_GROUP, data=f"act:join:{act}")

    def edits() -> list[Any]:
        return [c for c in s.session.by_method("editMessageText") if c.chat_id == COMMUNITY_GROUP.id]

    assert edits() == []  # the edit waits a few seconds for more changes
    clock.advance(15)
    await s.app.sender.drain()
    assert len(edits()) == 1 and "剩余 0 / 共 5" in edits()[0].params["text"]
    assert edits()[0].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"act:join:{act}"

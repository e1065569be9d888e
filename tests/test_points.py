"""Points ledger, stars and the credit supermarket, end to end and under concurrency (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC

from bot.admin import rebuild_points
from bot.demo_cast import COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP, RIDER, WORKER
from bot.scripted import Person, Script
from domain.kernel.people import UserRef
from tests.helpers import alerts, scalar, sent_to, standing_of, texts

RESIDENT = Person(900401, "张阿姨", "zhang_ayi")


async def balance(s: Script, who: Person) -> int:
    """A person's balance, as 我的积分 shows it."""
    return (await standing_of(s.app, who)).balance


async def award(s: Script, who: Person, points: int, reason: str = "楼栋长巡查") -> None:
    """Community staff award points, replying to the person's message in the community group."""
    msg = s.message_dict(who, "我来报到", COMMUNITY_GROUP)
    await s.feed({"message": msg})
    await s.say(COMMUNITY_STAFF, f"/award {points} {reason}", group=COMMUNITY_GROUP, reply_to_message=msg)


async def stock_item(s: Script, name: str, price: int, stock: int) -> int:
    await s.say(COMMUNITY_STAFF, f"/item {name} {price} {stock}", group=COMMUNITY_GROUP)
    return int(await scalar(s.app, "select id from shop_items where name = :n", n=name))


async def test_resolved_report_earns_points_once(district: Script, spot: dict[str, float]) -> None:
    s = district
    await s.say(RIDER, "/start")
    await s.photo(RIDER, "p", "3号楼楼道电动车充电")
    await s.location(RIDER, spot["lat"], spot["lon"])
    await s.press(RIDER, "提交")
    for _ in range(2):  # resolved, rated unsatisfied, resolved again: one reward only
        await s.press(WORKER, "接单", group=GRID_GROUP, on="待接单")
        await s.press(WORKER, "到场", group=GRID_GROUP, on="已接单")
        await s.press(WORKER, "办结", group=GRID_GROUP, on="已到场")
        await s.say(WORKER, "处理好了")
        await s.press(RIDER, "不满意")
    assert await balance(s, RIDER) == 10  # fire_safety earns 10 by default
    assert any("您获得 10 积分" in t for t in texts(sent_to(s.session, RIDER.id)))
    await s.say(RIDER, "⭐ 我的积分")
    mine = texts(sent_to(s.session, RIDER.id))[-1]
    assert "积分余额：10 分" in mine and "距下一星级还差 100 小时" in mine and "已办结" in mine


async def test_award_requires_staff(district: Script) -> None:
    s = district
    await award(s, RESIDENT, 20)
    assert await balance(s, RESIDENT) == 20
    msg = s.message_dict(RESIDENT, "hi", COMMUNITY_GROUP)
    await s.feed({"message": msg})
    await s.say(RIDER, "/award 50 我自己给自己", group=COMMUNITY_GROUP, reply_to_message=msg)
    assert await balance(s, RESIDENT) == 20
    assert "只有" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]


async def test_redeem_verify_once_and_refund(district: Script) -> None:
    s = district
    await s.say(RESIDENT, "/start")
    await award(s, RESIDENT, 70)
    item = await stock_item(s, "洗衣液", 30, 5)
    await s.say(RESIDENT, "🎁 信用超市")
    await s.press(RESIDENT, "杏林社区")
    await s.press(RESIDENT, "洗衣液")
    await s.press(RESIDENT, "确认兑换")
    code = re.search(r"取货码：<b>(\w+)</b>", texts(sent_to(s.session, RESIDENT.id))[-1])
    assert code is not None
    assert await balance(s, RESIDENT) == 40
    assert await scalar(s.app, "select stock from shop_items where id = :i", i=item) == 4
    await s.say(COMMUNITY_STAFF, f"/verify {code.group(1).lower()}", group=COMMUNITY_GROUP)
    assert "已核销" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    await s.say(COMMUNITY_STAFF, f"/verify {code.group(1)}", group=COMMUNITY_GROUP)
    assert "不能重复" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    await s.say(COMMUNITY_STAFF, f"/refund {code.group(1)}", group=COMMUNITY_GROUP)  # picked up: no refund
    assert await balance(s, RESIDENT) == 40
    # A second order is cancelled by staff: points and stock come back, with a refund row.
    await s.press(RESIDENT, "确认兑换")
    second = re.search(r"取货码：<b>(\w+)</b>", texts(sent_to(s.session, RESIDENT.id))[-1])
    assert second is not None and await balance(s, RESIDENT) == 10
    await s.say(WORKER, f"/refund {second.group(1)}", group=GRID_GROUP)  # a grid worker is not community staff
    assert await balance(s, RESIDENT) == 10
    await s.say(COMMUNITY_STAFF, f"/refund {second.group(1)}", group=COMMUNITY_GROUP)
    assert await balance(s, RESIDENT) == 40
    assert await scalar(s.app, "select stock from shop_items where id = :i", i=item) == 4
    assert any("已被取消" in t for t in texts(sent_to(s.session, RESIDENT.id)))
    kinds = (
        await scalar(s.app, "select group_concat(kind) from (select kind from points_ledger order by id)")
        if s.app.engine.dialect.name == "sqlite"
        else await scalar(s.app, "select string_agg(kind, ',' order by id) from points_ledger")
    )
    assert kinds == "earn,redeem,redeem,refund"
    await s.press(RESIDENT, "确认兑换")  # 40 points, price 30: fine; then 10 left
    await s.press(RESIDENT, "确认兑换")
    assert "积分不足" in alerts(s.session)[-1] and await balance(s, RESIDENT) == 10


async def test_fifty_concurrent_redemptions_succeed_exactly_three_times(district: Script) -> None:
    s = district
    await s.say(RESIDENT, "/start")
    await award(s, RESIDENT, 30)
    item = await stock_item(s, "毛巾", 10, 100)
    presses = [s.press(RESIDENT, "x", data=f"shop:buy:{item}") for _ in range(50)]
    await asyncio.gather(*presses)
    assert await scalar(s.app, "select count(*) from shop_orders") == 3
    assert await balance(s, RESIDENT) == 0
    assert await scalar(s.app, "select stock from shop_items where id = :i", i=item) == 97
    assert await scalar(s.app, "select sum(amount) from points_ledger") == 0
    assert await rebuild_points(s.app.settings) == []


async def test_stock_never_below_zero_under_concurrency(district: Script) -> None:
    s = district
    buyers = [Person(910000 + i, f"居民{i}") for i in range(6)]
    for b in buyers:
        await s.say(b, "/start")
        await award(s, b, 100)
    item = await stock_item(s, "大米", 20, 2)
    await asyncio.gather(*(s.press(b, "x", data=f"shop:buy:{item}") for b in buyers for _ in range(3)))
    assert await scalar(s.app, "select count(*) from shop_orders") == 2
    assert await scalar(s.app, "select stock from shop_items where id = :i", i=item) == 0
    assert await scalar(s.app, "select sum(balance) from point_balances") == 600 - 40


async def test_rebuild_finds_and_fixes_a_drifted_cache(district: Script) -> None:
    s = district
    await award(s, RESIDENT, 25)
    settings = s.app.settings
    assert await rebuild_points(settings) == []
    async with s.app.sessions.begin() as sess:
        from sqlalchemy import text

        await sess.execute(text("update point_balances set balance = 999"))
    fixed = await rebuild_points(settings)
    assert len(fixed) == 1 and fixed[0][1:3] == (999, 25)
    assert await balance(s, RESIDENT) == 25


async def test_hours_stars_and_certificate(district: Script) -> None:
    s = district
    await s.say(RESIDENT, "/start")
    async with s.app.sessions.begin() as sess:
        uow, svc, _ = s.app.uow.unit_of_work(sess)
        user = await uow.ports.people.by_ref(UserRef("telegram", str(RESIDENT.id)))
        assert user is not None
        assert await svc.points.add_hours(user.id, 8, "verified", "act:1:u") is None
        assert await svc.points.add_hours(user.id, 8, "verified", "act:1:u") is None  # same key: once
        for i in range(12):
            await svc.points.add_hours(user.id, 8, "verified", f"act:{i + 2}:u")
        standing = await svc.points.standing(user)
    assert standing.hours == 104 and standing.star_level == 1 and standing.next_star_hours == 196
    await s.app.sender.drain()
    s._collect()
    assert any("1 星级志愿者" in t for t in texts(sent_to(s.session, RESIDENT.id)))
    await s.say(RESIDENT, "⭐ 我的积分")
    await s.press(RESIDENT, "领取星级证书")
    photo = [c for c in s.session.by_method("sendPhoto") if c.chat_id == RESIDENT.id][-1]
    assert str(photo.params["photo"]).startswith("attach://") and "星级志愿者" in photo.params["caption"]


async def test_catalog_cli_import(district: Script, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.admin import import_catalog

    settings = district.app.settings
    good = tmp_path / "items.csv"
    good.write_text("community,name,price,stock\nQH-01,食用油,50,10\nQH-02,肥皂,5,100\n", encoding="utf-8")
    assert await import_catalog(settings, good) == (2, 0)
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "- {community: QH-01-02, name: 牙膏, price: 8, stock: 3}\n- {community: QH-01, name: x}\n", encoding="utf-8"
    )
    try:
        await import_catalog(settings, bad)
    except ValueError as e:
        assert "row 2" in str(e)
    else:
        raise AssertionError("bad file accepted")


async def test_monthly_credit_star_board(district: Script, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from bot.runner import periodic_jobs

    s = district
    people = [Person(920000 + i, f"志愿者{i:02d}") for i in range(12)]
    for i, p in enumerate(people):
        await award(s, p, 10 + i)  # awarded on 2026-11-23, to community QH-01
    await award(s, RESIDENT, 500)
    clock.now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 on 1 December in Beijing
    await award(s, RIDER, 999)  # December: not on November's board
    await periodic_jobs(s.app)
    await periodic_jobs(s.app)  # idempotent
    await s.app.sender.drain()
    s._collect()
    boards = [t for t in texts(sent_to(s.session, COMMUNITY_GROUP.id)) if "信用之星" in t]
    assert len(boards) == 1
    board = boards[0]
    assert "2026年11月" in board and board.index("张阿姨") < board.index("志愿者11")
    assert "骑手小刘" not in board and "志愿者01" not in board and "志愿者00" not in board  # top 10 only
    clock.now = datetime(2026, 12, 20, 1, 0, tzinfo=UTC)
    await periodic_jobs(s.app)
    assert len([t for t in texts(sent_to(s.session, COMMUNITY_GROUP.id)) if "信用之星" in t]) == 1


async def test_yearly_expiry_takes_old_unspent_points_once(district: Script, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from bot.admin import expire_points

    s = district
    await s.say(RESIDENT, "/start")
    await award(s, RESIDENT, 50)  # 2026-11-23
    item = await stock_item(s, "香皂", 20, 10)
    await s.press(RESIDENT, "x", data=f"shop:buy:{item}")  # spends 20 of the old points
    clock.now = datetime(2027, 3, 1, tzinfo=UTC)
    await award(s, RESIDENT, 30)  # new points stay
    settings = s.app.settings
    cutoff = datetime(2027, 1, 1, tzinfo=UTC)
    assert await expire_points(settings, cutoff) == 30
    assert await expire_points(settings, cutoff) == 0
    assert await balance(s, RESIDENT) == 30
    assert await rebuild_points(settings) == []

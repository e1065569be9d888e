"""Residents decide, end to end through the dispatcher: a home registered and confirmed, a building head named,
a matter put to the vote in private, counted once at the close, decided, and its follow-up case."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import pytest

from bot.demo_cast import ADMIN, COMMUNITY_GROUP, COMMUNITY_STAFF, GRID_GROUP, RIDER, WORKER
from bot.demo_civic import register_home
from bot.jobs import sweep
from bot.runner import periodic_jobs
from bot.scripted import Group, Person, Script
from domain.civic.model import Per
from domain.kernel.errors import Invalid
from handlers.civic import parse_decision, parse_matter
from tests.conftest import FakeClock
from tests.helpers import alerts, scalar, sent_to, services, standing_of, texts, user_of

HEAD = Person(970001, "楼栋长老赵", "zhao_head")
AUNT = Person(970002, "住户周阿姨", "zhou_ayi")


async def confirmed(s: Script, who: Person, flat: str) -> None:
    """Registered, and confirmed by the grid worker from the card they got privately."""
    await register_home(s, who, flat)
    _, data = s.button(WORKER.id, "确认", on=who.first_name)
    await s.press(WORKER, "确认", data=data)


async def test_a_home_is_registered_and_a_building_head_confirms_it(district: Script) -> None:
    s = district
    await s.say(HEAD, "/start")
    await s.say(WORKER, "/head @zhao_head 杏林小区3号楼", group=GRID_GROUP)
    assert "已任 杏林小区3号楼 楼栋长" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    assert "楼栋长" in texts(sent_to(s.session, HEAD.id))[-1]
    await s.say(RIDER, "/head @zhao_head 杏林小区3号楼", group=GRID_GROUP)
    assert "只有本楼楼栋长或本网格工作人员" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await register_home(s, AUNT, "２单元３０１")  # full-width digits, as a phone keyboard may type them
    assert "已提交" in texts(sent_to(s.session, AUNT.id))[-1]
    group = texts(sent_to(s.session, GRID_GROUP.id))
    assert not any("301" in x or AUNT.first_name in x for x in group)  # neighbours read the group
    for reviewer in (HEAD, WORKER):
        card = texts(sent_to(s.session, reviewer.id))[-1]
        assert "杏林小区3号楼2单元301室" in card and AUNT.first_name in card
    await s.say(HEAD, "/homes")
    assert AUNT.first_name in texts(sent_to(s.session, HEAD.id))[-1]
    _, data = s.button(HEAD.id, "确认 1")
    await s.press(RIDER, "x", data=data)  # a stranger's tap changes nothing
    assert "只有本楼楼栋长" in alerts(s.session)[-1]
    await s.press(HEAD, "确认 1")
    assert await scalar(s.app, "select state from homes") == "confirmed"
    assert "已确认" in texts(sent_to(s.session, AUNT.id))[-1]
    edits = [c for c in s.session.by_method("editMessageText") if c.chat_id == WORKER.id]
    assert "已由 楼栋长老赵 确认" in texts(edits)[-1]  # the worker's card shows who decided, without buttons
    assert (await standing_of(s.app, HEAD)).balance == 2
    await s.say(AUNT, "/home")
    assert "已确认" in texts(sent_to(s.session, AUNT.id))[-1]
    await s.say(WORKER, "/heads", group=GRID_GROUP)
    heads = texts(sent_to(s.session, GRID_GROUP.id))[-1]
    assert "杏林小区3号楼：楼栋长老赵（已确认住户 1）" in heads and "杏林小区1号楼：暂缺楼栋长" in heads
    await s.say(AUNT, "我家是 三楼")  # nothing awaited any more: an ordinary message, no new home
    assert await scalar(s.app, "select count(*) from homes") == 1


async def test_a_bad_flat_is_asked_again_and_nothing_is_kept(district: Script) -> None:
    s = district
    await register_home(s, AUNT, "就是那个楼")
    assert "没看懂门牌" in texts(sent_to(s.session, AUNT.id))[-1]
    assert await scalar(s.app, "select count(*) from homes") == 0
    await s.say(AUNT, "2-502")
    assert await scalar(s.app, "select room from homes") == "502"


async def test_a_matter_from_proposal_to_follow_up_case(district: Script, clock: FakeClock) -> None:
    s = district
    voters = [Person(971000 + i, f"住户{i}", f"resident_{i}") for i in range(3)]
    for i, who in enumerate(voters):
        await confirmed(s, who, f"1-{101 + i}")
    outsider = Person(971100, "外小区的人", "outsider")
    await s.say(outsider, "/start")
    # A resident proposes; the grid's staff put it to the vote.
    await s.say(voters[0], "/propose")
    await s.say(voters[0], "3号楼加装电梯\n老人上下楼太难 电话13912345678")
    proposal = texts(sent_to(s.session, GRID_GROUP.id))[-1]
    assert "3号楼加装电梯" in proposal and "139****5678" in proposal
    await s.press(RIDER, "付诸表决", group=GRID_GROUP)
    assert await scalar(s.app, "select state from matters") == "proposed"
    await s.press(WORKER, "付诸表决", group=GRID_GROUP)
    assert await scalar(s.app, "select state from matters") == "open"
    card = sent_to(s.session, GRID_GROUP.id)[-1]
    button = card.params["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"].endswith("?start=m1") and "有资格" not in card.params["text"]
    # Votes are cast in private, changed, and refused to those without a confirmed home in the compound.
    await s.say(voters[0], "/start m1")
    assert "截止前可以改票" in texts(sent_to(s.session, voters[0].id))[-1]
    await s.press(voters[0], "不同意")
    await s.press(voters[0], "同意")
    assert "已改票" in alerts(s.session)[-1]
    await s.say(voters[1], "/votes")
    await s.press(voters[1], "#1")
    await s.press(voters[1], "同意")
    await s.say(outsider, "/start m1")
    assert "只有 杏林小区 已确认的住户可以投票" in texts(sent_to(s.session, outsider.id))[-1]
    _, data = s.button(voters[0].id, "同意")
    await s.press(outsider, "x", data=data)
    assert "只有本范围已确认住址的居民" in alerts(s.session)[-1]
    assert await scalar(s.app, "select count(*) from ballots") == 2
    # The window ends: counted once, the result posted (2 of 3 took part: quorum 50 % met).
    clock.advance(8 * 24 * 3600)
    await sweep(s.app)
    await sweep(s.app)
    await s.app.sender.drain()
    s._collect()
    results = [x for x in texts(sent_to(s.session, GRID_GROUP.id)) if "议事投票结果" in x]
    assert len(results) == 1 and "同意：2 票" in results[0] and "参与：2 / 有资格 3" in results[0]
    assert "达到法定参与率" in results[0]
    await s.press(voters[2], "同意", data=data.replace(f"{voters[0].id}", f"{voters[2].id}"))
    assert "投票已截止" in alerts(s.session)[-1]
    # Staff record the decision; each follow-up becomes a case; the voters are told, and told again when done.
    await s.say(WORKER, "/decide 1 同意加装，费用按户分摊\n- 联系电梯公司现场勘察\n- 公示分摊方案", group=GRID_GROUP)
    numbers = await scalar(s.app, "select count(*) from matter_follow_ups where case_id is not null")
    assert numbers == 2
    assert any("同意加装" in x for x in texts(sent_to(s.session, voters[1].id)))
    case_id = await scalar(s.app, 'select case_id from matter_follow_ups where "index" = 1')
    worker = await user_of(s.app, WORKER)
    async with s.app.sessions.begin() as session:
        _, svc, _ = s.app.uow.unit_of_work(session)
        case = await svc.cases.get(case_id)
        for action in ("claim", "onsite"):
            case = await svc.cases.act(case.id, action, case.rev, worker)
        await svc.cases.act(case.id, "resolve", case.rev, worker, "已联系电梯公司，下周一勘察")
    await s.app.sender.drain()
    s._collect()
    assert any("已办结" in x and "联系电梯公司现场勘察" in x for x in texts(sent_to(s.session, voters[1].id)))
    assert not any("同意：" in x for x in texts(sent_to(s.session, outsider.id)))


async def test_fifty_residents_vote_and_change_at_once_and_the_count_is_exact(district: Script) -> None:
    s = district
    people = [Person(972000 + i, f"居民{i}", f"r{i}") for i in range(50)]
    for who in people:
        await s.say(who, "/start")
    worker = await user_of(s.app, WORKER)
    users = [await user_of(s.app, who) for who in people]
    async with s.app.sessions.begin() as session:
        _, svc, _ = s.app.uow.unit_of_work(session)
        for i, user in enumerate(users):
            home = await svc.civic.homes.register(user, "QH-01-02-XL-03", f"1-{i + 1}")
            await svc.civic.homes.decide(worker, home.id, True)
    await s.say(WORKER, "/vote 楼顶光伏\n选项：装/不装/再议\n范围：杏林小区3号楼", group=GRID_GROUP)
    matter = await scalar(s.app, "select id from matters")
    for who in people:
        await s.say(who, f"/start m{matter}")
    data = {who.id: [s.button(who.id, o)[1] for o in ("装", "不装", "再议")] for who in people}
    # Everyone votes at once, then everyone changes at once; the last choice of each counts, once.
    await asyncio.gather(*(s.press(w, "x", data=data[w.id][i % 3]) for i, w in enumerate(people)))
    await asyncio.gather(*(s.press(w, "x", data=data[w.id][(i + 1) % 3]) for i, w in enumerate(people)))
    assert await scalar(s.app, "select count(*) from ballots") == 50
    assert await scalar(s.app, "select sum(changes) from ballots") == 50
    expected = [sum((i + 1) % 3 == k for i in range(50)) for k in range(3)]
    async with services(s.app) as svc:
        counts = await svc.ports.matters.counts(matter)
    assert [counts.get(k, 0) for k in range(3)] == expected
    assert ADMIN.id not in data


COMPANY_GROUP = Group(-1001000000951, "杏林物业服务中心工作群")
STEWARD = Person(973001, "物业管家小孙", "sun_wy")


async def test_a_property_case_reaches_the_company_and_a_quarter_is_rated_and_ranked(
    district: Script, clock: FakeClock, spot: dict[str, float]
) -> None:
    s = district
    await s.say(ADMIN, "/bind QH-P-XL", group=COMPANY_GROUP)
    await s.say(STEWARD, "/start")
    await s.say(ADMIN, "/staff add @sun_wy", group=COMPANY_GROUP)
    owners = [Person(974000 + i, f"业主{i}", f"owner_{i}") for i in range(3)]
    for i, who in enumerate(owners):
        await confirmed(s, who, f"3-{301 + i}")
    # A resident's property complaint without a point: their confirmed home says whose compound it is.
    await s.say(owners[0], "📝 我要上报")
    await s.say(owners[0], "3号楼电梯又坏了 物业一直不来修")
    await s.press(owners[0], "x", data="d:cat:property_service")
    await s.press(owners[0], "x", data="d:place:QH-01-02")
    await s.press(owners[0], "提交")
    cards = texts(sent_to(s.session, COMPANY_GROUP.id))
    assert any("电梯" in c for c in cards), cards
    assert await scalar(s.app, "select department from case_calls") == "QH-P-XL"
    await s.press(STEWARD, "报到", group=COMPANY_GROUP)
    await s.say(STEWARD, "/stats", group=COMPANY_GROUP)
    own = texts(sent_to(s.session, COMPANY_GROUP.id))[-1]
    assert "被叫到 1 件" in own and "按时报到 100%" in own and "完成本单位部分 0%" in own
    # The quarter's rating: asked privately on 1 December, answered once, closed, ranked.
    clock.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    await periodic_jobs(s.app)
    await s.app.sender.drain()
    s._collect()
    for who, score in zip(owners[:2], ("5", "4"), strict=True):
        assert "物业服务测评" in texts(sent_to(s.session, who.id))[-1]
        await s.press(who, "开始测评")
        for _ in range(5):
            await s.press(who, score)
        await s.say(who, "保洁很认真 就是电梯老坏")
        assert "谢谢您的评价" in texts(sent_to(s.session, who.id))[-1]
    await s.press(owners[0], "开始测评")
    assert "您已经参加过这次测评" in alerts(s.session)[-1]
    await s.press(RIDER, "x", data=s.button(owners[2].id, "开始测评")[1])
    assert "只有本小区已确认住址的居民" in alerts(s.session)[-1]
    clock.advance(15 * 24 * 3600)
    await sweep(s.app)
    await s.app.sender.drain()
    s._collect()
    closed = [x for x in texts(sent_to(s.session, COMMUNITY_GROUP.id)) if "物业测评结束" in x]
    assert len(closed) == 1 and "2 位居民参评" in closed[0] and "得分 90.0" in closed[0]
    await s.say(COMMUNITY_STAFF, "/assess", group=COMMUNITY_GROUP)
    ranking = texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    assert "杏林物业服务中心" in ranking and "居民测评 90.0" in ranking
    await s.say(COMMUNITY_STAFF, "/assess 1999Q9", group=COMMUNITY_GROUP)
    assert "用法" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]


async def test_the_desk_shows_matters_heads_and_the_property_ranking_and_records_checks(
    district: Script, desk: str, clock: FakeClock
) -> None:
    from openpyxl import load_workbook

    from tests.test_console import csrf_of, signed_in

    s = district
    await s.say(HEAD, "/start")
    await s.say(WORKER, "/head @zhao_head 杏林小区3号楼", group=GRID_GROUP)
    voter = Person(975001, "投票人", "voter_1")
    await confirmed(s, voter, "1-101")
    await s.say(WORKER, "/4n new 杏林小区3号楼 杏林小区2号楼", group=GRID_GROUP)
    assert "还缺：党员、网格员、物业管家" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await s.say(WORKER, "/4n add 1 @wang_grid 网格员", group=GRID_GROUP)
    assert "网格员：王网格员" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await s.say(RIDER, "/4n add 1 @liu_rider 党员", group=GRID_GROUP)
    assert "只有本网格" in texts(sent_to(s.session, GRID_GROUP.id))[-1]
    await s.say(WORKER, "/vote 楼道装感应灯\n范围：杏林小区", group=GRID_GROUP)
    await s.say(voter, "/start m1")
    await s.press(voter, "不同意")
    clock.advance(8 * 24 * 3600)
    await sweep(s.app)
    await s.say(ADMIN, "/start")
    async with signed_in(s, desk, ADMIN) as http:
        page = (await http.get("/console/residents?unit=QH")).text
        assert "楼道装感应灯" in page and "不同意 1" in page and "1 / 1" in page
        assert "楼栋长老赵" in page and "投票人" not in page  # counts, never who voted
        assert "网格员：王网格员" in page
        page = (await http.get("/console/property")).text
        token = csrf_of(page)
        form = {"csrf": token, "company": "QH-P-XL", "kind": "spot", "period": "2026-13", "score": "80", "note": ""}
        refused = await http.post("/console/property", data=form)
        assert refused.status_code == 400 and "分数要在 0 到 100 之间" in refused.text
        form = {**form, "period": "2026-11", "score": "72.5", "note": "垃圾桶满溢"}
        saved = await http.post("/console/property?quarter=2026Q4", data=form)
        assert saved.status_code == 200 and "已保存" in saved.text and "72.5" in saved.text
        forged = await http.post("/console/property", data={**form, "csrf": "x", "score": "0"})
        assert forged.status_code == 403
        book = await http.get("/console/residents/export?unit=QH&quarter=2026Q4")
        assert book.status_code == 200
    sheets = load_workbook(io.BytesIO(book.content))
    assert sheets.sheetnames == ["议事台账", "楼栋长台账", "4+N小组台账", "物业考核"]
    members = list(sheets["4+N小组台账"].iter_rows(values_only=True))[2:]
    assert ("楼栋长", "楼栋长老赵") in [(r[2], r[3]) for r in members]
    rows = list(sheets["物业考核"].iter_rows(values_only=True))
    assert any(r[1] == "杏林物业服务中心" and r[4] == 72.5 for r in rows[2:])
    assert await scalar(s.app, "select count(*) from assessment_checks") == 1
    assert await scalar(s.app, "select count(*) from console_audit where action = 'check_spot'") == 1


async def test_a_building_head_reports_for_a_resident_and_sees_the_open_cases_of_the_compound(
    district: Script, spot: dict[str, float]
) -> None:
    s = district
    await s.say(HEAD, "/start")
    await s.say(WORKER, "/head @zhao_head 杏林小区3号楼", group=GRID_GROUP)
    await s.say(RIDER, "/start")
    await s.say(RIDER, "/for 周阿姨 2单元301")
    assert "只有楼栋长可以代居民上报" in texts(sent_to(s.session, RIDER.id))[-1]
    await s.say(HEAD, "/for 周阿姨 2单元301 电话13912345678")
    assert "为 周阿姨" in texts(sent_to(s.session, HEAD.id))[-1]
    await s.say(HEAD, "📷 随手拍")
    await s.say(HEAD, "周阿姨家楼上漏水 天花板在滴水")
    assert "代报：为 周阿姨" in texts(sent_to(s.session, HEAD.id))[-1]
    await s.press(HEAD, "x", data="d:cat:building_safety")
    await s.press(HEAD, "x", data="d:place:QH-01-02")
    await s.press(HEAD, "提交")
    card = texts(sent_to(s.session, GRID_GROUP.id))[-1]
    assert "代报：楼栋长为 周阿姨 2单元301 电话139****5678 代报" in card
    assert await scalar(s.app, "select on_behalf from cases") == "周阿姨 2单元301 电话13912345678"
    # Someone else's report elsewhere in the grid is not the head's; one from a confirmed neighbour is.
    await s.say(RIDER, "东门外马路上有个坑")
    await s.press(RIDER, "x", data="d:cat:road_traffic")
    await s.press(RIDER, "x", data="d:place:QH-01-02")
    await s.press(RIDER, "提交")
    await s.say(HEAD, "/home")
    await s.press(HEAD, "本楼案件")
    listed = texts(sent_to(s.session, HEAD.id))[-1]
    assert "漏水" in listed and "马路" not in listed and "骑手" not in listed


def test_vote_commands_are_read_as_staff_write_them() -> None:
    d = parse_matter(
        "加装电梯\n选项：同意/不同意/再议\n范围：杏林小区3号楼\n截止：12月20日\n法定：60%\n按户\n请大家踊跃参与"
    )
    assert (d.title, d.options, d.scope, d.closes_on, d.quorum_pct, d.per) == (
        "加装电梯",
        ["同意", "不同意", "再议"],
        "杏林小区3号楼",
        (12, 20, None),
        60,
        Per.HOUSEHOLD,
    )
    assert d.body == "请大家踊跃参与"
    assert parse_matter("t\ndays: 3").days == 3 and parse_matter("t\n截止：2027-01-05").closes_on == (1, 5, 2027)
    with pytest.raises(Invalid):
        parse_matter("")
    with pytest.raises(Invalid):
        parse_matter("t\n天数：很多")
    assert parse_decision("7 同意\n- 勘察\n2. 公示\n理由如下") == (7, "同意\n理由如下", ["勘察", "公示"])
    with pytest.raises(Invalid):
        parse_decision("七 同意")

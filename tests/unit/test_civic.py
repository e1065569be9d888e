"""Residents decide: homes confirmed by a building head, eligibility, votes counted once, decisions followed up."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from domain.civic.homes import parse_flat
from domain.civic.matters import MatterDraft
from domain.civic.model import Building, Compound, HomeState, MatterState, Per
from domain.civic.places import parse_places
from domain.kernel.errors import Conflict, Forbidden, Invalid
from domain.kernel.events import CaseResolved
from domain.kernel.people import User
from domain.org.model import Level, Unit
from tests.unit.conftest import District


async def _places(d: District) -> None:
    await d.w.svc.ports.places.upsert(
        [Compound("XL", "杏林小区", "G1"), Compound("HY", "和苑", "G2")],
        [Building("XL-1", "1号楼", "XL"), Building("XL-3", "3号楼", "XL"), Building("HY-1", "1栋", "HY")],
    )


async def _resident(d: District, name: str, building: str = "XL-3", room: str = "301") -> User:
    user = await d.w.person(name)
    home = await d.w.svc.civic.homes.register(user, building, f"2单元{room}")
    await d.w.svc.civic.homes.decide(d.community, home.id, True)  # staff of the community: any grid of it
    return user


@pytest.mark.parametrize(
    ("typed", "flat"),
    [("2单元301", ("2", "301")), ("２－３０１", ("2", "301")), ("301", ("", "301")), ("B座 1202室", ("B", "1202")),
     ("2 301", ("2", "301"))],
)  # fmt: skip
def test_flats_are_read_as_people_type_them(typed: str, flat: tuple[str, str]) -> None:
    assert parse_flat(typed) == flat


@pytest.mark.parametrize("typed", ["", "三单元", "301; drop table", "2单元301室 隔壁"])
def test_unreadable_flats_are_refused(typed: str) -> None:
    with pytest.raises(Invalid):
        parse_flat(typed)


def test_district_places_are_checked_whole() -> None:
    units = [Unit("G1", "一网格", Level.GRID, "C1"), Unit("D1", "物业", Level.DEPARTMENT, "S")]
    data = {"type": "FeatureCollection", "features": [
        {"properties": {"code": "XL", "name": "杏林小区", "level": "compound", "parent": "G1", "property": "D1"},
         "geometry": {"type": "Point", "coordinates": [117.0, 36.6]}},
        {"properties": {"code": "XL-1", "name": "1号楼", "level": "building", "parent": "XL"}, "geometry": None},
        {"properties": {"code": "X2", "name": "坏", "level": "compound", "parent": "C1"}, "geometry": None},
        {"properties": {"code": "B9", "name": "孤楼", "level": "building", "parent": "NOPE"}, "geometry": None},
        {"properties": {"code": "B8", "name": "歪点", "level": "building", "parent": "XL"},
         "geometry": {"type": "Point", "coordinates": [500, 36.6]}},
    ]}  # fmt: skip
    compounds, buildings, problems = parse_places(data, units, {})
    assert [c.code for c in compounds] == ["XL"] and compounds[0].property_code == "D1"
    assert {p.code for p in problems} == {"X2", "B9", "B8"}
    assert {b.code for b in buildings} >= {"XL-1"}


async def test_a_head_confirms_a_home_once_and_earns_points(d: District) -> None:
    await _places(d)
    svc = d.w.svc
    head = await d.w.person("楼栋长老王")
    await svc.civic.homes.appoint(d.worker, "XL-3", head)
    with pytest.raises(Forbidden):
        await svc.civic.homes.appoint(d.rider, "XL-3", d.rider)
    resident = await d.w.person("住户小李")
    home = await svc.civic.homes.register(resident, "XL-3", "2单元301")
    review = [n for n in d.w.told.notices if n.kind == "home.review"]
    assert {n.audience.key for n in review} == {str(head.id), str(d.worker.id), str(d.colleague.id)}
    assert "home.waiting" not in d.w.told.kinds()  # the building has a head: the group is not bothered
    headless = await svc.civic.homes.register(await d.w.person("一号楼住户"), "XL-1", "101")
    waiting = [n for n in d.w.told.notices if n.kind == "home.waiting"]
    assert [n.audience.key for n in waiting] == ["G1"] and "room" not in waiting[0].params  # no address there
    assert headless.state is HomeState.PENDING
    with pytest.raises(Forbidden):
        await svc.civic.homes.decide(d.rider, home.id, True)
    assert [v.home.id for v in await svc.civic.homes.pending_for(head)] == [home.id]
    await svc.civic.homes.decide(head, home.id, True)
    with pytest.raises(Conflict):
        await svc.civic.homes.decide(d.worker, home.id, False)
    assert (await svc.civic.homes.mine(resident))[0].home.state is HomeState.CONFIRMED
    assert (await svc.points.standing(head)).balance == svc.rules.points.head_confirm_points
    assert "home.confirmed" in d.w.told.kinds()
    with pytest.raises(Conflict):
        await svc.civic.homes.register(resident, "XL-3", "2-301")


async def test_only_confirmed_residents_of_the_scope_vote_and_the_count_is_exact(d: District) -> None:
    await _places(d)
    svc = d.w.svc
    voters = [await _resident(d, f"住户{i}", room=f"30{i}") for i in range(4)]
    outsider = await _resident(d, "和苑住户", building="HY-1")
    pending = await d.w.person("未确认")
    await svc.civic.homes.register(pending, "XL-3", "2-309")
    with pytest.raises(Forbidden):
        await svc.civic.matters.open(d.rider, "G1", MatterDraft("加装电梯", scope="杏林小区3号楼"))
    matter = await svc.civic.matters.open(d.worker, "G1", MatterDraft("加装电梯", scope="杏林小区3号楼", quorum_pct=60))
    assert matter.eligible == 4 and matter.options == ["同意", "不同意"]
    assert matter.closes_at is not None and matter.closes_at.hour == 12  # 20:00 Beijing
    for who in (outsider, pending):
        with pytest.raises(Forbidden):
            await svc.civic.matters.vote(who, matter.id, 0)
    assert (await svc.civic.matters.vote(voters[0], matter.id, 0))[1] is False
    assert (await svc.civic.matters.vote(voters[0], matter.id, 1))[1] is True  # changed, counted once
    await svc.civic.matters.vote(voters[1], matter.id, 0)
    await svc.civic.matters.vote(voters[2], matter.id, 0)
    with pytest.raises(Invalid):
        await svc.civic.matters.vote(voters[3], matter.id, 7)
    assert await svc.civic.matters.close_due() == 0
    d.w.clock.now = matter.closes_at
    with pytest.raises(Conflict):
        await svc.civic.matters.vote(voters[3], matter.id, 0)
    assert await svc.civic.matters.close_due() == 1 and await svc.civic.matters.close_due() == 0
    closed = await svc.civic.matters.get(matter.id)
    assert closed.state is MatterState.CLOSED and closed.counts == {"0": 2, "1": 1}
    assert closed.turnout == 3 and closed.quorum_met  # 3 of 4 ≥ 60 %
    result = [n for n in d.w.told.notices if n.kind == "matter.result"]
    assert len(result) == 1 and result[0].params["counts"] == [2, 1]


async def test_households_vote_once_whoever_presses(d: District) -> None:
    await _places(d)
    svc = d.w.svc
    a = await _resident(d, "丈夫", room="501")
    b = await _resident(d, "妻子", room="501")
    c = await _resident(d, "邻居", room="502")
    matter = await svc.civic.matters.open(d.worker, "G1", MatterDraft("装门禁", scope="XL", per=Per.HOUSEHOLD))
    assert matter.eligible == 2
    await svc.civic.matters.vote(a, matter.id, 0)
    _, changed = await svc.civic.matters.vote(b, matter.id, 1)
    await svc.civic.matters.vote(c, matter.id, 1)
    d.w.later(days=8)
    await svc.civic.matters.close_due()
    assert changed and (await svc.civic.matters.get(matter.id)).counts == {"1": 2}


async def test_a_proposal_is_answered_and_a_decision_becomes_cases_the_voters_hear_of(d: District) -> None:
    await _places(d)
    svc = d.w.svc
    with pytest.raises(Forbidden):
        await svc.civic.matters.propose(d.rider, "小区里装充电桩")
    proposer = await _resident(d, "提议人")
    first = await svc.civic.matters.propose(proposer, "楼下装晾衣架\n方便老人晒被子")
    await svc.civic.matters.decline(d.worker, first.id, "消防通道不能占用")
    assert (await svc.civic.matters.get(first.id)).state is MatterState.DECLINED
    assert "matter.declined" in d.w.told.kinds()
    matter = await svc.civic.matters.propose(proposer, "小区里装电动车充电桩\n楼道充电太危险")
    await svc.civic.matters.accept(d.worker, matter.id)
    with pytest.raises(Conflict):
        await svc.civic.matters.accept(d.worker, matter.id)
    await svc.civic.matters.vote(proposer, matter.id, 0)
    with pytest.raises(Conflict):
        await svc.civic.matters.decide(d.worker, matter.id, "装", ["联系供电公司"])  # not counted yet
    d.w.later(days=8)
    await svc.civic.matters.close_due()
    follow_ups = await svc.civic.matters.decide(d.worker, matter.id, "同意安装", ["联系供电公司勘察", "划定充电区域"])
    assert [f.case_number != "" for f in follow_ups] == [True, True]
    case = await d.w.cases.get(follow_ups[0].case_id or 0)
    assert case is not None and case.unit_code == "G1"
    told = [n for n in d.w.told.notices if n.kind == "matter.decided"]
    assert {n.audience.key for n in told} == {"G1", str(proposer.id)}
    await svc.civic.matters.case_resolved(CaseResolved(case.id, case.number, d.worker.id, "other", "G1"))
    done = [n for n in d.w.told.notices if n.kind == "matter.done"]
    assert {n.audience.key for n in done} == {"G1", str(proposer.id)}


async def test_bad_matters_are_refused_politely(d: District) -> None:
    await _places(d)
    svc = d.w.svc
    for draft in (MatterDraft(""), MatterDraft("x" * 61), MatterDraft("t", options=["a"]),
                  MatterDraft("t", options=["a", "a"]), MatterDraft("t", days=0), MatterDraft("t", quorum_pct=101),
                  MatterDraft("t", scope="没有这个小区")):  # fmt: skip
        with pytest.raises(Invalid):
            await svc.civic.matters.open(d.worker, "G1", draft)
    assert svc.ports.matters.rows == {}  # type: ignore[attr-defined]
    d.w.clock.now += timedelta(0)


async def test_a_property_case_in_a_served_compound_calls_its_company(d: District) -> None:
    svc = d.w.svc
    await svc.ports.places.upsert(
        [Compound("XL", "杏林小区", "G1", "D1", {"type": "Point", "coordinates": [117.0, 36.6]})],
        [Building("XL-3", "3号楼", "XL")],
    )
    resident = await _resident(d, "业主")

    async def report(who: User, category: str, lat: float | None = None, lon: float | None = None) -> int:
        await svc.reports.start(who)
        await svc.reports.add_text(who, "电梯又坏了 物业不管", None)
        await svc.reports.choose_unit(who, "G1")
        await svc.reports.choose_category(who, category)
        draft = await svc.ports.drafts.get(who.id)
        if lat is not None and draft is not None:
            draft.lat, draft.lon = lat, lon
            await svc.ports.drafts.save(draft)
        case, _ = await svc.reports.submit(who)
        return case.id

    by_home = await report(resident, "property_service")  # no point: the reporter's confirmed home
    by_point = await report(d.rider, "property_service", 36.6003, 117.0002)  # ~40 m from the compound's point
    elsewhere = await report(d.rider, "property_service", 36.7, 117.1)
    other = await report(resident, "fire_safety")
    assert [c.department for c in await d.w.svc.ports.calls.of_case(by_home)] == ["D1"]
    assert [c.department for c in await d.w.svc.ports.calls.of_case(by_point)] == ["D1"]
    assert await d.w.svc.ports.calls.of_case(elsewhere) == []
    assert await d.w.svc.ports.calls.of_case(other) == []
    call = (await d.w.svc.ports.calls.of_case(by_home))[0]
    assert call.called_by is None  # the system called it


async def test_a_quarter_of_property_rating_checks_and_the_ranking(d: District) -> None:
    svc = d.w.svc
    d.w.units.rows["D2"] = Unit("D2", "和苑物业", Level.DEPARTMENT, "S")
    await svc.ports.places.upsert(
        [Compound("XL", "杏林小区", "G1", "D1"), Compound("HY", "和苑", "G2", "D2")],
        [Building("XL-3", "3号楼", "XL"), Building("HY-1", "1栋", "HY")],
    )
    rating = svc.civic.rating
    owners = [await _resident(d, f"业主{i}", room=f"40{i}") for i in range(3)]
    assert await rating.open_due() == 0  # 23 November: the Q4 rating opens on 1 December
    d.w.clock.now = d.w.clock.now.replace(month=12, day=1, hour=2)  # 10:00 Beijing
    assert await rating.open_due() == 1 and await rating.open_due() == 0  # HY has no residents: no round
    asks = [n for n in d.w.told.notices if n.kind == "rating.ask"]
    assert sorted(int(n.audience.key) for n in asks) == sorted(o.id for o in owners)  # HY has no residents yet
    rid = asks[0].actions[0].ref
    items = len(svc.rules.civic.plan.items)
    for owner, score in zip(owners[:2], (5, 3), strict=True):
        assert await rating.start(owner, rid) == 0
        for i in range(items):
            assert await rating.score(owner, rid, i, score) == i + 1
        await rating.finish(owner, rid, "保安很负责 电话13912345678")
    with pytest.raises(Conflict):
        await rating.start(owners[0], rid)  # once per person
    with pytest.raises(Invalid):
        await rating.finish(owners[2], rid)  # nothing scored yet
    with pytest.raises(Forbidden):
        await rating.start(d.rider, rid)
    with pytest.raises(Invalid):
        await rating.score(owners[2], rid, items, 5)
    await rating.record(d.street, "D1", "spot", "2026-11", 70, "垃圾清运不及时")
    await rating.record(d.community, "D1", "review", "2026", 90, "")
    await rating.record(d.street, "D2", "spot", "2026-12", 50, "消防通道堵塞")
    with pytest.raises(Forbidden):
        await rating.record(d.rider, "D1", "spot", "2026-11", 100, "")
    with pytest.raises(Invalid):
        await rating.record(d.street, "D1", "spot", "2026-13", 80, "")
    quarter, ranked = await rating.ranking()
    assert quarter == "2026Q4" and [r.code for r in ranked] == ["D1", "D2"]
    best = ranked[0]
    assert best.parts == {"residents": 80.0, "spot_checks": 70.0, "review": 90.0} and best.respondents == 2
    assert best.total == pytest.approx((80 * 40 + 70 * 30 + 90 * 10) / 80)
    assert not best.flagged and ranked[1].flagged and ranked[1].total == 50.0
    newcomer = await _resident(d, "新住户", room="409")  # confirmed while the rating is open: asked too
    assert any(n.kind == "rating.ask" and n.audience.key == str(newcomer.id) for n in d.w.told.notices)
    d.w.later(days=15)
    assert await rating.close_due() == 1
    closed = [n for n in d.w.told.notices if n.kind == "rating.closed"]
    assert {n.audience.key for n in closed} == {"C1"}
    assert {n.params["compound"]: n.params["respondents"] for n in closed} == {"杏林小区": 2}
    answers = await svc.ports.assessments.answers([rid])
    assert all("139****5678" in a.comment for a in answers)


async def test_4n_teams_are_formed_by_the_grid_and_heads_serve_monthly(d: District) -> None:
    await _places(d)
    svc = d.w.svc
    head = await d.w.person("楼栋长")
    await svc.civic.homes.appoint(d.worker, "XL-3", head)
    teams = svc.civic.teams
    with pytest.raises(Forbidden):
        await teams.form(d.rider, "G1", ["杏林小区1号楼", "杏林小区3号楼"])
    with pytest.raises(Invalid):
        await teams.form(d.worker, "G1", ["杏林小区1号楼", "和苑1栋"])  # two grids (和苑 is in G2)
    team = await teams.form(d.worker, "G1", ["杏林小区1号楼", "杏林小区3号楼"])
    assert team.members == [("楼栋长", "head")] and team.missing == ["party", "grid", "steward"]
    with pytest.raises(Conflict):
        await teams.form(d.worker, "G1", ["杏林小区3号楼"])
    team = await teams.name(d.worker, team.id, d.worker, "grid")
    with pytest.raises(Invalid):
        await teams.name(d.worker, team.id, d.rider, "boss")
    assert [r for _, r in team.members] == ["grid", "head"]
    assert [t.id for t in await teams.of_unit("C1")] == [team.id]
    # A month of service: the head appointed on 23 November has served no whole month until December is over.
    assert await svc.civic.homes.monthly_service() == 0
    d.w.clock.now = d.w.clock.now.replace(year=2027, month=1, day=2)
    assert await svc.civic.homes.monthly_service() == 1
    await svc.civic.homes.monthly_service()
    assert (await svc.points.standing(head)).balance == svc.rules.points.head_month_points  # once a month


async def test_a_closing_day_is_counted_from_today(d: District) -> None:
    await _places(d)
    svc = d.w.svc
    m = await svc.civic.matters.open(d.worker, "G1", MatterDraft("装门禁", scope="XL", closes_on=(11, 30, None)))
    assert m.closes_at is not None and m.closes_at.day == 30 and m.closes_at.month == 11  # 7 days after 23 Nov
    with pytest.raises(Invalid):
        await svc.civic.matters.open(d.worker, "G1", MatterDraft("t", closes_on=(11, 23, 2026)))  # today: 0 days
    with pytest.raises(Invalid):
        await svc.civic.matters.open(d.worker, "G1", MatterDraft("t", closes_on=(2, 30, None)))


def test_a_property_company_may_have_its_own_report_in_time(tmp_path: Path) -> None:
    from domain.cases.sla import DEFAULT_POLICY, PolicyError, load_policy

    text = DEFAULT_POLICY.read_text(encoding="utf-8").replace(
        "  report_in_urgent: 10 minutes\n",
        "  report_in_urgent: 10 minutes\n  units:\n    QH-P-XL: {report_in: 30 minutes}\n",
        1,
    )
    path = tmp_path / "sla.yml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    assert policy.report_in("QH-P-XL", False).amount == 30 and policy.report_in("QH-D-CG", False).amount == 2
    path.write_text(text.replace("report_in: 30 minutes", "report_im: 30 minutes"), encoding="utf-8")
    with pytest.raises(PolicyError, match="report_im"):
        load_policy(path)

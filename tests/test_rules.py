"""The rules on in-memory fakes of the ports: the lifecycle table, access, rewards and seats, in microseconds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.cases import lifecycle
from domain.cases.lifecycle import Actor, Standing
from domain.cases.model import Case, CaseState, Draft
from domain.kernel.errors import Conflict, Forbidden, Invalid
from domain.kernel.notices import AudienceKind, PostMode
from domain.kernel.people import Role, User, UserRef
from domain.org.model import Level
from domain.volunteering.activity_file import ActivitySpec
from handlers.views.plain import plain_text
from tests.fakes.memory import World, world

S = CaseState


def a_case(state: CaseState = S.NEW, unit: str = "G1") -> Case:
    from datetime import UTC, datetime

    return Case(
        1, "SB1", 9, Role.RIDER, "楼道堆了纸箱", "fire_safety", unit, state, 1, datetime(2026, 1, 1, tzinfo=UTC)
    )


OPEN_ANY = ["recategorize", "urgent", "pause", "note"]


def standing(level: Level, actors: set[Actor], **facts: bool) -> Standing:
    """A standing towards a case of a unit at this level (with a parent unless it is the street)."""
    return Standing(frozenset(actors), level, has_parent=level is not Level.STREET, **facts)


@pytest.mark.parametrize(
    ("state", "level", "actors", "expected"),
    [
        (S.NEW, Level.GRID, {Actor.HANDLER}, ["claim", "assign", "reject", *OPEN_ANY, "escalate", "merge"]),
        (S.NEW, Level.COMMUNITY, {Actor.HANDLER}, ["claim", "assign", "dispatch", *OPEN_ANY, "escalate", "merge"]),
        (S.NEW, Level.STREET, {Actor.HANDLER}, ["claim", "assign", "dispatch", *OPEN_ANY, "merge"]),
        (S.CLAIMED, Level.GRID, {Actor.HANDLER}, ["onsite", "reject", *OPEN_ANY, "escalate", "merge"]),
        (
            S.CLAIMED,
            Level.COMMUNITY,
            {Actor.HANDLER, Actor.SUPERVISOR},
            ["onsite", *OPEN_ANY, "escalate", "reassign", "takeover", "urge", "merge"],
        ),
        (S.ON_SITE, Level.GRID, {Actor.HANDLER}, ["resolve", *OPEN_ANY, "escalate", "merge"]),
        (S.RESOLVED, Level.GRID, {Actor.HANDLER}, ["note", "follow_up"]),
        (S.RESOLVED, Level.GRID, {Actor.REPORTER}, ["rate", "reopen"]),
        (S.RESOLVED, Level.GRID, {Actor.SYSTEM}, ["remind_rating", "close_unrated"]),
        # 首接负责: the sweeper moves only an unclaimed case up; a held one is supervised, never taken.
        (S.NEW, Level.GRID, {Actor.SYSTEM}, ["climb", "overdue"]),
        (S.CLAIMED, Level.GRID, {Actor.SYSTEM}, ["supervise", "overdue"]),
        (S.ON_SITE, Level.COMMUNITY, {Actor.SYSTEM}, ["supervise", "overdue"]),
        (S.NEW, Level.GRID, {Actor.REPORTER}, []),
        (S.CLOSED, Level.GRID, {Actor.HANDLER, Actor.REPORTER}, ["note"]),
    ],
)
def test_the_table_says_who_may_do_what_when(
    state: CaseState, level: Level, actors: set[Actor], expected: list[str]
) -> None:
    assert lifecycle.actions_for(a_case(state), standing(level, actors)) == expected


def test_conditions_beyond_state_and_level() -> None:
    case = a_case(S.CLAIMED, "C1")
    roles = {Actor.HANDLER, Actor.WHISTLER, Actor.STREET}
    plain = lifecycle.actions_for(case, standing(Level.COMMUNITY, roles))
    assert "whistle" not in plain and "override" not in plain and "resume" not in plain
    rich = lifecycle.actions_for(
        case, standing(Level.COMMUNITY, roles, departments=True, calls_pending=True, paused=True)
    )
    assert {"whistle", "override", "resume"} <= set(rich) and "pause" not in rich


def test_buttons_are_the_table_not_a_second_copy() -> None:
    case = a_case(S.NEW)
    actions = lifecycle.group_actions(case, standing(Level.GRID, {Actor.HANDLER}))
    assert [a.name for a in actions] == ["case.claim", "case.reject", "case.recategorize"]
    assert all(a.rev == case.rev and a.ref == case.id for a in actions)
    community = lifecycle.group_actions(
        case, standing(Level.COMMUNITY, {Actor.HANDLER, Actor.WHISTLER}, departments=True)
    )
    assert [a.name for a in community] == ["case.claim", "case.dispatch", "case.recategorize", "case.whistle"]
    verdicts = lifecycle.reporter_actions(a_case(S.RESOLVED), standing(Level.GRID, {Actor.REPORTER}))
    assert [(a.name, a.value) for a in verdicts] == [
        ("case.rate", "satisfied"),
        ("case.rate", "basic"),
        ("case.reopen", "unsatisfied"),
    ]
    supervision = lifecycle.supervision_actions(a_case(S.ON_SITE), standing(Level.GRID, {Actor.SUPERVISOR}))
    assert [a.name for a in supervision] == ["case.takeover", "case.reassign", "case.urge"]


async def submitted(w: World, reporter: User, unit: str = "G1") -> Case:
    await w.svc.reports.start(reporter)
    await w.svc.reports.add_text(reporter, "楼道堆了纸箱 13912345678", None)
    await w.svc.reports.choose_unit(reporter, unit)
    case, _ = await w.svc.reports.submit(reporter)
    return case


async def test_claim_resolve_rate_earns_points_and_tells_everyone() -> None:
    w = world()
    rider, worker = await w.person("rider"), await w.person("worker", staff_of="G1")
    case = await submitted(w, rider)
    post = w.told.notices[-1]
    assert (post.kind, post.audience.key, post.mode) == ("case.card", "G1", PostMode.NEW)
    assert "139****5678" in str(post.params["description"])  # a group never sees the number
    outsider = await w.person("outsider", staff_of="G3")
    with pytest.raises(Forbidden):
        await w.svc.cases.act(case.id, "claim", case.rev, outsider)
    case = await w.svc.cases.act(case.id, "claim", case.rev, worker)
    with pytest.raises(Conflict):
        await w.svc.cases.act(case.id, "claim", 1, worker)  # a stale button
    case = await w.svc.cases.act(case.id, "onsite", case.rev, worker)
    await w.svc.cases.act(case.id, "resolve", case.rev, worker)  # asks for the note first
    case = await w.svc.cases.resolve(worker, "已清理", None)
    assert case.state is S.RESOLVED
    assert (await w.ledger.standing(rider.id))[0] == 5  # the default reward, once
    case = await w.svc.cases.act(case.id, "rate", case.rev, rider, "satisfied")
    assert case.state is S.CLOSED
    lines = [plain_text(n) for n in w.told.notices]
    assert any("已由工作人员 worker 接单" in ln for ln in lines)
    assert any(ln.startswith("→ person") and "获得 5 积分" in ln for ln in lines)
    assert all("rider" not in str(n.params) for n in w.told.notices if n.audience.kind is AudienceKind.UNIT)


async def test_unsatisfied_reopens_with_a_fresh_post_and_no_second_reward() -> None:
    w = world()
    rider, worker = await w.person("rider"), await w.person("worker", staff_of="G1")
    case = await submitted(w, rider)
    for action in ("claim", "onsite", "resolve"):
        case = await w.svc.cases.act(case.id, action, case.rev, worker)
    case = await w.svc.cases.resolve(worker, "好了", None)
    with pytest.raises(Forbidden):
        await w.svc.cases.act(case.id, "reopen", case.rev, worker)  # only the reporter rates
    w.told.notices.clear()
    case = await w.svc.cases.act(case.id, "reopen", case.rev, rider, "unsatisfied")
    assert (case.state, case.reopen_count, case.assignee_id) == (S.NEW, 1, None)
    modes = [(n.kind, n.mode) for n in w.told.notices]
    assert modes[:2] == [("case.card", PostMode.CLOSE), ("case.card", PostMode.NEW)]
    for action in ("claim", "onsite", "resolve"):
        case = await w.svc.cases.act(case.id, action, case.rev, worker)
    await w.svc.cases.resolve(worker, "这次真好了", None)
    assert (await w.ledger.standing(rider.id))[0] == 5  # keyed by case


async def test_reject_and_dispatch_move_the_case_by_level() -> None:
    w = world()
    rider = await w.person("rider")
    grid, community = await w.person("grid", staff_of="G1"), await w.person("comm", staff_of="C1")
    case = await submitted(w, rider)
    case = await w.svc.cases.act(case.id, "reject", case.rev, grid)
    assert case.unit_code == "C1" and case.state is S.NEW
    with pytest.raises(Invalid):
        await w.svc.cases.act(case.id, "reject", case.rev, community)  # a community cannot say 非本网格
    with pytest.raises(Forbidden):
        await w.svc.cases.act(case.id, "dispatch", case.rev, grid, "G2")  # grid staff are not the community's
    case = await w.svc.cases.act(case.id, "dispatch", case.rev, community, "G2")
    assert case.unit_code == "G2"
    # Staff of an ancestor may act below; staff of a sibling may not.
    assert await w.svc.org.may_handle(community, "G2")
    assert not await w.svc.org.may_handle(grid, "G2")


async def test_admins_may_act_anywhere() -> None:
    w = world(admins=frozenset({UserRef("test", "boss")}))
    boss = await w.person("boss")
    assert await w.svc.org.may_handle(boss, "G3")


async def test_recategorize_moves_a_dispute_to_the_community() -> None:
    w = world()
    rider, worker = await w.person("rider"), await w.person("worker", staff_of="G1")
    case = await submitted(w, rider)
    case = await w.svc.cases.act(case.id, "recategorize", case.rev, worker, "neighbor_dispute")
    assert (case.unit_code, case.category) == ("C1", "neighbor_dispute")
    assert w.svc.ports.examples.rows[-1].category == "neighbor_dispute"  # type: ignore[attr-defined]


def test_a_draft_needs_a_description_and_a_place() -> None:
    d = Draft(user_id=1, photo_file_id="p")
    assert not d.has_description and not d.has_place
    d.category, d.unit_code = "parking", "G1"
    assert d.has_description and d.has_place


async def test_seats_waitlist_and_promotion() -> None:
    w = world()
    start = w.clock.now + timedelta(days=2)
    spec = ActivitySpec("C1", "清理", "", "3号楼", None, None, start, start + timedelta(hours=2), 2, "fixed", 5)
    act = await w.svc.activities.publish(spec)
    a, b, c = [await w.person(n) for n in "abc"]
    assert (await w.svc.activities.join(a, act.id))[1].state == "confirmed"
    assert (await w.svc.activities.join(b, act.id))[1].state == "confirmed"
    assert (await w.svc.activities.join(c, act.id))[1].state == "waitlisted"
    assert (await w.svc.activities.join(a, act.id))[1].state == "confirmed"  # a repeat tap
    await w.svc.activities.cancel(a, act.id)
    assert (await w.activities.signup(act.id, c.id)).state == "confirmed"  # type: ignore[union-attr]
    assert w.activities.rows[act.id].taken == 2
    assert "remind:1:1" in w.told.withdrawn
    assert any(n.kind == "activity.promoted" and n.audience.user_id == c.id for n in w.told.notices)


async def test_an_activity_is_found_by_what_people_call_it() -> None:
    w = world()
    start = w.clock.now + timedelta(days=2)
    for title in ("楼道清理", "重阳节敬老院包饺子", "周六义诊"):
        spec = ActivitySpec("C1", title, "", "3号楼", None, None, start, start + timedelta(hours=2), 5, "fixed", 5)
        await w.svc.activities.publish(spec)
    named = w.svc.activities.named_in
    assert (await named("我想报名参加楼道杂物清理那个活动")).title == "楼道清理"  # type: ignore[union-attr]
    assert (await named("敬老院包饺子算我一个")).title == "重阳节敬老院包饺子"  # type: ignore[union-attr]
    assert (await named("周六的义诊给我报个名")).title == "周六义诊"  # type: ignore[union-attr]
    # A shared weekday or a single word names nothing.
    assert await named("周六有什么活动") is None
    assert await named("我想当志愿者") is None


async def test_points_never_go_below_zero_and_stars_follow_hours() -> None:
    w = world()
    v = await w.person("v")
    await w.svc.points.earn(v.id, 10, "x", "k1")
    assert not await w.svc.points.earn(v.id, 10, "x", "k1")  # same key: once
    with pytest.raises(Conflict):
        await w.svc.points.spend(v.id, 11, "y", "k2")
    assert await w.svc.points.add_hours(v.id, 100, "backfill", "h1") == 1
    assert await w.svc.points.add_hours(v.id, -50, "correction", "h2") is None
    assert (await w.ledger.standing(v.id))[2] == 0  # the star follows the corrected hours down
